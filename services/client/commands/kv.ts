import { randomUUID } from 'node:crypto';
import { apiPaths, asKvItem, asKvPage, httpError, type KvItem } from '../api.js';
import { withApiClient, boolFlag, printJson, stringFlag, type CommandContext, type CommandSpec } from '../command.js';
import { renderTable } from '../table.js';
import { parseIntInRange, parseJsonArgument } from '../values.js';

function arg(context: CommandContext, index: number): string {
  // minPositionals guarantees presence; the fallback keeps the type honest.
  return context.positionals[index] ?? '';
}

export const kvGet: CommandSpec = {
  name: 'kv get',
  args: '<key>',
  summary: 'print the value of a key (--json: the whole item with version)',
  flags: {},
  flagHelp: [],
  minPositionals: 1,
  maxPositionals: 1,
  run: (context) =>
    withApiClient(context, async (client) => {
      const key = arg(context, 0);
      const response = await client.request('GET', apiPaths.kv(key));
      if (response.status !== 200) throw httpError(response, `get "${key}"`);
      const item = asKvItem(response.json);
      if (context.global.json) printJson(context.io, item);
      else context.io.out(`${JSON.stringify(item.value)}\n`);
      return 0;
    }),
};

export const kvPut: CommandSpec = {
  name: 'kv put',
  args: '<key> <json-value>',
  summary: 'write a key; the value is JSON (\'"text"\', 42, \'{"a":1}\')',
  flags: {
    string: { type: 'boolean' },
    'if-match': { type: 'string' },
    'if-none-match': { type: 'boolean' },
    'idempotency-key': { type: 'string' },
  },
  flagHelp: [
    '--string                 store the value as a plain string instead of parsing JSON',
    '--if-match <version>     compare-and-set: write only if the key is at this version',
    '--if-none-match          create only: fail if the key exists',
    '--idempotency-key <k>    safe to repeat (default: a fresh random key)',
  ],
  minPositionals: 2,
  maxPositionals: 2,
  run: (context) =>
    withApiClient(context, async (client) => {
      const key = arg(context, 0);
      const raw = arg(context, 1);
      const value = boolFlag(context.flags, 'string') ? raw : parseJsonArgument(raw);
      const headers: Record<string, string> = { 'idempotency-key': stringFlag(context.flags, 'idempotency-key') ?? randomUUID() };
      const ifMatch = stringFlag(context.flags, 'if-match');
      if (ifMatch !== undefined) headers['if-match'] = /^".*"$/.test(ifMatch) ? ifMatch : `"${ifMatch}"`;
      if (boolFlag(context.flags, 'if-none-match')) headers['if-none-match'] = '*';
      const response = await client.request('PUT', apiPaths.kv(key), { body: { value }, headers });
      if (response.status !== 200 && response.status !== 201) throw httpError(response, `put "${key}"`);
      const item = asKvItem(response.json);
      if (context.global.json) printJson(context.io, item);
      else context.io.out(`${response.status === 201 ? 'created' : 'updated'} "${key}" at version ${item.version}\n`);
      return 0;
    }),
};

export const kvDel: CommandSpec = {
  name: 'kv del',
  args: '<key>',
  summary: 'delete a key',
  flags: { 'if-match': { type: 'string' } },
  flagHelp: ['--if-match <version>     delete only if the key is at this version'],
  minPositionals: 1,
  maxPositionals: 1,
  run: (context) =>
    withApiClient(context, async (client) => {
      const key = arg(context, 0);
      const headers: Record<string, string> = { 'idempotency-key': randomUUID() };
      const ifMatch = stringFlag(context.flags, 'if-match');
      if (ifMatch !== undefined) headers['if-match'] = /^".*"$/.test(ifMatch) ? ifMatch : `"${ifMatch}"`;
      const response = await client.request('DELETE', apiPaths.kv(key), { headers });
      if (response.status !== 204) throw httpError(response, `delete "${key}"`);
      if (context.global.json) printJson(context.io, { key, deleted: true });
      else context.io.out(`deleted "${key}"\n`);
      return 0;
    }),
};

export const kvList: CommandSpec = {
  name: 'kv list',
  args: '',
  summary: 'list keys in key order, one page (or every page with --all)',
  flags: { prefix: { type: 'string' }, limit: { type: 'string' }, after: { type: 'string' }, all: { type: 'boolean' } },
  flagHelp: [
    '--prefix <p>             only keys starting with p',
    '--limit <n>              page size (1..1000, default 100)',
    '--after <key>            start after this key (from a previous page\'s "next")',
    '--all                    follow "next" until the last page',
  ],
  minPositionals: 0,
  maxPositionals: 0,
  run: (context) => {
    const limitText = stringFlag(context.flags, 'limit');
    const limit = limitText === undefined ? undefined : parseIntInRange('limit', limitText, 1, 1_000);
    return withApiClient(context, async (client) => {
      const items: KvItem[] = [];
      let after = stringFlag(context.flags, 'after');
      let next: string | null = null;
      const prefix = stringFlag(context.flags, 'prefix');
      // Bounded even with --all: 10 000 pages is far past any local data set.
      for (let page = 0; page < 10_000; page += 1) {
        const response = await client.request('GET', apiPaths.kvList({ ...(prefix !== undefined ? { prefix } : {}), ...(limit !== undefined ? { limit } : {}), ...(after !== undefined ? { after } : {}) }));
        if (response.status !== 200) throw httpError(response, 'list');
        const result = asKvPage(response.json);
        items.push(...result.items);
        next = result.next;
        if (!boolFlag(context.flags, 'all') || next === null) break;
        after = next;
      }
      if (context.global.json) {
        printJson(context.io, { items, next });
        return 0;
      }
      const rows = items.map((item) => [item.key, item.version, item.updatedAt, JSON.stringify(item.value)]);
      context.io.out(renderTable(['KEY', 'VERSION', 'UPDATED', 'VALUE'], rows));
      context.io.out(next === null ? `${items.length} keys\n` : `${items.length} keys; more after "${next}" (--after ${JSON.stringify(next)} or --all)\n`);
      return 0;
    });
  },
};
