import { fileURLToPath } from 'node:url';
import type { ChildProcesses } from '../child-processes.js';
import type { Upstream } from '../upstreams.js';
import { startNodeScriptPeer } from './balancer.js';
import type { NodeRuntime } from './node-runtime.js';
import type { Peer } from './peer.js';

const HTTP_PROXY = fileURLToPath(new URL('../http-proxy-peer.js', import.meta.url));
const FASTIFY_PROXY = fileURLToPath(new URL('../fastify-proxy-peer.js', import.meta.url));

/** bench/http-proxy-peer.ts: node-http-proxy with a keep-alive agent, round-robin. */
export function startHttpProxyPeer(children: ChildProcesses, upstreams: readonly Upstream[], node?: NodeRuntime): Promise<Peer> {
  return startNodeScriptPeer(children, HTTP_PROXY, upstreams, { id: 'http-proxy', label: 'http-proxy (node-http-proxy), keep-alive agent, round-robin', ...(node ? { node } : {}) });
}

/** bench/fastify-proxy-peer.ts: @fastify/http-proxy over undici, round-robin. */
export function startFastifyProxyPeer(children: ChildProcesses, upstreams: readonly Upstream[], node?: NodeRuntime): Promise<Peer> {
  return startNodeScriptPeer(children, FASTIFY_PROXY, upstreams, { id: 'fastify-http-proxy', label: '@fastify/http-proxy (undici), round-robin', ...(node ? { node } : {}) });
}
