import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { dropUnreadBody, errorCode } from '../shared/index.js';
import { errorBody, WorkerError } from './errors.js';

/** fastify's own client-error codes and what the worker answers for them. */
const FASTIFY_CLIENT_ERRORS: Readonly<Record<string, { status: number; code: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'WRK_ERR_VALUE_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'WRK_ERR_UNSUPPORTED_MEDIA_TYPE' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'WRK_ERR_BAD_JSON' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'WRK_ERR_BAD_JSON' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'WRK_ERR_VALIDATION' },
  FST_ERR_BAD_URL: { status: 400, code: 'WRK_ERR_VALIDATION' },
};

/**
 * Renders every error as `{"error":{"code","message"}}`. Client mistakes get
 * a 4xx that says what was wrong; anything unexpected is a 500 whose body
 * carries no stack trace or internals (those go to the log only).
 */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error instanceof WorkerError) {
    if (error.statusCode >= 500) request.log.warn({ code: error.code, cause: describeCause(error.cause) }, error.message);
    if (error.statusCode === 503) reply.header('retry-after', '1');
    void reply.code(error.statusCode).send(errorBody(error.code, error.message));
    return;
  }
  if (error.validation) {
    void reply.code(400).send(errorBody('WRK_ERR_VALIDATION', `${error.validationContext ?? 'request'} ${error.validation[0]?.message ?? 'is invalid'}`.trim()));
    return;
  }
  const known = FASTIFY_CLIENT_ERRORS[error.code];
  if (known) {
    if (!request.raw.complete) {
      // Refused before the body arrived (too large): fastify asks to close
      // at once, which can reset the answer away; read the rest and drop it.
      void reply.removeHeader('connection');
      dropUnreadBody(request.raw);
    }
    void reply.code(known.status).send(errorBody(known.code, error.message));
    return;
  }
  if (error instanceof SyntaxError || (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500)) {
    // Body parsing (bad JSON, __proto__ poisoning) and other fastify client errors.
    const status = error.statusCode ?? 400;
    void reply.code(status).send(errorBody(status === 400 ? 'WRK_ERR_BAD_JSON' : 'WRK_ERR_VALIDATION', error.message));
    return;
  }
  if (errorCode(error) === '22003') {
    void reply.code(422).send(errorBody('WRK_ERR_OUT_OF_RANGE', 'the result would be out of range for a 64-bit counter'));
    return;
  }
  request.log.error({ err: error }, 'unexpected error');
  void reply.code(500).send(errorBody('WRK_ERR_INTERNAL', 'internal error'));
}

function describeCause(cause: unknown): string | undefined {
  if (cause === undefined) return undefined;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
}
