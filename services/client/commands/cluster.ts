import type { CommandSpec } from '../command.js';
import { DEFAULT_ADMIN_URL } from '../config.js';
import { CliError } from '../errors.js';
import { HttpClient, toCliError } from '../http-client.js';
import { findLocalRun } from '../local-run.js';
import { renderTable } from '../table.js';

const COLUMNS: readonly [string, string][] = [
  ['endpoint', 'ENDPOINT'],
  ['state', 'STATE'],
  ['ready', 'READY'],
  ['activeHealth', 'HEALTH'],
  ['inFlight', 'IN-FLIGHT'],
  ['ewmaMs', 'EWMA MS'],
  ['weight', 'WEIGHT'],
  ['consecutiveFailures', 'FAILS'],
  ['ejections', 'EJECTIONS'],
  ['lastError', 'LAST ERROR'],
];

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string') return value;
  return JSON.stringify(value);
}

export const cluster: CommandSpec = {
  name: 'cluster',
  args: '',
  summary: "the balancer's upstream table (GET /admin/upstreams on its admin port)",
  flags: {},
  flagHelp: [],
  minPositionals: 0,
  maxPositionals: 0,
  run: async (context) => {
    // The admin port is separate from the data port; a local run publishes it in its state file.
    const adminUrl = context.global.adminUrl ?? findLocalRun(context.global.stateFile)?.balancer.adminUrl ?? DEFAULT_ADMIN_URL;
    const client = new HttpClient(adminUrl, { timeoutMs: context.global.timeoutMs ?? 10_000, connections: 1 });
    let body: unknown;
    try {
      const response = await client.request('GET', '/admin/upstreams');
      if (response.status !== 200) throw new CliError('CLI_ERR_HTTP', `${adminUrl}/admin/upstreams answered HTTP ${response.status}`);
      body = response.json;
    } catch (err) {
      throw toCliError(err, adminUrl);
    } finally {
      await client.close();
    }
    if (context.global.json) {
      context.io.out(`${JSON.stringify(body, null, 2)}\n`);
      return 0;
    }
    const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const upstreams = Array.isArray(body) ? body : record.upstreams;
    if (!Array.isArray(upstreams)) throw new CliError('CLI_ERR_BAD_RESPONSE', `${adminUrl}/admin/upstreams did not return an upstream list`);
    const summary = Object.entries(record)
      .filter(([key, value]) => key !== 'upstreams' && typeof value !== 'object')
      .map(([key, value]) => `${key}=${cell(value)}`)
      .join('  ');
    if (summary !== '') context.io.out(`balancer ${adminUrl}  ${summary}\n\n`);
    const rows = upstreams.map((upstream: unknown) => {
      const entry = typeof upstream === 'object' && upstream !== null ? (upstream as Record<string, unknown>) : {};
      return COLUMNS.map(([key]) => cell(entry[key]));
    });
    context.io.out(renderTable(COLUMNS.map(([, header]) => header), rows));
    return 0;
  },
};
