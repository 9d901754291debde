import { CliError } from './errors.js';
import type { HttpResponse } from './http-client.js';

/** Paths of the worker API (docs/DESIGN.md "Worker API"); names are URL-encoded. */
export const apiPaths = {
  kv: (key: string): string => `/v1/kv/${encodeURIComponent(key)}`,
  kvList: (query: { prefix?: string; limit?: number; after?: string }): string => {
    const params = new URLSearchParams();
    if (query.prefix !== undefined) params.set('prefix', query.prefix);
    if (query.limit !== undefined) params.set('limit', String(query.limit));
    if (query.after !== undefined) params.set('after', query.after);
    const text = params.toString();
    return text === '' ? '/v1/kv' : `/v1/kv?${text}`;
  },
  increment: (name: string): string => `/v1/counters/${encodeURIComponent(name)}/increment`,
  counter: (name: string): string => `/v1/counters/${encodeURIComponent(name)}`,
};

export interface KvItem {
  readonly key: string;
  readonly value: unknown;
  readonly version: string;
  readonly updatedAt: string;
}

export interface KvPage {
  readonly items: readonly KvItem[];
  readonly next: string | null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asKvItem(json: unknown): KvItem {
  if (isRecord(json) && typeof json.key === 'string' && 'value' in json && (typeof json.version === 'string' || typeof json.version === 'number')) {
    return { key: json.key, value: json.value, version: String(json.version), updatedAt: String(json.updatedAt ?? '') };
  }
  throw new CliError('CLI_ERR_BAD_RESPONSE', `expected a key-value item, got ${JSON.stringify(json)?.slice(0, 200)}`);
}

export function asKvPage(json: unknown): KvPage {
  if (isRecord(json) && Array.isArray(json.items)) {
    const next = typeof json.next === 'string' ? json.next : null;
    return { items: json.items.map(asKvItem), next };
  }
  throw new CliError('CLI_ERR_BAD_RESPONSE', `expected a page {items, next}, got ${JSON.stringify(json)?.slice(0, 200)}`);
}

export function asCounterValue(json: unknown): number {
  if (isRecord(json) && typeof json.value === 'number') return json.value;
  // bigint counters may arrive as strings
  if (isRecord(json) && typeof json.value === 'string' && /^-?\d+$/.test(json.value)) return Number(json.value);
  throw new CliError('CLI_ERR_BAD_RESPONSE', `expected a counter {name, value}, got ${JSON.stringify(json)?.slice(0, 200)}`);
}

/** The API's error body `{"error": {"code", "message"}}` as a coded CLI error. */
export function httpError(response: HttpResponse, what: string): CliError {
  const body = response.json;
  if (isRecord(body) && isRecord(body.error)) {
    const code = String(body.error.code ?? 'unknown');
    const message = String(body.error.message ?? '');
    if (response.status === 404) return new CliError('CLI_ERR_NOT_FOUND', `${what}: ${message} (${code})`);
    return new CliError('CLI_ERR_HTTP', `${what}: HTTP ${response.status} ${code}: ${message}`);
  }
  return new CliError('CLI_ERR_HTTP', `${what}: HTTP ${response.status} ${response.text.slice(0, 200)}`);
}
