import { randomUUID } from 'node:crypto';

export type HeaderMap = Record<string, string | string[]>;

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, so a
 * proxy must not forward them. Proxy-Connection is the pre-standard variant
 * (RFC 9112 Appendix C.2.2); Proxy-Authenticate/-Authorization are meant for
 * this hop only (RFC 9110 §11.7); Trailer announces trailer fields this
 * proxy does not forward (RFC 9110 §6.6.2).
 */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** The field names listed in Connection values (RFC 9110 §7.6.1), lower-cased. */
export function connectionTokens(values: readonly string[]): Set<string> {
  const tokens = new Set<string>();
  for (const value of values) {
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name.length > 0) tokens.add(name);
    }
  }
  return tokens;
}

/**
 * Copies headers from Node's flat rawHeaders list ([name, value, name,
 * value, …]) into a lower-cased map without hop-by-hop fields. Using
 * rawHeaders keeps repeated fields that req.headers would merge or drop.
 * `keep` lets the upgrade path keep Upgrade.
 */
export function forwardableHeaders(rawHeaders: readonly string[], extraDrop: ReadonlySet<string> = new Set(), keep: ReadonlySet<string> = new Set()): HeaderMap {
  const connectionValues: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') connectionValues.push(rawHeaders[i + 1] ?? '');
  }
  const named = connectionTokens(connectionValues);
  const out: HeaderMap = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (!keep.has(name) && (HOP_BY_HOP.has(name) || named.has(name) || extraDrop.has(name))) continue;
    appendHeader(out, name, value);
  }
  return out;
}

/** Strips hop-by-hop fields from an upstream response's header object (undici's shape). */
export function forwardableResponseHeaders(headers: Readonly<Record<string, string | string[] | undefined>>): HeaderMap {
  const connection = headers['connection'];
  const named = connectionTokens(connection === undefined ? [] : Array.isArray(connection) ? connection : [connection]);
  const out: HeaderMap = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}

export function appendHeader(headers: HeaderMap, name: string, value: string): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else headers[name] = [existing, value];
}

export function headerValues(headers: HeaderMap, name: string): string[] {
  const value = headers[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** A client's request id is kept only if it is short and plain, so it is safe in logs and headers. */
const REQUEST_ID = /^[A-Za-z0-9._~:@+=/-]{1,128}$/;

export function requestIdFrom(value: string | string[] | undefined): string {
  const candidate = Array.isArray(value) ? value[0] : value;
  return candidate !== undefined && REQUEST_ID.test(candidate) ? candidate : randomUUID();
}

/** "::ffff:10.0.0.1" → "10.0.0.1": IPv4 clients on a dual-stack socket. */
export function clientAddress(remoteAddress: string | undefined): string {
  if (remoteAddress === undefined) return 'unknown';
  return remoteAddress.startsWith('::ffff:') ? remoteAddress.slice(7) : remoteAddress;
}

export const VIA = '1.1 flotilla-balancer';

export interface ForwardingInfo {
  readonly clientIp: string;
  readonly host: string | undefined;
  readonly requestId: string;
}

/**
 * Adds the proxy fields: X-Forwarded-For gets the client appended (the chain
 * is kept); X-Forwarded-Proto and -Host describe this hop and overwrite
 * whatever the client claimed, since the balancer is the edge; Via is
 * required of every proxy (RFC 9110 §7.6.3); X-Request-Id is set to the
 * kept or generated id.
 */
export function addForwardingHeaders(headers: HeaderMap, info: ForwardingInfo): void {
  const chain = headerValues(headers, 'x-forwarded-for');
  headers['x-forwarded-for'] = [...chain, info.clientIp].join(', ');
  headers['x-forwarded-proto'] = 'http';
  if (info.host !== undefined) headers['x-forwarded-host'] = info.host;
  else delete headers['x-forwarded-host'];
  headers['via'] = [...headerValues(headers, 'via'), VIA].join(', ');
  headers['x-request-id'] = info.requestId;
}
