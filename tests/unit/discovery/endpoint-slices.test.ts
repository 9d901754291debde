import type { DiscoveryV1EndpointPort, V1EndpointSlice } from '@kubernetes/client-node';
import { endpointsFromSlices } from '../../../services/shared/index.js';

function slice(
  name: string,
  endpoints: V1EndpointSlice['endpoints'],
  ports: DiscoveryV1EndpointPort[] = [
    { name: 'http', port: 8080 },
    { name: 'admin', port: 9090 },
  ],
): V1EndpointSlice {
  return { addressType: 'IPv4', metadata: { name }, endpoints, ports };
}

const PORTS = { portName: 'http', adminPortName: 'admin' };

describe('when EndpointSlices are merged into endpoints', () => {
  test('then missing conditions mean ready, serving and not terminating', () => {
    const [endpoint] = endpointsFromSlices([slice('a', [{ addresses: ['10.0.0.1'], targetRef: { name: 'worker-1' } }])], PORTS);
    expect(endpoint).toEqual({ id: '10.0.0.1:8080', host: '10.0.0.1', port: 8080, adminPort: 9090, ready: true, serving: true, terminating: false, name: 'worker-1' });
  });

  test('then a terminating endpoint is never ready, but may still be serving', () => {
    const [endpoint] = endpointsFromSlices(
      [slice('a', [{ addresses: ['10.0.0.1'], conditions: { ready: false, serving: true, terminating: true } }])],
      PORTS,
    );
    expect(endpoint).toMatchObject({ ready: false, serving: true, terminating: true });
  });

  test('then slices of one service are merged and an endpoint in two slices appears once, conservatively', () => {
    const endpoints = endpointsFromSlices(
      [
        slice('a', [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }]),
        slice('b', [{ addresses: ['10.0.0.2'], conditions: { ready: false } }, { addresses: ['10.0.0.3'] }]),
      ],
      PORTS,
    );
    expect(endpoints.map((e) => [e.id, e.ready])).toEqual([
      ['10.0.0.1:8080', true],
      ['10.0.0.2:8080', false],
      ['10.0.0.3:8080', true],
    ]);
  });

  test('then the data port is found by name, or as the only port, and FQDN slices are skipped', () => {
    expect(endpointsFromSlices([slice('a', [{ addresses: ['10.0.0.1'] }], [{ name: 'other', port: 1 }])], PORTS)).toEqual([]);
    expect(endpointsFromSlices([slice('a', [{ addresses: ['10.0.0.1'] }], [{ port: 7000 }])], {})[0]?.port).toBe(7000);
    expect(endpointsFromSlices([{ ...slice('a', [{ addresses: ['x.example'] }]), addressType: 'FQDN' }], PORTS)).toEqual([]);
  });

  test('then IPv6 endpoints get a bracketed id', () => {
    const [endpoint] = endpointsFromSlices([{ ...slice('a', [{ addresses: ['fd00::1'] }]), addressType: 'IPv6' }], PORTS);
    expect(endpoint?.id).toBe('[fd00::1]:8080');
  });
});
