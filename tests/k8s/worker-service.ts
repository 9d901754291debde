import { CoreV1Api, DiscoveryV1Api, KubeConfig } from '@kubernetes/client-node';
import type { ControlPlane } from './control-plane.js';

/**
 * A namespace holding a worker Service (ports http 8080 and admin 9090), the
 * admin kubeconfig and a Discovery API client: the setup of every
 * EndpointSlice test. The Service has no selector: nothing but the test
 * writes its EndpointSlices (no controller manager runs anyway).
 */
export async function createWorkerService(cp: ControlPlane, namespace: string, service: string): Promise<{ kubeConfig: KubeConfig; discovery: DiscoveryV1Api }> {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cp.kubeconfig);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedService({
    namespace,
    body: { metadata: { name: service }, spec: { ports: [{ name: 'http', port: 8080 }, { name: 'admin', port: 9090 }] } },
  });
  return { kubeConfig, discovery: kubeConfig.makeApiClient(DiscoveryV1Api) };
}
