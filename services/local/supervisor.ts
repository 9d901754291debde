import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { CrashBackoff, type Env } from '../shared/index.js';
import type { LocalConfig } from './config.js';
import { LocalError } from './errors.js';
import { runMigrations } from './migrations.js';
import { assertPortsFree } from './port-check.js';
import { LocalPostgres } from './postgres-server.js';
import { Replica } from './replica.js';
import { cleanUpStaleRun } from './stale-run.js';
import { removeStateFile, stateFilePath, writeStateFile, type LocalRunState } from './state-file.js';

export const DATABASE_NAME = 'flotilla';
const WORKER_SCRIPT = 'dist/services/worker/main.js';
const BALANCER_SCRIPT = 'dist/services/balancer/main.js';
const HOST = '127.0.0.1';

export interface SupervisorDeps {
  /** The supervisor's own environment; children inherit it, so service settings (e.g. BALANCER_PICKER) pass through. */
  readonly env: Env;
  readonly node: string;
  readonly repoRoot: string;
  readonly uid: number | undefined;
  readonly pid: number;
  readonly log: (message: string) => void;
}

async function httpReady(url: string): Promise<boolean> {
  try {
    const response = await request(url, { signal: AbortSignal.timeout(1_000), headersTimeout: 1_000, bodyTimeout: 1_000 });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

/**
 * The whole system on one machine: Postgres, migrations, N workers and the
 * balancer with a static upstream list, each kept alive by a Replica. Stops
 * in the reverse order: traffic first (balancer, workers), data last.
 */
export class LocalSupervisor {
  private postgres: Replica | undefined;
  private balancer: Replica | undefined;
  private readonly workers: Replica[] = [];
  private status: LocalRunState['status'] = 'starting';
  private stopping: Promise<void> | undefined;
  /** Set once this supervisor wrote the state file; a run refused at start must not delete another run's file. */
  private ownsStateFile = false;
  private readonly startedAt = new Date().toISOString();
  readonly stateFile: string;

  constructor(
    private readonly config: LocalConfig,
    private readonly deps: SupervisorDeps,
  ) {
    this.stateFile = stateFilePath(config.dataDir);
  }

  get balancerUrl(): string {
    return `http://${HOST}:${this.config.balancerPort}`;
  }

  get balancerAdminUrl(): string {
    return `http://${HOST}:${this.config.balancerAdminPort}`;
  }

  workerUrl(index: number): { url: string; adminUrl: string } {
    return { url: `http://${HOST}:${this.config.workerPort + index}`, adminUrl: `http://${HOST}:${this.config.workerAdminPort + index}` };
  }

  state(): LocalRunState {
    const { balancerUrl, balancerAdminUrl } = this;
    return {
      version: 1,
      status: this.status,
      supervisorPid: this.deps.pid,
      startedAt: this.startedAt,
      dataDir: this.config.dataDir,
      postgres: { pid: this.postgres?.pid, port: this.config.postgresPort },
      balancer: this.balancer?.state() ?? { name: 'balancer', pid: undefined, url: balancerUrl, adminUrl: balancerAdminUrl, restarts: 0 },
      workers: this.workers.map((worker) => worker.state()),
    };
  }

  /** Starts every part and resolves once all are ready; on failure the caller must still call stop(). */
  async start(): Promise<void> {
    const { config, deps } = this;
    for (const script of [WORKER_SCRIPT, BALANCER_SCRIPT]) {
      if (!existsSync(join(deps.repoRoot, script))) {
        throw new LocalError('LOCAL_ERR_NOT_BUILT', `${script} is missing; run npm run build first`);
      }
    }
    mkdirSync(config.dataDir, { recursive: true });
    await cleanUpStaleRun(this.stateFile, deps.log);
    await assertPortsFree(this.portOwners());
    this.writeState();

    const pg = await LocalPostgres.prepare({ dataDir: config.dataDir, port: config.postgresPort, uid: deps.uid }, deps.log);
    this.postgres = this.replica('postgres', `postgres://${HOST}:${config.postgresPort}`, '', pg.spec(this.logFile('postgres')), () => pg.probe(), 'SIGINT');
    await this.startPart(this.postgres);
    if (await pg.ensureDatabase(DATABASE_NAME)) deps.log(`created database "${DATABASE_NAME}"`);

    const databaseUrl = pg.url(DATABASE_NAME);
    await this.step(() =>
      runMigrations({
        node: deps.node,
        workerScript: join(deps.repoRoot, WORKER_SCRIPT),
        env: { ...deps.env, DATABASE_URL: databaseUrl, LOG_LEVEL: config.logLevel },
        logFile: this.logFile('migrate'),
        timeoutMs: config.startTimeoutMs,
      }),
    );

    const upstreams: string[] = [];
    const workerUrls: string[] = [];
    for (let i = 0; i < config.workers; i += 1) {
      upstreams.push(`http://${HOST}:${config.workerPort + i}?admin=${config.workerAdminPort + i}`);
      workerUrls.push(this.workerUrl(i).url);
    }
    for (let i = 0; i < config.workers; i += 1) {
      const { url, adminUrl } = this.workerUrl(i);
      const env = {
        // The drain delay gives the balancer's health checks time to see readiness fail.
        DRAIN_DELAY_MS: '1000',
        ...deps.env,
        DATABASE_URL: databaseUrl,
        HOST,
        PORT: String(config.workerPort + i),
        ADMIN_PORT: String(config.workerAdminPort + i),
        WORKER_ID: `worker-${i + 1}`,
        LOG_LEVEL: config.logLevel,
        MIGRATE_ON_START: 'false',
        PEERS: workerUrls.filter((peer) => peer !== url).join(','),
      };
      const spec = { command: deps.node, args: [join(deps.repoRoot, WORKER_SCRIPT)], env, logFile: this.logFile(`worker-${i + 1}`), cwd: deps.repoRoot };
      this.workers.push(this.replica(`worker-${i + 1}`, url, adminUrl, spec, () => httpReady(`${adminUrl}/readyz`), 'SIGTERM'));
    }
    await this.step(() => Promise.all(this.workers.map((worker) => worker.start())));

    const balancerEnv = {
      HEALTH_CHECK_ENABLED: 'true',
      HEALTH_CHECK_INTERVAL_MS: '1000',
      DRAIN_DELAY_MS: '500',
      ...deps.env,
      DISCOVERY: 'static',
      UPSTREAMS: upstreams.join(','),
      BALANCER_HOST: HOST,
      BALANCER_PORT: String(config.balancerPort),
      BALANCER_ADMIN_PORT: String(config.balancerAdminPort),
      LOG_LEVEL: config.logLevel,
    };
    const balancerSpec = { command: deps.node, args: [join(deps.repoRoot, BALANCER_SCRIPT)], env: balancerEnv, logFile: this.logFile('balancer'), cwd: deps.repoRoot };
    this.balancer = this.replica('balancer', this.balancerUrl, this.balancerAdminUrl, balancerSpec, () => httpReady(`${this.balancerAdminUrl}/readyz`), 'SIGTERM');
    await this.startPart(this.balancer);
    this.status = 'ready';
    this.writeState();
  }

  /** Idempotent: a second call (a second Ctrl-C, npm forwarding the signal again) waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= this.stopAll();
    return this.stopping;
  }

  logsDir(): string {
    return join(this.config.dataDir, 'logs');
  }

  private async stopAll(): Promise<void> {
    this.status = 'stopping';
    if (existsSync(this.stateFile)) this.writeState();
    await Promise.all([this.balancer, ...this.workers].map((part) => part?.stop()));
    await this.postgres?.stop();
    if (this.ownsStateFile) removeStateFile(this.stateFile);
  }

  private async startPart(part: Replica): Promise<void> {
    await this.step(() => part.start());
  }

  /** Runs one start-up step unless a stop already began, so Ctrl-C during start-up is honoured promptly. */
  private async step(action: () => Promise<unknown>): Promise<void> {
    if (this.stopping !== undefined) throw new LocalError('LOCAL_ERR_START_TIMEOUT', 'start-up interrupted by a stop');
    await action();
  }

  private replica(
    name: string,
    url: string,
    adminUrl: string,
    spec: ConstructorParameters<typeof Replica>[0]['spec'],
    probe: () => Promise<boolean>,
    stopSignal: NodeJS.Signals,
  ): Replica {
    return new Replica({
      name,
      url,
      adminUrl,
      spec,
      probe,
      backoff: new CrashBackoff(this.config.restartBackoffMs, this.config.restartBackoffMaxMs, 30_000),
      startTimeoutMs: this.config.startTimeoutMs,
      stopSignal,
      // Past the worker's and balancer's own shutdown limits (25 s / 30 s), then SIGKILL.
      stopTimeoutMs: 35_000,
      onChange: () => this.writeState(),
      log: this.deps.log,
    });
  }

  private writeState(): void {
    // Before start-up claimed the file it may be another run's; after a clean stop it is gone and must stay gone.
    if (this.status === 'stopping' && (!this.ownsStateFile || !existsSync(this.stateFile))) return;
    writeStateFile(this.stateFile, this.state());
    this.ownsStateFile = true;
  }

  private logFile(name: string): string {
    return join(this.logsDir(), `${name}.log`);
  }

  private portOwners(): Map<number, string> {
    const { config } = this;
    const owners = new Map<number, string>([
      [config.balancerPort, 'balancer'],
      [config.balancerAdminPort, 'balancer admin'],
      [config.postgresPort, 'postgres'],
    ]);
    for (let i = 0; i < config.workers; i += 1) {
      owners.set(config.workerPort + i, `worker-${i + 1}`);
      owners.set(config.workerAdminPort + i, `worker-${i + 1} admin`);
    }
    return owners;
  }
}
