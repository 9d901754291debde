import { FlotillaError } from '../shared/index.js';

/**
 * Every error the worker answers with, by code. The HTTP status travels with
 * the code so a handler throws one thing and the error handler renders
 * `{"error":{"code","message"}}` uniformly.
 */
export const WORKER_ERRORS = {
  WRK_ERR_VALIDATION: 400,
  WRK_ERR_BAD_JSON: 400,
  WRK_ERR_BAD_KEY: 400,
  WRK_ERR_BAD_PRECONDITION: 400,
  WRK_ERR_BAD_IDEMPOTENCY_KEY: 400,
  WRK_ERR_JSON_TOO_DEEP: 400,
  WRK_ERR_NOT_FOUND: 404,
  WRK_ERR_ROUTE_NOT_FOUND: 404,
  WRK_ERR_METHOD_NOT_ALLOWED: 405,
  WRK_ERR_PRECONDITION_FAILED: 412,
  WRK_ERR_VALUE_TOO_LARGE: 413,
  WRK_ERR_UNSUPPORTED_MEDIA_TYPE: 415,
  WRK_ERR_IDEMPOTENCY_KEY_REUSED: 422,
  WRK_ERR_OUT_OF_RANGE: 422,
  WRK_ERR_IDEMPOTENCY_IN_PROGRESS: 409,
  WRK_ERR_REQUEST_TIMEOUT: 408,
  WRK_ERR_INTERNAL: 500,
  WRK_ERR_DB_UNAVAILABLE: 503,
  WRK_ERR_DRAINING: 503,
  WRK_ERR_DB_TIMEOUT: 504,
} as const;

export type WorkerErrorCode = keyof typeof WORKER_ERRORS;

export class WorkerError extends FlotillaError {
  readonly statusCode: number;

  constructor(code: WorkerErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'WorkerError';
    this.statusCode = WORKER_ERRORS[code];
  }
}

export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
