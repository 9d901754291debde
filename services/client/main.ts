#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { errorCode } from '../shared/errors.js';
import type { CommandSpec, Io } from './command.js';
import { cluster } from './commands/cluster.js';
import { counterGet, counterIncr } from './commands/counter.js';
import { kvDel, kvGet, kvList, kvPut } from './commands/kv.js';
import { load } from './commands/load.js';
import { GLOBAL_FLAGS, resolveGlobalOptions } from './config.js';
import { CliError, usageError } from './errors.js';
import { commandUsage, mainUsage } from './usage.js';

const COMMANDS: readonly CommandSpec[] = [kvGet, kvPut, kvDel, kvList, counterIncr, counterGet, cluster, load];

/** "kv get ..." -> the spec and the remaining arguments; the command words come first. */
function findCommand(argv: readonly string[]): { spec: CommandSpec; rest: string[] } {
  const [first, second] = argv;
  const two = COMMANDS.find((spec) => spec.name === `${first} ${second}`);
  if (two !== undefined) return { spec: two, rest: argv.slice(2) };
  const one = COMMANDS.find((spec) => spec.name === first);
  if (one !== undefined) return { spec: one, rest: argv.slice(1) };
  const group = COMMANDS.filter((spec) => spec.name.startsWith(`${first} `)).map((spec) => spec.name);
  if (group.length > 0) {
    throw usageError(second === undefined ? `"${first}" needs a subcommand: ${group.join(', ')}` : `unknown command "${first} ${second}" (try: ${group.join(', ')})`);
  }
  throw usageError(`unknown command "${first}" (commands: ${[...new Set(COMMANDS.map((spec) => spec.name.split(' ')[0]))].join(', ')}; see --help)`);
}

async function main(argv: readonly string[], io: Io, signal: AbortSignal): Promise<number> {
  if (argv.length === 0) {
    io.err(mainUsage(COMMANDS));
    return 2;
  }
  if (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(mainUsage(COMMANDS));
    return 0;
  }
  const { spec, rest } = findCommand(argv);
  // Only `load` has something to finish on Ctrl-C (its report and read-back).
  gracefulInterrupt = spec.name === 'load';
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_FLAGS, ...spec.flags }, allowPositionals: true, strict: true });
  } catch (err) {
    throw usageError(`${spec.name}: ${(err as Error).message}`);
  }
  if (parsed.values.help === true) {
    io.out(commandUsage(spec));
    return 0;
  }
  const count = parsed.positionals.length;
  if (count < spec.minPositionals || count > spec.maxPositionals) {
    const expected = spec.args === '' ? 'no arguments' : spec.args;
    throw usageError(`${spec.name}: expected ${expected}, got ${count === 0 ? 'none' : parsed.positionals.map((p) => JSON.stringify(p)).join(' ')}`);
  }
  const global = resolveGlobalOptions(parsed.values, process.env, process.cwd());
  return spec.run({ global, io, positionals: parsed.positionals, flags: parsed.values, signal });
}

const io: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stderrIsTty: process.stderr.isTTY === true,
  now: () => performance.now(),
};
const abort = new AbortController();
let gracefulInterrupt = false;
process.on('SIGINT', () => {
  // First Ctrl-C during `load`: stop issuing requests and report; otherwise (or the second time) quit at once.
  if (!gracefulInterrupt || abort.signal.aborted) process.exit(130);
  abort.abort();
});

main(process.argv.slice(2), io, abort.signal).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`flotilla: ${err.message} [${err.code}]\n`);
      process.exitCode = err.exitCode;
      return;
    }
    process.stderr.write(`flotilla: unexpected failure (${errorCode(err) ?? 'no code'}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
