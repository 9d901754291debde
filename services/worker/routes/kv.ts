import type { FastifyInstance } from 'fastify';
import { runIdempotent, fingerprint, type StoredResponse } from '../db/idempotency.js';
import { errorBody, WorkerError } from '../errors.js';
import { jsonDepthExceeds } from '../json-depth.js';
import { etag, notModified, writePrecondition } from '../preconditions.js';
import type { buildSchemas } from '../schemas.js';
import { sendStored, type RouteContext, type WriteHeaders } from './context.js';

type Schemas = ReturnType<typeof buildSchemas>;

/** /v1/kv: versioned keys with compare-and-set and keyset pagination. */
export function registerKvRoutes(app: FastifyInstance, context: RouteContext, schemas: Schemas): void {
  const { db, kv, limits } = context;

  app.get<{ Params: { key: string }; Headers: { 'if-none-match'?: string } }>(
    '/v1/kv/:key',
    { schema: { params: schemas.keyParams } },
    async (request, reply) => {
      const item = await db.transaction('rerunnable', (client) => kv.get(client, request.params.key));
      if (!item) throw new WorkerError('WRK_ERR_NOT_FOUND', `key "${request.params.key}" does not exist`);
      void reply.header('etag', etag(item.version));
      if (notModified(request.headers['if-none-match'], item.version)) return reply.code(304).send();
      return item;
    },
  );

  app.put<{ Params: { key: string }; Body: { value: unknown }; Headers: WriteHeaders }>(
    '/v1/kv/:key',
    { schema: { params: schemas.keyParams, body: schemas.putBody, headers: schemas.writeHeaders } },
    async (request, reply) => {
      const { key } = request.params;
      const { value } = request.body;
      if (jsonDepthExceeds(value, limits.jsonMaxDepth)) {
        throw new WorkerError('WRK_ERR_JSON_TOO_DEEP', `value nests deeper than ${limits.jsonMaxDepth} levels`);
      }
      const serialized = JSON.stringify(value);
      // Postgres jsonb cannot hold U+0000 in a string; say so instead of failing in the database.
      if (serialized.includes('\\u0000')) {
        throw new WorkerError('WRK_ERR_VALIDATION', 'strings in a value cannot contain the NUL character (U+0000)');
      }
      const size = Buffer.byteLength(serialized);
      if (size > limits.valueMaxBytes) {
        throw new WorkerError('WRK_ERR_VALUE_TOO_LARGE', `value is ${size} bytes; the limit is ${limits.valueMaxBytes}`);
      }
      const precondition = writePrecondition(request.headers['if-match'], request.headers['if-none-match']);
      const apply = async (client: Parameters<typeof kv.put>[0]): Promise<StoredResponse> => {
        const outcome = await kv.put(client, key, value, precondition);
        if (outcome.kind === 'precondition-failed') {
          return {
            statusCode: 412,
            headers: {},
            body: errorBody('WRK_ERR_PRECONDITION_FAILED', `key "${key}" does not match the precondition`),
          };
        }
        return { statusCode: outcome.kind === 'created' ? 201 : 200, headers: { etag: etag(outcome.item.version) }, body: outcome.item };
      };
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey !== undefined) {
        const print = fingerprint(['PUT', key, value, request.headers['if-match'], request.headers['if-none-match']]);
        const result = await db.transaction('rerunnable', (client) => runIdempotent(client, idempotencyKey, print, () => apply(client)));
        return sendStored(reply, result, context, '/v1/kv/:key');
      }
      // A plain upsert may run twice with the same effect; a conditional one may not.
      const safety = precondition.kind === 'none' ? 'rerunnable' : 'once';
      const response = await db.transaction(safety, apply);
      return sendStored(reply, { response, replayed: false }, context, '/v1/kv/:key');
    },
  );

  app.delete<{ Params: { key: string }; Headers: WriteHeaders }>(
    '/v1/kv/:key',
    { schema: { params: schemas.keyParams, headers: schemas.writeHeaders } },
    async (request, reply) => {
      const { key } = request.params;
      if (request.headers['if-none-match'] !== undefined) {
        throw new WorkerError('WRK_ERR_BAD_PRECONDITION', 'If-None-Match is not supported on DELETE');
      }
      const precondition = writePrecondition(request.headers['if-match'], undefined);
      const apply = async (client: Parameters<typeof kv.delete>[0]): Promise<StoredResponse> => {
        const outcome = await kv.delete(client, key, precondition);
        if (outcome === 'deleted') return { statusCode: 204, headers: {}, body: null };
        if (outcome === 'not-found') {
          return { statusCode: 404, headers: {}, body: errorBody('WRK_ERR_NOT_FOUND', `key "${key}" does not exist`) };
        }
        return { statusCode: 412, headers: {}, body: errorBody('WRK_ERR_PRECONDITION_FAILED', `key "${key}" does not match the precondition`) };
      };
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey !== undefined) {
        const print = fingerprint(['DELETE', key, request.headers['if-match']]);
        const result = await db.transaction('rerunnable', (client) => runIdempotent(client, idempotencyKey, print, () => apply(client)));
        return sendStored(reply, result, context, '/v1/kv/:key');
      }
      // A second run after a committed first would answer 404 for a delete that worked.
      const response = await db.transaction('once', apply);
      return sendStored(reply, { response, replayed: false }, context, '/v1/kv/:key');
    },
  );

  app.get<{ Querystring: { prefix?: string; after?: string; limit?: number } }>(
    '/v1/kv',
    { schema: { querystring: schemas.listQuery } },
    async (request) => {
      const { prefix = '', after, limit = limits.pageDefault } = request.query;
      return db.transaction('rerunnable', (client) => kv.list(client, prefix, after, limit));
    },
  );
}
