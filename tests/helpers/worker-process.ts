import { ServiceProcess } from './service-process.js';

export interface WorkerHandle {
  readonly process: ServiceProcess;
  readonly url: string;
  readonly adminUrl: string;
  readonly port: number;
  readonly adminPort: number;
  /** The UPSTREAMS entry for the balancer's static discovery (data URL, admin port). */
  readonly entry: string;
}

/**
 * Starts a real worker (`node dist/services/worker/main.js`) on ports chosen
 * by the OS, and waits for it to listen. Extra env overrides the defaults.
 */
export async function startWorker(databaseUrl: string, env: Record<string, string> = {}): Promise<WorkerHandle> {
  const { process, ready } = await ServiceProcess.start({
    script: 'dist/services/worker/main.js',
    env: {
      DATABASE_URL: databaseUrl,
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_PORT: '0',
      LOG_LEVEL: 'info',
      DRAIN_DELAY_MS: '200',
      PG_HEALTH_INTERVAL_MS: '250',
      ...env,
    },
    readyMessage: 'worker listening',
  });
  const port = Number(ready.port);
  const adminPort = Number(ready.adminPort);
  const url = `http://127.0.0.1:${port}`;
  return { process, port, adminPort, url, adminUrl: `http://127.0.0.1:${adminPort}`, entry: `${url}?admin=${adminPort}` };
}
