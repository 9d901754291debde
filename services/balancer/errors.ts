import { FlotillaError } from '../shared/index.js';

/**
 * Every error code the balancer answers with or throws, in one place
 * (the fastify way). Clients match on `code`; the message may change.
 * Answers the balancer makes itself carry the JSON body
 * `{"error":{"code","message"}}` and the header `x-flotilla-balancer-error: <code>`,
 * so a client can tell a balancer answer from a worker answer with the same status.
 */
export const LB_ERRORS = {
  /** 400: the request could not be parsed (RFC 9112 §6.3: conflicting framing, bad chunk sizes, bad header syntax). */
  LB_ERR_BAD_REQUEST: { status: 400, message: 'malformed HTTP request' },
  /** 408: the client did not send its headers or body in time (slowloris protection). */
  LB_ERR_REQUEST_TIMEOUT: { status: 408, message: 'request not received in time' },
  /** 413: the request body exceeds the configured limit. */
  LB_ERR_BODY_TOO_LARGE: { status: 413, message: 'request body too large' },
  /** 414: the request target is longer than MAX_URL_BYTES (RFC 9110 §15.5.15). */
  LB_ERR_URI_TOO_LONG: { status: 414, message: 'request target too long' },
  /** 431: the request header section exceeds the configured size or field count (RFC 6585 §5). */
  LB_ERR_HEADERS_TOO_LARGE: { status: 431, message: 'request header fields too large' },
  /** 503: discovery knows no endpoint that may take traffic. */
  LB_ERR_NO_ENDPOINTS: { status: 503, message: 'no upstream endpoint available' },
  /** 503 + Retry-After: the balancer's overall concurrency limit is reached. */
  LB_ERR_OVERLOADED: { status: 503, message: 'balancer overloaded' },
  /** 503 + Retry-After: every candidate endpoint is at its concurrency limit. */
  LB_ERR_UPSTREAMS_SATURATED: { status: 503, message: 'all upstream endpoints are at their concurrency limit' },
  /** 503 + Retry-After: no try could open a connection to any endpoint. */
  LB_ERR_UPSTREAM_UNAVAILABLE: { status: 503, message: 'no upstream endpoint accepted the connection' },
  /** 502: the upstream connection failed after the request may have reached the worker. */
  LB_ERR_UPSTREAM_FAILED: { status: 502, message: 'upstream connection failed' },
  /** 504: the upstream did not answer within the per-try timeout. */
  LB_ERR_UPSTREAM_TIMEOUT: { status: 504, message: 'upstream did not answer in time' },
  /** 504: the total deadline for the request (all tries) passed. */
  LB_ERR_DEADLINE_EXCEEDED: { status: 504, message: 'request deadline exceeded' },
} as const;

export type BalancerErrorCode = keyof typeof LB_ERRORS;

export class BalancerError extends FlotillaError {
  declare readonly code: BalancerErrorCode;
  readonly status: number;

  constructor(code: BalancerErrorCode, message?: string, options?: { cause?: unknown }) {
    super(code, message ?? LB_ERRORS[code].message, options);
    this.name = 'BalancerError';
    this.status = LB_ERRORS[code].status;
  }
}
