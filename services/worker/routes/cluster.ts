import type { FastifyInstance } from 'fastify';
import type { EndpointSource } from '../../shared/index.js';

export interface ClusterIdentity {
  readonly id: string;
  readonly startedAt: string;
}

/** GET /v1/cluster: who answered, and the peers this worker sees through discovery. */
export function registerClusterRoutes(app: FastifyInstance, identity: ClusterIdentity, peers: EndpointSource): void {
  app.get('/v1/cluster', async () => ({
    self: identity,
    discovery: peers.description,
    peers: peers.current().map((peer) => ({
      id: peer.id,
      ...(peer.name !== undefined ? { name: peer.name } : {}),
      ready: peer.ready,
      serving: peer.serving,
      terminating: peer.terminating,
    })),
  }));
}
