import { request } from 'undici';

/** One request of a register client, in the form tests/linearizability/checker reads. */
export interface RecordedRequest {
  readonly client: number;
  /** Nanoseconds on one monotonic clock. */
  readonly call: number;
  /** null: the outcome is unknown (a 5xx, a timeout, a reset); it may take effect at any later time. */
  readonly return: number | null;
  readonly input: {
    readonly op: 'get' | 'put' | 'delete';
    readonly key: string;
    readonly value: string;
    readonly precondition: '' | 'match' | 'absent';
    readonly version: number;
  };
  readonly output: { readonly status: number; readonly value: string; readonly version: number };
}

export interface RegisterLoadOptions {
  readonly url: string;
  readonly clients: number;
  readonly keys: readonly string[];
  readonly durationMs: number;
  /** Per client; the loop stops at whichever comes first (this, durationMs or signal). */
  readonly maxRequestsPerClient: number;
  /** Ends the load early: the faults it was run for are over. */
  readonly signal?: AbortSignal;
  readonly requestTimeoutMs: number;
}

export interface RegisterLoadResult {
  readonly history: RecordedRequest[];
  /** Answers the model has no place for (a 400, a 409 …): each is a bug by itself. */
  readonly unexpected: string[];
}

const KNOWN: Record<RecordedRequest['input']['op'], readonly number[]> = {
  get: [200, 404],
  put: [200, 201, 412],
  delete: [204, 404, 412],
};

const origin = process.hrtime.bigint();
/** Nanoseconds since this module loaded: small enough for a double to hold exactly. */
const now = (): number => Number(process.hrtime.bigint() - origin);

/**
 * Concurrent clients reading, writing, conditionally writing and deleting a
 * few shared keys, each request recorded with its invocation and completion
 * times. A client writes values no one else writes ("c3-17"), and sends
 * If-Match with the last version it saw of a key, so stale overwrites and
 * double applies show up as impossible reads or answers.
 */
export async function runRegisterLoad(options: RegisterLoadOptions): Promise<RegisterLoadResult> {
  const history: RecordedRequest[] = [];
  const unexpected: string[] = [];
  const started = Date.now();
  const client = async (id: number): Promise<void> => {
    const seen = new Map<string, number>();
    for (let seq = 0; seq < options.maxRequestsPerClient && Date.now() - started < options.durationMs && options.signal?.aborted !== true; seq++) {
      const key = options.keys[Math.floor(Math.random() * options.keys.length)] as string;
      const roll = Math.random();
      const lastSeen = seen.get(key);
      let input: RecordedRequest['input'];
      if (roll < 0.4) input = { op: 'get', key, value: '', precondition: '', version: 0 };
      else if (roll < 0.65) input = { op: 'put', key, value: `c${id}-${seq}`, precondition: '', version: 0 };
      else if (roll < 0.9)
        input = lastSeen === undefined
          ? { op: 'put', key, value: `c${id}-${seq}`, precondition: 'absent', version: 0 }
          : { op: 'put', key, value: `c${id}-${seq}`, precondition: 'match', version: lastSeen };
      else if (roll < 0.95 || lastSeen === undefined) input = { op: 'delete', key, value: '', precondition: '', version: 0 };
      else input = { op: 'delete', key, value: '', precondition: 'match', version: lastSeen };
      const recorded = await send(options, id, input);
      history.push(recorded);
      if (recorded.return !== null && !KNOWN[input.op].includes(recorded.output.status)) {
        unexpected.push(`client ${id} ${input.op} ${key}: ${recorded.output.status}`);
      }
      if (recorded.output.version > 0) seen.set(key, recorded.output.version);
      else if (recorded.output.status === 404 || recorded.output.status === 204) seen.delete(key);
    }
  };
  await Promise.all(Array.from({ length: options.clients }, (_, id) => client(id)));
  return { history, unexpected };
}

async function send(options: RegisterLoadOptions, client: number, input: RecordedRequest['input']): Promise<RecordedRequest> {
  const headers: Record<string, string> = {};
  if (input.precondition === 'match') headers['if-match'] = `"${input.version}"`;
  if (input.precondition === 'absent') headers['if-none-match'] = '*';
  let body: string | undefined;
  if (input.op === 'put') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify({ value: input.value });
  }
  const call = now();
  try {
    const res = await request(`${options.url}/v1/kv/${input.key}`, {
      method: input.op === 'get' ? 'GET' : input.op === 'put' ? 'PUT' : 'DELETE',
      headers,
      body,
      headersTimeout: options.requestTimeoutMs,
      bodyTimeout: options.requestTimeoutMs,
    });
    const text = await res.body.text();
    const ret = now();
    if (res.statusCode >= 500) return { client, call, return: null, input, output: { status: res.statusCode, value: '', version: 0 } };
    let value = '';
    let version = 0;
    if (input.op === 'get' && res.statusCode === 200) {
      const item = JSON.parse(text) as { value: unknown; version: string };
      value = String(item.value);
      version = Number(item.version);
    } else if (input.op === 'put' && (res.statusCode === 200 || res.statusCode === 201)) {
      version = Number(/^"(\d+)"$/.exec(String(res.headers.etag))?.[1] ?? 0);
    }
    return { client, call, return: ret, input, output: { status: res.statusCode, value, version } };
  } catch {
    // No answer: the request may or may not have been applied.
    return { client, call, return: null, input, output: { status: 0, value: '', version: 0 } };
  }
}
