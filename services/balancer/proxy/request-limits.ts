import type { BalancerConfig } from '../config.js';
import type { BalancerErrorCode } from '../errors.js';
import { headerFieldCount, type ClientRequest } from './client-protocol.js';

/**
 * Limits Node's parser does not enforce the way a proxy needs, checked before
 * anything is forwarded:
 * - the request target: llhttp only counts it towards MAX_HEADER_BYTES, so a
 *   long URL under that limit would be forwarded; RFC 9110 §15.5.15 gives it
 *   its own answer, 414 (RFC 9112 §3 recommends supporting at least 8000
 *   octets of request line, hence the 8 KiB default);
 * - the header field count: past `maxHeadersCount` Node silently drops fields
 *   from `req.headers` (rawHeaders keeps them), so a request with thousands of
 *   tiny fields would be forwarded with a different header set than the one
 *   parsed here. It gets 431 (RFC 6585 §5) instead. HTTP/2 pseudo-header
 *   fields (:method, :path, …) are not counted: they replace the request
 *   line, which HTTP/1.1 does not count either.
 * Undefined means the request is within the limits.
 */
export function requestLimitError(req: ClientRequest, limits: BalancerConfig['limits']): BalancerErrorCode | undefined {
  // llhttp hands the target over as latin1, one character per octet.
  if ((req.url ?? '').length > limits.maxUrlBytes) return 'LB_ERR_URI_TOO_LONG';
  if (headerFieldCount(req) > limits.maxHeaderCount) return 'LB_ERR_HEADERS_TOO_LARGE';
  return undefined;
}
