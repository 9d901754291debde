import { relative } from 'node:path';
import type { LocalRunState } from './state-file.js';

/** The human summary printed once everything is ready: where each part listens. */
export function formatBanner(state: LocalRunState, cwd: string, stateFile: string, logsDir: string): string {
  const show = (path: string): string => {
    const rel = relative(cwd, path);
    return rel === '' || rel.startsWith('..') ? path : rel;
  };
  const pid = (value: number | undefined): string => (value === undefined ? 'down' : `pid ${value}`);
  const lines = [
    '',
    `Flotilla is running (supervisor pid ${state.supervisorPid}). Ctrl-C stops everything.`,
    '',
    `  balancer        ${state.balancer.url.padEnd(24)} ${pid(state.balancer.pid)}`,
    `  balancer admin  ${`${state.balancer.adminUrl}/admin/upstreams`}`,
    ...state.workers.map(
      (worker) => `  ${worker.name.padEnd(15)} ${worker.url.padEnd(24)} admin ${worker.adminUrl.padEnd(24)} ${pid(worker.pid)}`,
    ),
    `  postgres        127.0.0.1:${state.postgres.port}${' '.repeat(Math.max(1, 14 - String(state.postgres.port).length))}${pid(state.postgres.pid)}  data ${show(`${state.dataDir}/postgres`)}`,
    `  logs            ${show(logsDir)}/`,
    `  state           ${show(stateFile)}`,
    '',
    'Try:',
    `  npx flotilla kv put greeting '"hello"' --url ${state.balancer.url}`,
    `  npx flotilla cluster`,
    `  npx flotilla load --duration 15s --check --chaos kill`,
    '',
  ];
  return lines.join('\n');
}
