import { ServiceProcess } from './service-process.js';

export interface BalancerHandle {
  readonly process: ServiceProcess;
  readonly url: string;
  readonly adminUrl: string;
  readonly port: number;
  readonly adminPort: number;
}

/**
 * Starts the real balancer (`node dist/services/balancer/main.js`) on ports
 * chosen by the OS and waits for its "balancer listening" line, which
 * carries the bound ports. Extra env overrides the defaults.
 */
export async function startBalancer(upstreams: readonly string[], env: Record<string, string> = {}): Promise<BalancerHandle> {
  const { process, ready } = await ServiceProcess.start({
    script: 'dist/services/balancer/main.js',
    env: {
      BALANCER_HOST: '127.0.0.1',
      BALANCER_PORT: '0',
      BALANCER_ADMIN_PORT: '0',
      UPSTREAMS: upstreams.join(','),
      LOG_LEVEL: 'info',
      DRAIN_DELAY_MS: '200',
      ...env,
    },
    readyMessage: 'balancer listening',
  });
  const port = Number(ready.port);
  const adminPort = Number(ready.adminPort);
  return { process, port, adminPort, url: `http://127.0.0.1:${port}`, adminUrl: `http://127.0.0.1:${adminPort}` };
}
