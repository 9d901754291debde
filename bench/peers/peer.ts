import type { Child } from '../child-processes.js';

/** Something the load generator aims at: a proxy in front of the upstreams, or one upstream directly. */
export interface Peer {
  /** Short stable id used in results ("nginx", "haproxy", "balancer", "direct", …). */
  readonly id: string;
  /** What it is and how it balances, for the table. */
  readonly label: string;
  /** Base URL, http://127.0.0.1:PORT. */
  readonly url: string;
  /** The process (group) whose CPU time the run measures; for direct, the upstream itself. */
  readonly child: Child;
  /** Generated configuration file, kept for the record (undefined for env-configured peers). */
  readonly configFile?: string;
  /** The balancer's admin port (metrics), for the growth group's RSS and event-loop lag. */
  readonly adminUrl?: string;
}

/** The peers a scenario compares against: the ratios in the table are relative to these. */
export const REFERENCE_IDS = { nginx: 'nginx', haproxy: 'haproxy' } as const;
