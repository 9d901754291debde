import { join } from 'node:path';
import type { ClusterConfig } from './config.js';
import { Daemons } from './daemons.js';
import { run, type RunOptions, type RunResult } from './exec.js';
import { clusterPaths, type ClusterPaths } from './paths.js';
import { Status } from './status.js';

/** The daemon that holds the cluster's mount namespace (see steps/namespaces.ts). */
export const NAMESPACE_HOLDER = 'namespace-holder';

/**
 * What every step shares: the configuration, where files go, progress
 * output, the daemons, and a way to run a command inside the cluster's
 * network and mount namespaces.
 */
export class ClusterContext {
  readonly paths: ClusterPaths;
  readonly daemons: Daemons;

  constructor(
    readonly config: ClusterConfig,
    readonly status: Status = new Status(),
  ) {
    this.paths = clusterPaths(config);
    this.daemons = new Daemons(this.paths.pids, this.paths.logs);
  }

  get netnsPath(): string {
    return `/run/netns/${this.config.netns}`;
  }

  /** The PID whose namespaces the cluster's processes share; throws when the namespaces are not up. */
  holderPid(): number {
    const pid = this.daemons.pid(NAMESPACE_HOLDER);
    if (pid === undefined) throw new Error(`the cluster's namespaces are not up (no live ${NAMESPACE_HOLDER}); run \`npm run cluster -- up\``);
    return pid;
  }

  /** The nsenter prefix that runs a command in the cluster's network and mount namespaces. */
  inside(command: string, args: readonly string[]): [string, string[]] {
    return ['nsenter', [`--target=${this.holderPid()}`, '--mount', '--net', '--', command, ...args]];
  }


  /** The HTTP status of a GET inside the cluster's network (0: no answer); for health endpoints. */
  async httpStatus(url: string): Promise<number> {
    const probe = join(this.config.repoRoot, 'dist/scripts/cluster/probe.js');
    const { stdout } = await run('nsenter', [`--net=${this.netnsPath}`, '--', process.execPath, probe, url], { timeoutMs: 10_000 });
    return Number(stdout.trim());
  }

  /** kubectl as cluster admin (the node's network is where the API server listens). */
  kubectl(args: readonly string[], options: Partial<RunOptions> = {}): Promise<RunResult> {
    return run(
      'nsenter',
      [`--net=${this.netnsPath}`, '--', `${this.paths.k8sBin}/kubectl`, `--kubeconfig=${this.paths.adminKubeconfig}`, `--cache-dir=${this.paths.kubeCache}`, ...args],
      { timeoutMs: 60_000, ...options },
    );
  }
}
