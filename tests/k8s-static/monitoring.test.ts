import type { V1Service } from '@kubernetes/client-node';
import { container, findAll, labelsMatch, portNumber, renderOverlay, renderWithComponents, workload, type K8sObject } from './render.js';

interface ServiceMonitor extends K8sObject {
  readonly spec: { readonly selector: { readonly matchLabels: Record<string, string> }; readonly endpoints: { readonly port: string; readonly path?: string }[] };
}

const SCRAPE_ANNOTATIONS = ['prometheus.io/scrape', 'prometheus.io/port', 'prometheus.io/path'];

describe.each([
  { overlay: 'dev', namespace: 'flotilla-dev' },
  { overlay: 'prod', namespace: 'flotilla' },
])('when the $overlay overlay is rendered', ({ overlay, namespace }) => {
  test('then balancer and worker pods carry scrape annotations for the admin port, and there is no ServiceMonitor', () => {
    const objects = renderOverlay(overlay);
    for (const name of ['balancer', 'worker']) {
      const w = workload(objects, name);
      const annotations = w.template.metadata?.annotations ?? {};
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(Number(annotations['prometheus.io/port'])).toBe(portNumber(container(w, name), 'admin'));
      expect(annotations['prometheus.io/path']).toBe('/metrics');
    }
    expect(findAll(objects, 'ServiceMonitor')).toEqual([]);
  });

  test('then with the monitoring component the annotations are gone and a ServiceMonitor scrapes each admin port instead', () => {
    const objects = renderWithComponents(overlay, namespace, ['monitoring']);
    for (const w of ['balancer', 'worker', 'postgres'].map((name) => workload(objects, name))) {
      const annotations = Object.keys(w.template.metadata?.annotations ?? {});
      expect(annotations.filter((a) => SCRAPE_ANNOTATIONS.includes(a))).toEqual([]);
    }
    const monitors = findAll<ServiceMonitor>(objects, 'ServiceMonitor');
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['balancer', 'worker']);
    for (const monitor of monitors) {
      const w = workload(objects, monitor.metadata.name);
      const services = findAll<V1Service & K8sObject>(objects, 'Service').filter((s) => labelsMatch(monitor.spec.selector.matchLabels, s.metadata.labels));
      // One Service per monitor, or every pod would be scraped once per Service.
      expect(services).toHaveLength(1);
      const service = services[0];
      expect(labelsMatch(service?.spec?.selector, w.template.metadata?.labels)).toBe(true);
      for (const endpoint of monitor.spec.endpoints) {
        const port = service?.spec?.ports?.find((p) => p.name === endpoint.port);
        expect([monitor.metadata.name, portNumber(container(w, w.name), port?.targetPort)]).toEqual([monitor.metadata.name, 9090]);
        expect(endpoint.path).toBe('/metrics');
      }
    }
  });
});
