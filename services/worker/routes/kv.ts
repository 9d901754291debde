import type { FastifyInstance } from 'fastify';
import { runIdempotent, fingerprint, type IdempotentResult } from '../db/idempotency.js';
import { errorBody, WorkerError } from '../errors.js';
import { jsonDepthExceeds } from '../json-depth.js';
import { etag, notModified, writePrecondition } from '../preconditions.js';
import type { buildSchemas } from '../schemas.js';
import { sendStored, type RouteContext, type WriteHeaders } from './context.js';

type Schemas = ReturnType<typeof buildSchemas>;

/** Everything below /v1/kv/: keys may hold `/` (app/config/db), raw or as %2F. */
const KEY_ROUTE = '/v1/kv/*';
/** The route as metrics and replay counts name it: a key is one parameter, whatever its segments. */
const KEY_ROUTE_LABEL = '/v1/kv/:key';
interface KeyParams {
  '*': string;
}

/** /v1/kv: versioned keys with compare-and-set and keyset pagination. */
export function registerKvRoutes(app: FastifyInstance, context: RouteContext, schemas: Schemas): void {
  const { db, kv, limits } = context;

  app.get<{ Params: KeyParams; Headers: { 'if-none-match'?: string } }>(
    KEY_ROUTE,
    { schema: { params: schemas.keyParams }, config: { metricsRoute: KEY_ROUTE_LABEL } },
    async (request, reply) => {
      const key = request.params['*'];
      const item = await db.statements('rerunnable', (client) => kv.get(client, key));
      if (!item) throw new WorkerError('WRK_ERR_NOT_FOUND', `key "${key}" does not exist`);
      void reply.header('etag', etag(item.version));
      if (notModified(request.headers['if-none-match'], item.version)) return reply.code(304).send();
      return item;
    },
  );

  app.put<{ Params: KeyParams; Body: { value: unknown }; Headers: WriteHeaders }>(
    KEY_ROUTE,
    { schema: { params: schemas.keyParams, body: schemas.putBody, headers: schemas.writeHeaders }, config: { metricsRoute: KEY_ROUTE_LABEL } },
    async (request, reply) => {
      const key = request.params['*'];
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
      const apply = async (client: Parameters<typeof kv.put>[0], token?: string): Promise<IdempotentResult> => {
        const outcome = await kv.put(client, key, serialized, precondition, token);
        if (outcome.kind === 'precondition-failed') {
          return {
            response: { statusCode: 412, headers: {}, body: errorBody('WRK_ERR_PRECONDITION_FAILED', `key "${key}" does not match the precondition`) },
            replayed: false,
          };
        }
        // The value is the one this request wrote: the body need not come back from Postgres.
        const item = { key, value, version: outcome.version, updatedAt: outcome.updatedAt };
        return {
          response: { statusCode: outcome.kind === 'created' ? 201 : 200, headers: { etag: etag(outcome.version) }, body: item },
          replayed: outcome.replayed,
        };
      };
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey !== undefined) {
        const print = fingerprint(['PUT', key, value, request.headers['if-match'], request.headers['if-none-match']]);
        const result = await db.transaction('rerunnable', (client) =>
          runIdempotent(client, idempotencyKey, print, async () => (await apply(client)).response),
        );
        return sendStored(reply, result, context, KEY_ROUTE_LABEL);
      }
      const token = request.headers['flotilla-write-token'];
      // One statement, atomic by itself. With the balancer's write token any
      // write may run again; without one, a plain upsert may (same effect),
      // a conditional one may not.
      const safety = token !== undefined || precondition.kind === 'none' ? 'rerunnable' : 'once';
      const result = await db.statements(safety, (client) => apply(client, token));
      return sendStored(reply, result, context, KEY_ROUTE_LABEL);
    },
  );

  app.delete<{ Params: KeyParams; Headers: WriteHeaders }>(
    KEY_ROUTE,
    { schema: { params: schemas.keyParams, headers: schemas.writeHeaders }, config: { metricsRoute: KEY_ROUTE_LABEL } },
    async (request, reply) => {
      const key = request.params['*'];
      if (request.headers['if-none-match'] !== undefined) {
        throw new WorkerError('WRK_ERR_BAD_PRECONDITION', 'If-None-Match is not supported on DELETE');
      }
      const precondition = writePrecondition(request.headers['if-match'], undefined);
      const apply = async (client: Parameters<typeof kv.delete>[0], token?: string): Promise<IdempotentResult> => {
        const outcome = await kv.delete(client, key, precondition, token);
        if (outcome.kind === 'deleted') return { response: { statusCode: 204, headers: {}, body: null }, replayed: outcome.replayed };
        if (outcome.kind === 'not-found') {
          return { response: { statusCode: 404, headers: {}, body: errorBody('WRK_ERR_NOT_FOUND', `key "${key}" does not exist`) }, replayed: false };
        }
        return {
          response: { statusCode: 412, headers: {}, body: errorBody('WRK_ERR_PRECONDITION_FAILED', `key "${key}" does not match the precondition`) },
          replayed: false,
        };
      };
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey !== undefined) {
        const print = fingerprint(['DELETE', key, request.headers['if-match']]);
        const result = await db.transaction('rerunnable', (client) =>
          runIdempotent(client, idempotencyKey, print, async () => (await apply(client)).response),
        );
        return sendStored(reply, result, context, KEY_ROUTE_LABEL);
      }
      const token = request.headers['flotilla-write-token'];
      // Without a token, a second run after a committed first would answer
      // 404 for a delete that worked; with one, it replays the 204.
      const result = await db.statements(token !== undefined ? 'rerunnable' : 'once', (client) => apply(client, token));
      return sendStored(reply, result, context, KEY_ROUTE_LABEL);
    },
  );

  app.get<{ Querystring: { prefix?: string; after?: string; limit?: number } }>(
    '/v1/kv',
    { schema: { querystring: schemas.listQuery } },
    async (request) => {
      const { prefix = '', after, limit = limits.pageDefault } = request.query;
      return db.statements('rerunnable', (client) => kv.list(client, prefix, after, limit));
    },
  );
}
