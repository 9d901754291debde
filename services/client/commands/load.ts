import { randomBytes } from 'node:crypto';
import { readStateFile } from '../../local/index.js';
import { boolFlag, stringFlag, type CommandSpec, type FlagValues } from '../command.js';
import { CliError, usageError } from '../errors.js';
import { requireLocalRun } from '../local-run.js';
import { CHAOS_MODES, type ChaosMode } from '../load/chaos.js';
import { DEFAULT_MIX, parseMix } from '../load/op-mix.js';
import { formatReport } from '../load/report.js';
import { runLoad, type LoadOptions } from '../load/runner.js';
import { parseDuration, parseIntInRange } from '../values.js';

/**
 * Longer than the balancer's total deadline (15 s by default): giving up
 * earlier would leave requests the balancer is still retrying, whose outcome
 * the check could then not know.
 */
const LOAD_TIMEOUT_MS = 20_000;

function parseLoadOptions(flags: FlagValues, url: string, timeoutMs: number | undefined, progress: boolean): LoadOptions {
  const durationText = stringFlag(flags, 'duration');
  const requestsText = stringFlag(flags, 'requests');
  if (durationText !== undefined && requestsText !== undefined) throw usageError('--duration and --requests exclude each other; pick one bound');
  const requests = requestsText === undefined ? undefined : parseIntInRange('requests', requestsText, 1, 100_000_000);
  const durationMs = requests !== undefined ? undefined : parseDuration('duration', durationText ?? '10s');
  const chaosText = stringFlag(flags, 'chaos');
  if (chaosText !== undefined && !(CHAOS_MODES as readonly string[]).includes(chaosText)) {
    throw usageError(`--chaos: "${chaosText}" is not one of ${CHAOS_MODES.join(', ')}`);
  }
  for (const name of ['chaos-interval', 'chaos-pause']) {
    if (chaosText === undefined && stringFlag(flags, name) !== undefined) throw usageError(`--${name} needs --chaos`);
  }
  const intervalMs = parseDuration('chaos-interval', stringFlag(flags, 'chaos-interval') ?? '3s');
  const runId = stringFlag(flags, 'run-id') ?? randomBytes(4).toString('hex');
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(runId)) throw usageError('--run-id: 1..32 letters, digits, "-" or "_"');
  return {
    url,
    durationMs,
    requests,
    concurrency: parseIntInRange('concurrency', stringFlag(flags, 'concurrency') ?? '16', 1, 1_024),
    mix: parseMix(stringFlag(flags, 'mix') ?? DEFAULT_MIX),
    keysPerUser: parseIntInRange('keys', stringFlag(flags, 'keys') ?? '16', 1, 10_000),
    counters: parseIntInRange('counters', stringFlag(flags, 'counters') ?? '4', 1, 10_000),
    check: boolFlag(flags, 'check'),
    chaos:
      chaosText === undefined
        ? undefined
        : { mode: chaosText as ChaosMode, intervalMs, pauseMs: parseDuration('chaos-pause', stringFlag(flags, 'chaos-pause') ?? String(Math.min(2_000, Math.round(intervalMs / 2)))) },
    timeoutMs: timeoutMs ?? LOAD_TIMEOUT_MS,
    resolveAttempts: parseIntInRange('settle-retries', stringFlag(flags, 'settle-retries') ?? '5', 0, 50),
    runId,
    progress: progress && !boolFlag(flags, 'no-progress'),
  };
}

export const load: CommandSpec = {
  name: 'load',
  args: '',
  summary: 'generate load; --check verifies the guarantees, --chaos disturbs the local run meanwhile',
  flags: {
    duration: { type: 'string' },
    requests: { type: 'string' },
    concurrency: { type: 'string' },
    mix: { type: 'string' },
    keys: { type: 'string' },
    counters: { type: 'string' },
    check: { type: 'boolean' },
    chaos: { type: 'string' },
    'chaos-interval': { type: 'string' },
    'chaos-pause': { type: 'string' },
    'settle-retries': { type: 'string' },
    'run-id': { type: 'string' },
    'no-progress': { type: 'boolean' },
  },
  flagHelp: [
    '--duration <d>           run this long (default 10s; e.g. 500ms, 30s, 2m)',
    '--requests <n>           or stop after n requests',
    '--concurrency <n>        virtual users, one request in flight each (default 16)',
    `--mix <op=w,...>         operation weights over put, get, del, incr, cget (default ${DEFAULT_MIX})`,
    '--keys <n>               keys per virtual user (default 16)',
    '--counters <n>           shared counters (default 4)',
    '--check                  record acknowledged writes and increments, read all back; exit 3 on lost writes,',
    '                         duplicate or lost increments, stale reads or replay mismatches',
    '--chaos kill|term|stop   local run only: SIGKILL, SIGTERM or SIGSTOP (then SIGCONT) a random worker',
    '--chaos-interval <d>     time between chaos events (default 3s)',
    '--chaos-pause <d>        with stop: how long a worker stays paused (default half the interval, at most 2s)',
    '--settle-retries <n>     same-key retries that settle an uncertain write (default 5)',
    '--run-id <id>            names this run\'s keys load-<id>-... (default random)',
    '--no-progress            no live progress line (it is shown only on a terminal anyway)',
    '--timeout <d>            per-request timeout (default 20s, above the balancer\'s total deadline)',
  ],
  minPositionals: 0,
  maxPositionals: 0,
  run: async (context) => {
    const { global, io } = context;
    const options = parseLoadOptions(context.flags, global.url, global.timeoutMs, io.stderrIsTty);
    if (options.chaos !== undefined) {
      const state = requireLocalRun(global.stateFile);
      if (state.balancer.url !== global.url && !state.workers.some((worker) => worker.url === global.url)) {
        io.err(`flotilla: warning: --chaos signals the workers of the local run at ${state.balancer.url}, but the load goes to ${global.url}\n`);
      }
    }
    const result = await runLoad(options, {
      now: () => io.now(),
      random: Math.random,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      progressWrite: (text) => io.err(text),
      readState: () => {
        try {
          return readStateFile(global.stateFile);
        } catch {
          return undefined;
        }
      },
      signal: context.signal,
    });
    const { report, distribution } = result;
    if (global.json) io.out(`${JSON.stringify(report, null, 2)}\n`);
    else io.out(formatReport(report, distribution));
    if (report.check !== null && !report.check.passed) {
      throw new CliError('CLI_ERR_CHECK_FAILED', 'load --check found broken guarantees (see the report)');
    }
    return 0;
  },
};
