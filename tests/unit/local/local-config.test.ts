import { describe, expect, it } from '@jest/globals';
import { CrashBackoff } from '../../../services/shared/index.js';
import { parseLocalCommand } from '../../../services/local/config.js';
import { LocalError } from '../../../services/local/errors.js';

function problems(argv: string[], env: Record<string, string> = {}): string {
  try {
    parseLocalCommand(argv, env, '/repo');
  } catch (err) {
    if (err instanceof LocalError && err.code === 'LOCAL_ERR_CONFIG') return err.message;
    throw err;
  }
  throw new Error('expected LOCAL_ERR_CONFIG');
}

describe('local run configuration', () => {
  it('when nothing is set, then the defaults apply and the data folder is under the working directory', () => {
    const command = parseLocalCommand([], {}, '/repo');
    expect(command).toEqual({
      kind: 'run',
      config: expect.objectContaining({ workers: 3, balancerPort: 8080, balancerAdminPort: 9090, workerPort: 8081, workerAdminPort: 9091, postgresPort: 54329, dataDir: '/repo/.data' }),
    });
  });

  it('when a flag and its variable are both set, then the flag wins', () => {
    const command = parseLocalCommand(['--workers', '5'], { FLOTILLA_WORKERS: '2', FLOTILLA_DATA_DIR: '/tmp/x' }, '/repo');
    expect(command.kind === 'run' && command.config).toMatchObject({ workers: 5, dataDir: '/tmp/x' });
  });

  it('when several values are bad, then one error lists each with its source', () => {
    const message = problems(['--workers=40', '--restart-backoff-ms=5'], { FLOTILLA_PORT: '-1', FLOTILLA_LOG_LEVEL: 'chatty' });
    expect(message).toContain('--workers: "40"');
    expect(message).toContain('FLOTILLA_PORT: "-1"');
    expect(message).toContain('FLOTILLA_LOG_LEVEL: "chatty"');
    expect(message).toContain('--restart-backoff-ms: "5"');
  });

  it('when worker port ranges overlap another port, then the clash is named', () => {
    expect(problems(['--workers=3', '--worker-port=9000', '--worker-admin-port=9002'])).toContain('port 9002 is used twice (worker 1 admin and worker 3)');
  });
});

describe('crash backoff', () => {
  it('when a process keeps crashing, then the delay doubles up to the cap, and resets after a stable run', () => {
    const backoff = new CrashBackoff(100, 1_000, 30_000);
    expect([0, 0, 0, 0, 0].map(() => backoff.next(50))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoff.next(31_000)).toBe(100);
  });
});
