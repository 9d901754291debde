import type { V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import { parseBalancerConfig } from '../../services/balancer/index.js';
import { TestPki } from '../helpers/test-pki.js';
import { container, containerEnv, find, portNumber, renderOverlay, renderWithComponents, workload, type K8sObject } from './render.js';

describe.each([
  { overlay: 'dev', namespace: 'flotilla-dev' },
  { overlay: 'prod', namespace: 'flotilla' },
])('when the tls component is added to the $overlay overlay', ({ overlay, namespace }) => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderWithComponents(overlay, namespace, ['tls']);
  });

  test('then the balancer mounts the flotilla-balancer-tls Secret as a folder (never subPath, so rotations reach it), read-only, readable by its group only', () => {
    const w = workload(objects, 'balancer');
    const volume = w.template.spec?.volumes?.find((v) => v.secret?.secretName === 'flotilla-balancer-tls');
    expect(volume?.secret?.defaultMode).toBe(0o440);
    expect(w.template.spec?.securityContext?.fsGroup).toBe(1000);
    const mount = container(w, 'balancer').volumeMounts?.find((m) => m.name === volume?.name);
    expect(mount).toMatchObject({ mountPath: '/etc/flotilla/tls', readOnly: true });
    expect(mount?.subPath).toBeUndefined();
  });

  test('then the environment serves TLS on the https port, the redirect on the http port, and the balancer accepts it', () => {
    const c = container(workload(objects, 'balancer'), 'balancer');
    const env = containerEnv(objects, c, { fields: { 'metadata.namespace': namespace, 'metadata.name': 'balancer-0' } });
    expect(env).toMatchObject({ BALANCER_TLS_CERT_FILE: '/etc/flotilla/tls/tls.crt', BALANCER_TLS_KEY_FILE: '/etc/flotilla/tls/tls.key', BALANCER_HTTP_REDIRECT_HTTPS_PORT: '443' });
    expect(Number(env.BALANCER_PORT)).toBe(portNumber(c, 'https'));
    expect(Number(env.BALANCER_HTTP_REDIRECT_PORT)).toBe(portNumber(c, 'http'));
    // Probes stay on the plain admin port.
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(probe?.httpGet?.port).toBe('admin');
    // The same variables, with the Secret's files standing in, pass the balancer's own config parser.
    const pki = TestPki.create();
    try {
      const pair = pki.issue('tls');
      const config = parseBalancerConfig({ ...env, BALANCER_TLS_CERT_FILE: pair.certFile, BALANCER_TLS_KEY_FILE: pair.keyFile });
      expect(config.tls).toBeDefined();
      expect(config.redirect).toEqual({ port: portNumber(c, 'http'), httpsPort: 443 });
    } finally {
      pki.remove();
    }
  });

  test('then the Service takes 443 to the TLS port and keeps 80 for the redirect, and the NetworkPolicy lets both in', () => {
    const service = find<V1Service & K8sObject>(objects, 'Service', 'balancer');
    const c = container(workload(objects, 'balancer'), 'balancer');
    const ports = (service.spec?.ports ?? []).map((p) => [p.port, portNumber(c, p.targetPort)]);
    expect(ports).toEqual([
      [443, 8443],
      [80, 8080],
    ]);
    const policy = find<V1NetworkPolicy & K8sObject>(objects, 'NetworkPolicy', 'balancer-ingress');
    expect(policy.spec?.ingress?.[0]?.ports?.map((p) => p.port)).toEqual(['http', 'admin', 'https']);
  });
});

describe('when the overlays are rendered without the tls component', () => {
  test('then the balancer serves plain HTTP on 80 and mounts no certificate', () => {
    const objects = renderOverlay('prod');
    const service = find<V1Service & K8sObject>(objects, 'Service', 'balancer');
    expect(service.spec?.ports?.map((p) => p.port)).toEqual([80]);
    expect(workload(objects, 'balancer').template.spec?.volumes?.some((v) => v.secret !== undefined)).toBe(false);
  });
});
