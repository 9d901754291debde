import { apiPaths, asCounterValue } from '../api.js';
import { transportErrorKind, type HttpClient, type HttpResponse } from '../http-client.js';
import { ABSENT, type CheckLedger } from './ledger.js';
import { keyStateOf } from './virtual-user.js';

export interface VerifyOptions {
  readonly client: HttpClient;
  readonly ledger: CheckLedger;
  readonly runId: string;
  readonly parallel: number;
  readonly attempts: number;
  readonly sleep: (ms: number) => Promise<void>;
}

/**
 * GET with tries spread over ~30 s: right after chaos stops, workers may still
 * be restarting, and the read-back must not confuse "still recovering" with
 * "the data is gone".
 */
async function readWithRetries(options: VerifyOptions, path: string, accept: readonly number[]): Promise<HttpResponse | string> {
  let last = 'no attempt';
  for (let i = 0; i < options.attempts; i += 1) {
    if (i > 0) await options.sleep(Math.min(3_000, 200 * 2 ** i));
    try {
      const response = await options.client.request('GET', path);
      if (accept.includes(response.status)) return response;
      last = `HTTP ${response.status}`;
    } catch (err) {
      last = transportErrorKind(err);
    }
  }
  return last;
}

async function inParallel<T>(items: readonly T[], parallel: number, action: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(parallel, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      if (item !== undefined) await action(item);
    }
  });
  await Promise.all(lanes);
}

/** Reads back every key and counter the run touched and checks them against the ledger. */
export async function verifyLedger(options: VerifyOptions): Promise<{ keys: number; counters: number }> {
  const { ledger } = options;
  const keys = ledger.keyNames();
  const counters = ledger.counterNames();
  await inParallel(keys, options.parallel, async (key) => {
    const result = await readWithRetries(options, apiPaths.kv(key), [200, 404]);
    if (typeof result === 'string') ledger.unverified(key, result);
    else ledger.verifyKey(key, result.status === 404 ? ABSENT : keyStateOf(result.json, options.runId));
  });
  await inParallel(counters, options.parallel, async (name) => {
    const result = await readWithRetries(options, apiPaths.counter(name), [200]);
    if (typeof result === 'string') {
      ledger.unverified(name, result);
      return;
    }
    try {
      ledger.verifyCounter(name, asCounterValue(result.json));
    } catch {
      ledger.unverified(name, 'not a counter response');
    }
  });
  return { keys: keys.length, counters: counters.length };
}
