#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { errorCode } from '../shared/index.js';
import { formatBanner } from './banner.js';
import { localUsage, parseLocalCommand } from './config.js';
import { LocalError } from './errors.js';
import { LocalSupervisor } from './supervisor.js';

/** dist/services/local/main.js -> the repository root, where dist/ and node_modules/ are. */
const REPO_ROOT = fileURLToPath(new URL('../../..', import.meta.url));

function say(message: string): void {
  process.stdout.write(`[local ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

/**
 * `npm start`: runs the whole system locally until SIGINT/SIGTERM. Exit 2 for
 * bad flags or environment, 1 when start-up fails, 0 after a clean stop.
 */
async function main(): Promise<number> {
  let command;
  try {
    command = parseLocalCommand(process.argv.slice(2), process.env, process.cwd());
  } catch (err) {
    if (err instanceof LocalError) {
      process.stderr.write(`flotilla local: ${err.message}\n\n${localUsage()}`);
      return 2;
    }
    throw err;
  }
  if (command.kind === 'help') {
    process.stdout.write(localUsage());
    return 0;
  }
  const supervisor = new LocalSupervisor(command.config, {
    env: process.env,
    node: process.execPath,
    repoRoot: REPO_ROOT,
    uid: process.getuid?.(),
    pid: process.pid,
    log: say,
  });

  let signalled = false;
  let stopRequested: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => {
    stopRequested = resolve;
  });
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalled) {
      say(`${signal} again: still stopping (services get up to 35 s to drain before SIGKILL)`);
      return;
    }
    signalled = true;
    say(`${signal}: stopping balancer and workers, then Postgres`);
    stopRequested();
    void supervisor.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);

  try {
    say(`starting ${command.config.workers} workers, the balancer and Postgres (data in ${command.config.dataDir})`);
    await supervisor.start();
    say(formatBanner(supervisor.state(), process.cwd(), supervisor.stateFile, supervisor.logsDir()));
  } catch (err) {
    await supervisor.stop();
    if (signalled) {
      say('stopped');
      return 0;
    }
    process.stderr.write(`flotilla local: ${errorCode(err) ?? 'LOCAL_ERR'}: ${(err as Error).message}\n`);
    return 1;
  }
  await stopSignal;
  await supervisor.stop();
  say('stopped; nothing left running');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`flotilla local: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
