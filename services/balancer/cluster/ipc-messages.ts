import type { Endpoint } from '../../shared/index.js';

/**
 * The messages between the cluster primary and its workers (node:cluster
 * IPC, JSON). Every type starts with "flotilla:" so that other users of the
 * channel (prom-client's own cluster protocol, if anyone enabled it) are left
 * alone. Messages are checked on arrival: the channel is ours, but a bad
 * message must be dropped and logged, not crash a process that serves traffic.
 */
export const QUERY_KINDS = ['upstreams', 'traffic', 'metrics'] as const;
export type QueryKind = (typeof QUERY_KINDS)[number];

/** Primary → worker. */
export type ToWorker =
  /** The full endpoint set from the primary's discovery, on every change and in answer to hello. */
  | { readonly type: 'flotilla:endpoints'; readonly description: string; readonly endpoints: readonly Endpoint[] }
  /** A question from the admin port; answered with flotilla:reply and the same id. */
  | { readonly type: 'flotilla:query'; readonly id: number; readonly what: QueryKind }
  /** Start the graceful shutdown (the primary got this signal). */
  | { readonly type: 'flotilla:drain'; readonly signal: NodeJS.Signals };

/** Worker → primary. */
export type ToPrimary =
  /** The worker is listening for messages and wants the endpoint set. */
  | { readonly type: 'flotilla:hello' }
  /** The data port is bound. */
  /** `redirectPort`: the plain listener that only redirects to https (BALANCER_HTTP_REDIRECT_PORT), shared like the data port. */
  | { readonly type: 'flotilla:listening'; readonly port: number; readonly redirectPort?: number }
  /** The worker's readiness, sent after start and on every endpoint change. */
  | { readonly type: 'flotilla:state'; readonly ready: boolean; readonly reason?: string }
  | { readonly type: 'flotilla:reply'; readonly id: number; readonly ok: true; readonly body: unknown }
  | { readonly type: 'flotilla:reply'; readonly id: number; readonly ok: false; readonly error: string };

type Fields = Record<string, unknown>;

function isObject(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isPort = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const optionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';

export function isEndpoint(value: unknown): value is Endpoint {
  if (!isObject(value)) return false;
  return (
    typeof value.id === 'string' &&
    typeof value.host === 'string' &&
    isPort(value.port) &&
    (value.adminPort === undefined || isPort(value.adminPort)) &&
    typeof value.ready === 'boolean' &&
    typeof value.serving === 'boolean' &&
    typeof value.terminating === 'boolean' &&
    optionalString(value.name) &&
    optionalString(value.zone)
  );
}

const SIGNALS: readonly string[] = ['SIGTERM', 'SIGINT'];

/** The message as a ToWorker, or undefined when it is not one (or not well-formed). */
export function parseToWorker(message: unknown): ToWorker | undefined {
  if (!isObject(message)) return undefined;
  switch (message.type) {
    case 'flotilla:endpoints':
      return typeof message.description === 'string' && Array.isArray(message.endpoints) && message.endpoints.every(isEndpoint)
        ? { type: message.type, description: message.description, endpoints: message.endpoints }
        : undefined;
    case 'flotilla:query':
      return isId(message.id) && (QUERY_KINDS as readonly unknown[]).includes(message.what)
        ? { type: message.type, id: message.id, what: message.what as QueryKind }
        : undefined;
    case 'flotilla:drain':
      return typeof message.signal === 'string' && SIGNALS.includes(message.signal) ? { type: message.type, signal: message.signal as NodeJS.Signals } : undefined;
    default:
      return undefined;
  }
}

/** The message as a ToPrimary, or undefined when it is not one (or not well-formed). */
export function parseToPrimary(message: unknown): ToPrimary | undefined {
  if (!isObject(message)) return undefined;
  switch (message.type) {
    case 'flotilla:hello':
      return { type: message.type };
    case 'flotilla:listening':
      if (!isPort(message.port) || message.port <= 0) return undefined;
      if (message.redirectPort === undefined) return { type: message.type, port: message.port };
      return isPort(message.redirectPort) && message.redirectPort > 0 ? { type: message.type, port: message.port, redirectPort: message.redirectPort } : undefined;
    case 'flotilla:state':
      if (typeof message.ready !== 'boolean' || !optionalString(message.reason)) return undefined;
      return { type: message.type, ready: message.ready, ...(typeof message.reason === 'string' ? { reason: message.reason } : {}) };
    case 'flotilla:reply':
      if (!isId(message.id)) return undefined;
      if (message.ok === true) return { type: message.type, id: message.id, ok: true, body: message.body };
      if (message.ok === false && typeof message.error === 'string') return { type: message.type, id: message.id, ok: false, error: message.error };
      return undefined;
    default:
      return undefined;
  }
}
