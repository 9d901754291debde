import type { HashKey } from '../config.js';
import type { ClientRequest } from './client-protocol.js';

/**
 * The path to send upstream. Origin-form ("/a?b") is used as is; absolute-form
 * ("http://host/a?b"), which a server must accept (RFC 9112 §3.2.2), is cut
 * down to its path and query. Anything else (authority-form, asterisk-form)
 * is not proxied: undefined.
 */
export function upstreamPath(url: string | undefined): string | undefined {
  if (url === undefined || url.length === 0) return undefined;
  if (url.startsWith('/')) return url;
  if (!/^https?:\/\//i.test(url)) return undefined;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return undefined;
  }
}

/** The consistent-hash key of a request: a header's first value, or the n-th non-empty path segment (0-based). */
export function hashKeyOf(req: ClientRequest, path: string, key: HashKey | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (key.kind === 'header') {
    const value = req.headers[key.name];
    return Array.isArray(value) ? value[0] : value;
  }
  const segments = (path.split('?', 1)[0] ?? '').split('/').filter((s) => s.length > 0);
  return segments[key.index];
}
