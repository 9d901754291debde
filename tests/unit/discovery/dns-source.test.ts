import { createLogger, DnsEndpointSource, type Endpoint } from '../../../services/shared/index.js';

describe('when discovery resolves a name through DNS', () => {
  test('then every address of the name becomes a ready endpoint on the configured port', async () => {
    const source = new DnsEndpointSource({ hostname: 'localhost', port: 8080, adminPort: 9090, intervalMs: 60_000, logger: createLogger('test', 'silent') });
    const seen: (readonly Endpoint[])[] = [];
    source.subscribe((endpoints) => seen.push(endpoints));
    await source.start();
    await source.stop();
    const hosts = source.current().map((e) => e.host);
    expect(hosts).toContain('127.0.0.1');
    expect(source.current().every((e) => e.ready && e.port === 8080 && e.adminPort === 9090)).toBe(true);
    expect(seen).toHaveLength(1);
  });

  test('then a failed lookup keeps the last known endpoints', async () => {
    let fail = false;
    const source = new DnsEndpointSource({
      hostname: 'workers',
      port: 8080,
      intervalMs: 20,
      logger: createLogger('test', 'silent'),
      resolve: async () => {
        if (fail) throw new Error('SERVFAIL');
        return ['10.0.0.2', '10.0.0.1'];
      },
    });
    await source.start();
    expect(source.current().map((e) => e.id)).toEqual(['10.0.0.1:8080', '10.0.0.2:8080']);
    fail = true;
    await new Promise((r) => setTimeout(r, 100));
    await source.stop();
    expect(source.current()).toHaveLength(2);
  });
});
