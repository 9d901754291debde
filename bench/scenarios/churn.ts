import { SMALL_GET, measureRounds, warmUpPeer } from '../measure.js';
import { rssMiB } from '../load/probe.js';
import type { Peer } from '../peers/peer.js';
import type { RunRow } from '../results.js';
import { httpGet } from '../wait-http.js';
import type { ScenarioContext } from './context.js';

/** How often the fourth endpoint comes or goes (issue 15: "an endpoint added and removed every 100 ms"). */
export const CHURN_MS = 100;
/** Not a divisor of CHURN_MS, so that the samples fall on both states of the set. */
const SAMPLE_MS = 230;

/** Endpoints the balancer knows now: series of balancer_endpoint_state at 1 (one per endpoint, in its current state). */
export async function knownEndpoints(peer: Peer): Promise<number> {
  if (peer.adminUrl === undefined) return Number.NaN;
  const { body } = await httpGet(`${peer.adminUrl}/metrics`, 2_000);
  return body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.startsWith('balancer_endpoint_state{') && l.endsWith(' 1')).length;
}

/** A running churn: started after the steady rounds, stopped before the churned row is written. */
export interface Churn {
  /** What was changed, for the row's detail: "120 hosts-file changes". */
  summary(): string;
  /** Stops the timer; resolves once no change is in flight any more. */
  stop(): Promise<void>;
}

/**
 * Calls change(true), change(false), … every CHURN_MS, the fourth endpoint in
 * and out. A change is awaited before the next one starts (an API call that
 * is slower than CHURN_MS delays the next instead of piling up behind it);
 * the next starts CHURN_MS after the previous one started, or at once if
 * that is past. A failed change is counted and retried with the same state.
 */
export function startChurn(change: (withFourth: boolean) => Promise<void> | void, noun: string): Churn {
  let stopped = false;
  let withFourth = false;
  let [changes, failures] = [0, 0];
  let lastError = '';
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<void> = Promise.resolve();
  const tick = (): void => {
    const started = Date.now();
    inFlight = (async () => {
      try {
        await change(!withFourth);
        withFourth = !withFourth;
        changes++;
      } catch (err) {
        failures++;
        lastError = (err as Error).message;
      }
      if (!stopped) timer = setTimeout(tick, Math.max(0, started + CHURN_MS - Date.now()));
    })();
  };
  timer = setTimeout(tick, CHURN_MS);
  return {
    summary: () => `${changes} ${noun}${failures > 0 ? ` (${failures} failed, last: ${lastError})` : ''}`,
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await inFlight;
    },
  };
}

/** The two rows of one discovery path: its case names, and its scenario names in the log and the JSON. */
export interface ChurnCases {
  readonly steadyCase: string;
  readonly steadyScenario: string;
  readonly churnCase: string;
  readonly churnScenario: string;
}

/**
 * The churn comparison of one discovery path, on one balancer: warm-up,
 * small GET without churn, then small GET while `begin()`'s churn runs, with
 * /metrics sampled meanwhile to show that the balancer followed it. Same
 * balancer for both, so that the difference is the churn, not a restart.
 */
export async function measureSteadyThenChurned(ctx: ScenarioContext, peer: Peer, cases: ChurnCases, begin: () => Churn): Promise<void> {
  await warmUpPeer(ctx, peer);
  const [steady] = await measureRounds(ctx, [peer], SMALL_GET, cases.steadyScenario);
  if (steady !== undefined) {
    ctx.runs.push(steady);
    ctx.growth.push({ case: cases.steadyCase, run: steady, rssMiB: rssMiB(peer.child.pid), detail: `${await knownEndpoints(peer)} endpoints known` });
  }
  const seen = new Set<number>();
  const churn = begin();
  const sampler = setInterval(() => {
    knownEndpoints(peer).then((n) => seen.add(n), () => undefined);
  }, SAMPLE_MS);
  let churned: RunRow | undefined;
  try {
    [churned] = await measureRounds(ctx, [peer], SMALL_GET, cases.churnScenario);
  } finally {
    clearInterval(sampler);
    await churn.stop();
  }
  if (churned !== undefined) {
    ctx.runs.push(churned);
    const detail = `${churn.summary()}; endpoint counts seen on /metrics: ${[...seen].sort((a, b) => a - b).join(', ')}`;
    ctx.growth.push({ case: cases.churnCase, run: churned, rssMiB: rssMiB(peer.child.pid), detail });
  }
}
