import { freePort } from './free-port.js';
import { ServiceProcess } from './service-process.js';

/** Starts one upstream process on the given ports (they stay fixed across restarts, as a pod IP would). */
export type UpstreamLauncher = (name: string, port: number, adminPort: number) => Promise<ServiceProcess>;

/**
 * An upstream the chaos tests can kill, pause and restart: the stand-in
 * fixture server or a real worker, behind one interface, so the same
 * scenarios run against both.
 */
export class ChaosUpstream {
  private current: ServiceProcess;

  private constructor(
    readonly name: string,
    readonly port: number,
    readonly adminPort: number,
    private readonly launch: UpstreamLauncher,
    first: ServiceProcess,
  ) {
    this.current = first;
  }

  static async start(name: string, launch: UpstreamLauncher): Promise<ChaosUpstream> {
    const port = await freePort();
    const adminPort = await freePort();
    return new ChaosUpstream(name, port, adminPort, launch, await launch(name, port, adminPort));
  }

  get process(): ServiceProcess {
    return this.current;
  }

  /** The UPSTREAMS entry for the balancer's static discovery. */
  get entry(): string {
    return `http://127.0.0.1:${this.port}?admin=${this.adminPort}`;
  }

  signal(signal: NodeJS.Signals): void {
    this.current.signal(signal);
  }

  /** Starts it again on the same ports once the previous process has exited. */
  async restart(): Promise<void> {
    await this.current.waitForExit(20_000);
    this.current = await this.launch(this.name, this.port, this.adminPort);
  }

  async stop(): Promise<void> {
    await this.current.stop(5_000);
  }
}

/** The stand-in worker in tests/fixtures/balancer/upstream-server.mjs. */
export function fixtureLauncher(env: Record<string, string> = {}): UpstreamLauncher {
  return async (name, port, adminPort) => {
    const { process } = await ServiceProcess.start({
      script: 'tests/fixtures/balancer/upstream-server.mjs',
      env: { UPSTREAM_NAME: name, PORT: String(port), ADMIN_PORT: String(adminPort), ...env },
      readyMessage: 'upstream listening',
      timeoutMs: 10_000,
    });
    return process;
  };
}

export async function startUpstreams(count: number, launch: UpstreamLauncher): Promise<ChaosUpstream[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => ChaosUpstream.start(`up${i + 1}`, launch)));
}
