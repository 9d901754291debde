import { randomUUID } from 'node:crypto';
import { apiPaths, asCounterValue, httpError } from '../api.js';
import { withApiClient, printJson, stringFlag, type CommandSpec } from '../command.js';
import { parseIntInRange } from '../values.js';

export const counterIncr: CommandSpec = {
  name: 'counter incr',
  args: '<name>',
  summary: 'increment a counter exactly once and print its new value',
  flags: { by: { type: 'string' }, 'idempotency-key': { type: 'string' } },
  flagHelp: [
    '--by <n>                 amount (default 1)',
    '--idempotency-key <k>    repeat an increment safely: the same key applies once (default: random)',
  ],
  minPositionals: 1,
  maxPositionals: 1,
  run: (context) => {
    const byText = stringFlag(context.flags, 'by');
    const by = byText === undefined ? 1 : parseIntInRange('by', byText, -1_000_000_000, 1_000_000_000);
    // Always send a key: then the balancer may retry the POST, and a repeat applies once.
    const idempotencyKey = stringFlag(context.flags, 'idempotency-key') ?? randomUUID();
    return withApiClient(context, async (client) => {
      const name = context.positionals[0] ?? '';
      const response = await client.request('POST', apiPaths.increment(name), { body: { by }, headers: { 'idempotency-key': idempotencyKey } });
      if (response.status !== 200) throw httpError(response, `increment "${name}"`);
      const value = asCounterValue(response.json);
      const replayed = response.headers['idempotent-replayed'] === 'true';
      if (context.global.json) printJson(context.io, { name, value, idempotencyKey, replayed });
      else context.io.out(`${value}${replayed ? ' (replayed: this idempotency key was already applied)' : ''}\n`);
      return 0;
    });
  },
};

export const counterGet: CommandSpec = {
  name: 'counter get',
  args: '<name>',
  summary: 'print the value of a counter (0 if never incremented)',
  flags: {},
  flagHelp: [],
  minPositionals: 1,
  maxPositionals: 1,
  run: (context) =>
    withApiClient(context, async (client) => {
      const name = context.positionals[0] ?? '';
      const response = await client.request('GET', apiPaths.counter(name));
      if (response.status !== 200) throw httpError(response, `read counter "${name}"`);
      const value = asCounterValue(response.json);
      if (context.global.json) printJson(context.io, { name, value });
      else context.io.out(`${value}\n`);
      return 0;
    }),
};
