import type { LimitsConfig } from './config.js';

/**
 * JSON schemas for every route, built from the configured limits. Keys are
 * `/`-separated paths (Consul's and etcd's habit: `app/config/db`), sent raw
 * in the URL or percent-encoded, which name the same key; no segment may be
 * empty (no leading, trailing or double `/`). Counter names are one segment.
 * Control characters are refused so keys stay safe to log and to show.
 */
export function buildSchemas(limits: LimitsConfig) {
  const segment = '[^/\\u0000-\\u001f\\u007f]+';
  const keyString = {
    type: 'string',
    minLength: 1,
    maxLength: limits.keyMaxLength,
    pattern: `^${segment}(?:/${segment})*$`,
  } as const;
  const nameString = {
    type: 'string',
    minLength: 1,
    maxLength: limits.keyMaxLength,
    pattern: `^${segment}$`,
  } as const;
  const idempotencyHeaders = {
    type: 'object',
    properties: {
      'idempotency-key': { type: 'string', minLength: 1, maxLength: 255, pattern: '^[\\u0021-\\u007e]+$' },
      // Set by the balancer (never by clients: it removes theirs), a UUID.
      'flotilla-write-token': { type: 'string', pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' },
      'if-match': { type: 'string', maxLength: 1024 },
      'if-none-match': { type: 'string', maxLength: 1024 },
    },
  } as const;
  return {
    /** The key is the rest of the path after /v1/kv/ (fastify's wildcard, decoded). */
    keyParams: { type: 'object', required: ['*'], properties: { '*': keyString } },
    nameParams: { type: 'object', required: ['name'], properties: { name: nameString } },
    writeHeaders: idempotencyHeaders,
    putBody: {
      type: 'object',
      required: ['value'],
      additionalProperties: false,
      properties: { value: {} },
    },
    incrementBody: {
      type: 'object',
      additionalProperties: false,
      properties: { by: { type: 'integer', minimum: -1_000_000_000, maximum: 1_000_000_000 } },
    },
    listQuery: {
      type: 'object',
      additionalProperties: false,
      properties: {
        prefix: { type: 'string', maxLength: limits.keyMaxLength, pattern: '^[^\\u0000-\\u001f\\u007f]*$' },
        after: { type: 'string', maxLength: limits.keyMaxLength },
        limit: { type: 'integer', minimum: 1, maximum: limits.pageMax },
      },
    },
  };
}
