import type { CommandSpec } from './command.js';

export function commandUsage(spec: CommandSpec): string {
  const lines = [`Usage: flotilla ${spec.name}${spec.args !== '' ? ` ${spec.args}` : ''} [flags]`, '', `  ${spec.summary}`, ''];
  if (spec.flagHelp.length > 0) lines.push('Flags:', ...spec.flagHelp.map((line) => `  ${line}`), '');
  lines.push('Global flags: --url, --admin-url, --state-file, --timeout, --json (see flotilla --help)', '');
  return lines.join('\n');
}

export function mainUsage(specs: readonly CommandSpec[]): string {
  return [
    'Usage: flotilla <command> [arguments] [flags]',
    '',
    'Commands:',
    ...specs.map((spec) => `  ${`${spec.name}${spec.args !== '' ? ` ${spec.args}` : ''}`.padEnd(30)} ${spec.summary}`),
    '',
    'Global flags:',
    '  --url <url>              balancer (or worker) URL; env FLOTILLA_URL (default http://127.0.0.1:8080)',
    "  --admin-url <url>        balancer admin URL for `cluster`; env FLOTILLA_ADMIN_URL (default: from the local run, else :9090)",
    '  --state-file <path>      local run state file; env FLOTILLA_STATE_FILE (default .data/local-run.json)',
    '  --timeout <d>            per-request timeout (default 10s; load 20s); env FLOTILLA_TIMEOUT',
    '  --json                   machine-readable output',
    '  -h, --help               this help, or a command\'s help: flotilla <command> --help',
    '',
    'Exit status: 0 ok, 1 request failed or not found, 2 bad usage, 3 load --check found a broken guarantee.',
    '',
  ].join('\n');
}
