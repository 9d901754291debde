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
    // Nearly every Connection field (Node servers send one on each response)
    // is one of these two; keep-alive is hop-by-hop anyway.
    if (value === 'keep-alive') continue;
    if (value === 'close') {
      tokens.add('close');
      continue;
    }
    for (const token of value.split(',')) {
      const name = token.trim().toLowerCase();
      if (name.length > 0) tokens.add(name);
    }
  }
  return tokens;
}

const NO_TOKENS: ReadonlySet<string> = new Set();

/**
 * Copies headers from Node's flat rawHeaders list ([name, value, name,
 * value, …]) into a lower-cased map without hop-by-hop fields. Using
 * rawHeaders keeps repeated fields that req.headers would merge or drop.
 * `keep` lets the upgrade path keep Upgrade. HTTP/2 pseudo-header fields
 * (`:method`, `:path`, `:scheme`, `:authority`; RFC 9113 §8.3) are in an
 * HTTP/2 request's rawHeaders too: they are never forwarded (the upstream
 * request is HTTP/1.1, and the caller turns :authority into Host).
 */
export function forwardableHeaders(rawHeaders: readonly string[], extraDrop: ReadonlySet<string> = NO_TOKENS, keep: ReadonlySet<string> = NO_TOKENS): HeaderMap {
  let connectionValues: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]?.toLowerCase() === 'connection') (connectionValues ??= []).push(rawHeaders[i + 1] ?? '');
  }
  // Most requests (keep-alive is HTTP/1.1's default) carry no Connection field.
  const named = connectionValues === undefined ? NO_TOKENS : connectionTokens(connectionValues);
  const out: HeaderMap = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    const value = rawHeaders[i + 1] ?? '';
    if (name.startsWith(':')) continue;
    if (!keep.has(name) && (HOP_BY_HOP.has(name) || named.has(name) || extraDrop.has(name))) continue;
    appendHeader(out, name, value);
  }
  return out;
}

/**
 * The head of an upstream response as the client gets it, from undici's raw
 * header list ([name, value, …] as latin1 bytes): hop-by-hop fields and those
 * the Connection field names are dropped, the upstream's X-Request-Id gives
 * way to ours, and Via gets this hop. The result is Node's flat
 * writeHead([name, value, …]) form: no object is built, repeated fields
 * (Set-Cookie) stay separate, and the common response (no Connection field
 * naming others) is one pass.
 */
export function relayableResponseHeaders(raw: readonly Buffer[], requestId: string): string[] {
  let named = NO_TOKENS;
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] as Buffer).toString('latin1').toLowerCase();
    if (name === 'connection') {
      const tokens = connectionTokens([(raw[i + 1] as Buffer).toString('latin1')]);
      if (tokens.size > 0) named = named === NO_TOKENS ? tokens : new Set([...named, ...tokens]);
      continue;
    }
    if (HOP_BY_HOP.has(name) || name === 'x-request-id') continue;
    out.push(name, (raw[i + 1] as Buffer).toString('latin1'));
  }
  if (named !== NO_TOKENS) {
    // Rare: Connection named other fields, possibly after they appeared.
    for (let i = out.length - 2; i >= 0; i -= 2) if (named.has(out[i] as string)) out.splice(i, 2);
  }
  out.push('via', VIA, 'x-request-id', requestId);
  return out;
}

/**
 * The flat list as a map. Needed when the response already has headers set
 * (Connection: close while draining): Node's writeHead() then applies a flat
 * list with setHeader(), one field at a time, and a repeated field such as
 * Set-Cookie would keep only its last value.
 */
export function headerMapOf(flat: readonly string[]): HeaderMap {
  const out: HeaderMap = {};
  for (let i = 0; i + 1 < flat.length; i += 2) appendHeader(out, flat[i] as string, flat[i + 1] as string);
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
  /** The scheme the client used to reach the balancer. */
  readonly proto: 'http' | 'https';
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
  headers['x-forwarded-proto'] = info.proto;
  if (info.host !== undefined) headers['x-forwarded-host'] = info.host;
  else delete headers['x-forwarded-host'];
  headers['via'] = [...headerValues(headers, 'via'), VIA].join(', ');
  headers['x-request-id'] = info.requestId;
}
