import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { fingerprint, runIdempotent, type StoredResponse } from '../db/idempotency.js';
import type { buildSchemas } from '../schemas.js';
import { sendStored, type RouteContext, type WriteHeaders } from './context.js';

type Schemas = ReturnType<typeof buildSchemas>;

/** /v1/counters: increments applied exactly once per Idempotency-Key. */
export function registerCounterRoutes(app: FastifyInstance, context: RouteContext, schemas: Schemas): void {
  const { db, counters } = context;

  app.post<{ Params: { name: string }; Body: { by?: number } | undefined; Headers: WriteHeaders }>(
    '/v1/counters/:name/increment',
    {
      schema: { params: schemas.nameParams, body: schemas.incrementBody, headers: schemas.writeHeaders },
      // A bodiless POST increments by 1.
      preValidation: async (request) => {
        if (request.body === undefined || request.body === null) request.body = {};
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const by = request.body?.by ?? 1;
      const apply = async (client: pg.PoolClient): Promise<StoredResponse> => {
        const value = await counters.increment(client, name, by);
        return { statusCode: 200, headers: {}, body: { name, value } };
      };
      const idempotencyKey = request.headers['idempotency-key'];
      if (idempotencyKey === undefined) {
        // Without a key nobody can tell a retry from a new increment: run once, never again.
        // One statement, atomic by itself: no BEGIN/COMMIT around it.
        const response = await db.statements('once', apply);
        return sendStored(reply, { response, replayed: false }, context, '/v1/counters/:name/increment');
      }
      const print = fingerprint(['INCREMENT', name, by]);
      const result = await db.transaction('rerunnable', (client) => runIdempotent(client, idempotencyKey, print, () => apply(client)));
      return sendStored(reply, result, context, '/v1/counters/:name/increment');
    },
  );

  app.get<{ Params: { name: string } }>('/v1/counters/:name', { schema: { params: schemas.nameParams } }, async (request) => {
    const { name } = request.params;
    const value = await db.statements('rerunnable', (client) => counters.get(client, name));
    return { name, value };
  });
}
