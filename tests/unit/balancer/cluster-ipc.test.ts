import { IpcEndpointSource } from '../../../services/balancer/cluster/ipc-endpoint-source.js';
import { isEndpoint, parseToPrimary, parseToWorker } from '../../../services/balancer/cluster/ipc-messages.js';
import type { Endpoint } from '../../../services/shared/index.js';

const endpoint: Endpoint = { id: '10.0.0.7:8080', host: '10.0.0.7', port: 8080, adminPort: 9090, ready: true, serving: true, terminating: false, name: 'worker-0' };

describe('cluster IPC messages', () => {
  it('when the primary sends well-formed messages, then the worker parses each of them', () => {
    expect(parseToWorker({ type: 'flotilla:endpoints', description: 'static(1)', endpoints: [endpoint] })).toEqual({ type: 'flotilla:endpoints', description: 'static(1)', endpoints: [endpoint] });
    expect(parseToWorker({ type: 'flotilla:query', id: 7, what: 'metrics' })).toEqual({ type: 'flotilla:query', id: 7, what: 'metrics' });
    expect(parseToWorker({ type: 'flotilla:drain', signal: 'SIGTERM' })).toEqual({ type: 'flotilla:drain', signal: 'SIGTERM' });
  });

  it.each([
    ['not an object', 'flotilla:drain'],
    ['an unknown type', { type: 'flotilla:reboot' }],
    ["prom-client's own request", { type: 'prom-client:getMetricsReq', requestId: 1 }],
    ['an endpoint without a port', { type: 'flotilla:endpoints', description: 'x', endpoints: [{ ...endpoint, port: undefined }] }],
    ['an endpoint with a string port', { type: 'flotilla:endpoints', description: 'x', endpoints: [{ ...endpoint, port: '8080' }] }],
    ['endpoints that are not a list', { type: 'flotilla:endpoints', description: 'x', endpoints: endpoint }],
    ['a query for something unknown', { type: 'flotilla:query', id: 1, what: 'secrets' }],
    ['a query with a fractional id', { type: 'flotilla:query', id: 1.5, what: 'traffic' }],
    ['a drain with another signal', { type: 'flotilla:drain', signal: 'SIGKILL' }],
  ])('when the primary sends %s, then the worker drops it', (_what, message) => {
    expect(parseToWorker(message)).toBeUndefined();
  });

  it('when a worker sends well-formed or malformed messages, then the primary keeps only the well-formed ones', () => {
    expect(parseToPrimary({ type: 'flotilla:hello' })).toEqual({ type: 'flotilla:hello' });
    expect(parseToPrimary({ type: 'flotilla:listening', port: 8080 })).toEqual({ type: 'flotilla:listening', port: 8080 });
    expect(parseToPrimary({ type: 'flotilla:state', ready: false, reason: 'draining' })).toEqual({ type: 'flotilla:state', ready: false, reason: 'draining' });
    expect(parseToPrimary({ type: 'flotilla:state', ready: true })).toEqual({ type: 'flotilla:state', ready: true });
    expect(parseToPrimary({ type: 'flotilla:reply', id: 3, ok: true, body: { a: 1 } })).toEqual({ type: 'flotilla:reply', id: 3, ok: true, body: { a: 1 } });
    expect(parseToPrimary({ type: 'flotilla:reply', id: 3, ok: false, error: 'boom' })).toEqual({ type: 'flotilla:reply', id: 3, ok: false, error: 'boom' });
    for (const bad of [
      null,
      { type: 'flotilla:listening', port: 0 },
      { type: 'flotilla:listening', port: 70_000 },
      { type: 'flotilla:state', ready: 'yes' },
      { type: 'flotilla:state', ready: false, reason: 5 },
      { type: 'flotilla:reply', id: -1, ok: true, body: 1 },
      { type: 'flotilla:reply', id: 1, ok: false },
      { type: 'flotilla:reply', id: 1 },
    ]) {
      expect(parseToPrimary(bad)).toBeUndefined();
    }
  });

  it('when an endpoint has optional fields or wrong ones, then isEndpoint tells them apart', () => {
    expect(isEndpoint({ id: 'a:1', host: 'a', port: 1, ready: true, serving: true, terminating: false })).toBe(true);
    expect(isEndpoint({ ...endpoint, zone: 3 })).toBe(false);
    expect(isEndpoint({ ...endpoint, ready: 'true' })).toBe(false);
    expect(isEndpoint([endpoint])).toBe(false);
  });
});

describe('IPC-fed endpoint source', () => {
  it('when started, then it asks the primary and resolves on the first set, which subscribers and current() see', async () => {
    let asked = 0;
    const source = new IpcEndpointSource({ askPrimary: () => (asked += 1) });
    const seen: (readonly Endpoint[])[] = [];
    source.subscribe((endpoints) => seen.push(endpoints));
    const started = source.start();
    expect(asked).toBe(1);
    source.receive('kubernetes(flotilla/worker)', [endpoint]);
    await started;
    expect(source.current()).toEqual([endpoint]);
    expect(source.description).toBe('primary:kubernetes(flotilla/worker)');
    source.receive('kubernetes(flotilla/worker)', []);
    expect(seen).toEqual([[endpoint], []]);
    expect(Object.isFrozen(source.current())).toBe(true);
  });

  it('when the primary never answers, then start() gives up after its bounded wait with no endpoints', async () => {
    const source = new IpcEndpointSource({ askPrimary: () => undefined, firstViewTimeoutMs: 20 });
    await source.start();
    expect(source.current()).toEqual([]);
    expect(source.description).toBe('primary:pending');
  });
});
