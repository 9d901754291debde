import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { delay, type Logger } from '../../shared/index.js';
import type { AccessFields, AccessLog } from '../access-log.js';
import type { BalancerConfig } from '../config.js';
import { BalancerError, type BalancerErrorCode } from '../errors.js';
import { methodLabel, statusClass, type BalancerMetrics } from '../metrics.js';
import type { RecentTraffic } from '../admin/recent-traffic.js';
import type { Picker } from '../pick/index.js';
import type { UpstreamEndpoint } from '../upstream/upstream-endpoint.js';
import type { UpstreamTable } from '../upstream/upstream-table.js';
import { ClientPresence } from './client-presence.js';
import { InProgressList, type InProgressEntry } from './in-progress-list.js';
import { askToReconnect, authorityOf, isHttp2, protocolLabel, releaseUnreadBody, requestHasBody, type ClientRequest, type ClientResponse } from './client-protocol.js';
import { balancerErrorOf, sendError } from './error-response.js';
import { addForwardingHeaders, clientAddress, forwardableHeaders, requestIdFrom } from './headers.js';
import { NO_BODY, prepareBody, type PreparedBody } from './request-body.js';
import { requestLimitError } from './request-limits.js';
import { hashKeyOf, upstreamPath } from './request-target.js';
import type { RetryBudget } from './retry-budget.js';
import { backoffMs, isRetryableStatus, isSafeToRetry, needsWriteToken, WRITE_TOKEN_HEADER, type TryFailure } from './retry-policy.js';
import { balancerErrorIn, relayResponse } from './response-relay.js';
import { tryUpstream, type TryOutcome } from './upstream-try.js';

export interface ProxyDeps {
  readonly config: BalancerConfig;
  readonly table: UpstreamTable;
  readonly picker: Picker;
  readonly budget: RetryBudget;
  readonly metrics: BalancerMetrics;
  readonly logger: Logger;
  /** Where access lines go (access-log.ts); whether one is written follows `logger`'s level. */
  readonly accessLog: AccessLog;
  readonly random: () => number;
  readonly isDraining: () => boolean;
  /** The status page's last-minutes view (rate, errors, latency). */
  readonly traffic: RecentTraffic;
}

/** Expect is answered by Node itself (100-continue) and the body is re-sent by us, so it is not forwarded. */
/** A client's own write token is never forwarded: the token is the balancer's promise, not the client's. */
const REQUEST_DROP = new Set(['expect', WRITE_TOKEN_HEADER]);

type PickResult = { readonly upstream: UpstreamEndpoint } | { readonly upstream?: undefined; readonly why: 'no_endpoints' | 'saturated' | 'exhausted' };

/**
 * One client request on its way through the balancer. A class rather than
 * an object literal: the literal's lazy `log` getter made V8 build a new
 * accessor and closure for every request (the busiest line of serve() in the
 * small-GET profile).
 */
class Exchange {
  hashKey: string | undefined = undefined;
  upstreamLabel = 'none';
  /** Upstream tries made so far (0 when the balancer answered by itself), for the access log. */
  attempts = 0;
  private childLog: Logger | undefined;

  constructor(
    readonly req: ClientRequest,
    readonly res: ClientResponse,
    readonly method: string,
    readonly path: string,
    readonly requestId: string,
    readonly client: ClientPresence,
    readonly deadlineAt: number,
    private readonly logger: Logger,
  ) {}

  /** A logger with the request id; built only when a line is written, as most requests log nothing. */
  get log(): Logger {
    this.childLog ??= this.logger.child({ requestId: this.requestId });
    return this.childLog;
  }
}

/**
 * The response in progress on an HTTP/1.1 client socket, kept on the socket
 * itself: a WeakMap from socket to response did the same, but its set() was
 * half of serve()'s own time in the small-GET profile, and its entries are
 * ephemerons, extra work for every garbage collection.
 */
const RESPONSE_IN_PROGRESS = Symbol('flotilla.responseInProgress');
interface TrackedSocket extends Socket {
  [RESPONSE_IN_PROGRESS]?: ServerResponse | undefined;
}

const FAILURE_ANSWER: Record<TryFailure['kind'], BalancerErrorCode> = {
  connect: 'LB_ERR_UPSTREAM_UNAVAILABLE',
  timeout: 'LB_ERR_UPSTREAM_TIMEOUT',
  reset: 'LB_ERR_UPSTREAM_FAILED',
  status: 'LB_ERR_UPSTREAM_FAILED',
};

/**
 * The data plane: admission (overall concurrency limit), body preparation,
 * the try/retry loop over picked endpoints, and response streaming.
 */
export class ProxyHandler {
  private active = 0;
  private idleWaiters: Array<() => void> = [];
  /** HTTP/1.1 responses in progress, for drain() (the socket's own field cannot be walked). */
  private readonly h1InProgress = new InProgressList<ServerResponse>();

  /** The data port's scheme: https with TLS (X-Forwarded-Proto, the protocol metric). */
  private readonly scheme: 'http' | 'https';

  constructor(private readonly deps: ProxyDeps) {
    this.scheme = deps.config.tls === undefined ? 'http' : 'https';
  }

  get inFlight(): number {
    return this.active;
  }

  /** The response in progress on a client socket, for answering parse errors that arrive mid-request. */
  responseFor(socket: Socket): ServerResponse | undefined {
    return (socket as TrackedSocket)[RESPONSE_IN_PROGRESS];
  }

  /**
   * Called once when the drain begins. A request admitted before it had no
   * reason to ask for `Connection: close` (serve() checks isDraining() only
   * on arrival), so its answer, written during the drain, said keep-alive,
   * and closeAll() then cut the connection under a client that may already
   * be sending its next request on it (found by tls-drain.test.ts). Every
   * HTTP/1.1 answer not yet started now closes its connection instead
   * (RFC 9112 §9.6). HTTP/2 sessions get their GOAWAY when the listener
   * closes (tls/secure-server.ts), which in-flight streams survive.
   */
  drain(): void {
    for (const res of this.h1InProgress) if (!res.headersSent) res.setHeader('connection', 'close');
  }

  private accessFields(ex: Exchange, status: number, started: number): AccessFields {
    return {
      requestId: ex.requestId,
      method: ex.method,
      path: ex.path,
      status,
      upstream: ex.upstreamLabel,
      ms: Math.round(performance.now() - started),
      attempts: ex.attempts,
      // Which of the balancer's own errors (errors.ts) this was: a 504 or 503
      // from the balancer and one relayed from a worker look alike otherwise.
      error: status >= 400 ? balancerErrorOf(ex.res) : undefined,
    };
  }

  /** Resolves when no admitted request is in progress. */
  whenIdle(): Promise<void> {
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  readonly handle = (req: ClientRequest, res: ClientResponse): void => {
    this.serve(req, res).catch((err: unknown) => {
      this.deps.logger.error({ err }, 'proxy handler failed');
      if (!sendError(res, { code: 'LB_ERR_UPSTREAM_FAILED', close: true })) res.destroy();
    });
  };

  private async serve(req: ClientRequest, res: ClientResponse): Promise<void> {
    const { config, metrics, logger } = this.deps;
    const started = performance.now();
    const method = req.method ?? 'GET';
    const requestId = requestIdFrom(req.headers['x-request-id']);
    const client = new ClientPresence();
    const admitted = this.active < config.limits.maxInFlight;
    const exchange = new Exchange(req, res, method, upstreamPath(req.url) ?? '', requestId, client, started + config.timeouts.totalMs, logger);
    // Parse errors arrive per connection, and only HTTP/1.1 has them outside a stream.
    const h1Response = isHttp2(req) ? undefined : (res as ServerResponse);
    let inProgress: InProgressEntry<ServerResponse> | undefined;
    if (h1Response !== undefined) {
      (req.socket as TrackedSocket)[RESPONSE_IN_PROGRESS] = h1Response;
      inProgress = this.h1InProgress.add(h1Response);
    }
    if (this.deps.isDraining()) askToReconnect(req, res);
    if (admitted) this.admit();
    res.once('close', () => {
      if (!res.writableFinished) client.leave();
      if (h1Response !== undefined) {
        if (inProgress !== undefined) this.h1InProgress.remove(inProgress);
        const socket = req.socket as TrackedSocket;
        if (socket[RESPONSE_IN_PROGRESS] === h1Response) socket[RESPONSE_IN_PROGRESS] = undefined;
      }
      // 499: the client went away before an answer (the nginx convention).
      const status = res.headersSent ? res.statusCode : 499;
      const labels = { method: methodLabel(method), status_class: statusClass(status) };
      metrics.requests.inc({ method: labels.method, status_class: labels.status_class, upstream: exchange.upstreamLabel });
      metrics.protocolRequests.inc({ protocol: protocolLabel(req), scheme: this.scheme });
      const elapsedMs = performance.now() - started;
      metrics.duration.observe(labels, elapsedMs / 1000);
      this.deps.traffic.record(status, elapsedMs);
      // The access line is the debug 'request' line raised to info. The level
      // checks come first so that a line not written builds nothing.
      if (config.accessLog) {
        if (logger.isLevelEnabled('info')) this.deps.accessLog.write('access', this.accessFields(exchange, status, started));
      } else if (logger.isLevelEnabled('debug')) {
        this.deps.accessLog.write('request', this.accessFields(exchange, status, started));
      }
      if (admitted) this.leave();
    });
    if (!admitted) {
      metrics.shed.inc({ reason: 'max_in_flight' });
      sendError(res, { code: 'LB_ERR_OVERLOADED', requestId, retryAfterSeconds: config.limits.retryAfterSeconds, close: true });
      return;
    }
    const overLimit = requestLimitError(req, config.limits);
    if (overLimit !== undefined) {
      // Answered before the body is read, so the connection must close (RFC 9112 §9.6).
      metrics.clientErrors.inc({ code: overLimit });
      sendError(res, { code: overLimit, requestId, close: true });
      return;
    }
    if (exchange.path === '') {
      sendError(res, { code: 'LB_ERR_BAD_REQUEST', message: 'request target must be origin-form or absolute-form', requestId, close: true });
      return;
    }
    exchange.hashKey = hashKeyOf(req, exchange.path, config.hashKey);
    await this.proxy(exchange);
  }

  private admit(): void {
    this.active += 1;
    this.deps.budget.requestStarted();
  }

  private leave(): void {
    this.active -= 1;
    this.deps.budget.requestFinished();
    if (this.active === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** The request body as prepareBody() gives it, or undefined when it could not be read (answered here, or by the clientError handler). */
  private async readBody(ex: Exchange): Promise<PreparedBody | undefined> {
    const { config, metrics } = this.deps;
    try {
      return await prepareBody(ex.req, { bufferBytes: config.limits.retryBufferBytes, maxBodyBytes: config.limits.maxBodyBytes }, () => releaseUnreadBody(ex.req, ex.res));
    } catch (err) {
      if (err instanceof BalancerError) {
        metrics.clientErrors.inc({ code: err.code });
        // Over MAX_BODY_BYTES, found before anything was forwarded: the rest
        // of the body is read and dropped so that the 413 is not reset away
        // (closing with unread data would); the connection survives it.
        sendError(ex.res, { code: err.code, requestId: ex.requestId });
        releaseUnreadBody(ex.req, ex.res);
      }
      // Otherwise the client went away or sent a malformed body; the
      // server's clientError handler answers that one (or nobody listens).
      return undefined;
    }
  }

  private async proxy(ex: Exchange): Promise<void> {
    const { config, metrics, table, budget } = this.deps;
    // Most requests (GETs) have no body: no promise to wait for then.
    const body = requestHasBody(ex.req) ? await this.readBody(ex) : NO_BODY;
    if (body === undefined) return;
    const headers = forwardableHeaders(ex.req.rawHeaders, REQUEST_DROP);
    const authority = authorityOf(ex.req);
    // HTTP/2 carries the authority as :authority, which is never forwarded (a pseudo-header); the upstream speaks HTTP/1.1 and needs Host (RFC 9113 §8.3.1).
    if (headers['host'] === undefined && authority !== undefined) headers['host'] = authority;
    addForwardingHeaders(headers, { clientIp: clientAddress(ex.req.socket.remoteAddress), host: authority, requestId: ex.requestId, proto: this.scheme });
    const hasIdempotencyKey = ex.req.headers['idempotency-key'] !== undefined;
    // The same token on every try: the worker applies this request once (retry-policy.ts).
    if (needsWriteToken(ex.method, hasIdempotencyKey)) headers[WRITE_TOKEN_HEADER] = randomUUID();
    const replayable = body.kind !== 'stream';
    const tried = new Set<string>();

    const pick = this.pick(tried, ex.hashKey);
    if (pick.upstream === undefined) {
      const saturated = pick.why === 'saturated';
      if (saturated) metrics.shed.inc({ reason: 'endpoint_limit' });
      sendError(ex.res, {
        code: saturated ? 'LB_ERR_UPSTREAMS_SATURATED' : 'LB_ERR_NO_ENDPOINTS',
        requestId: ex.requestId,
        retryAfterSeconds: config.limits.retryAfterSeconds,
      });
      return;
    }
    let upstream: UpstreamEndpoint = pick.upstream;
    let holdsBudget = false;
    for (let attempt = 1; ; attempt++) {
      tried.add(upstream.id);
      ex.upstreamLabel = upstream.id;
      ex.attempts = attempt;
      const remaining = ex.deadlineAt - performance.now();
      const outcome: TryOutcome = await tryUpstream(
        upstream,
        { method: ex.method, path: ex.path, headers, body, timeoutMs: Math.min(config.timeouts.perTryMs, remaining), client: ex.client },
        metrics,
      );
      if (holdsBudget) budget.release();
      holdsBudget = false;
      let failure: TryFailure;
      if (outcome.kind === 'response') {
        if (!isRetryableStatus(outcome.status)) {
          table.recordSuccess(upstream, outcome.latencyMs, outcome.epoch);
          await relayResponse(ex, outcome);
          releaseBody(body);
          return;
        }
        failure = { kind: 'status', neverSent: false, reason: `status_${outcome.status}` };
        table.recordFailure(upstream, failure.reason, outcome.latencyMs, outcome.epoch);
      } else {
        if (outcome.clientAborted) return;
        const clientFault = balancerErrorIn(outcome.error);
        if (clientFault !== undefined) {
          // The client's own body broke the try (over the size limit while
          // streaming): its fault, not the endpoint's. The rest is dropped
          // rather than the connection closed under it (see dropUnreadBody).
          metrics.clientErrors.inc({ code: clientFault.code });
          sendError(ex.res, { code: clientFault.code, requestId: ex.requestId });
          releaseBody(body);
          return;
        }
        failure = outcome.failure;
        // A timeout cost what it cost; a refused connection is charged as a
        // connect timeout, so P2C steers away from a dead endpoint before
        // (or without, when the ejection cap is reached) ejection.
        const charged = failure.kind === 'timeout' ? outcome.latencyMs : failure.kind === 'connect' ? config.timeouts.connectMs : undefined;
        table.recordFailure(upstream, `${failure.reason}: ${(outcome.error as Error).message ?? ''}`, charged, outcome.epoch);
        ex.log.warn({ upstream: upstream.id, attempt, reason: failure.reason }, 'upstream try failed');
      }
      const next = await this.nextTry(ex, attempt, failure, hasIdempotencyKey, replayable, tried);
      if (next === undefined) {
        if (outcome.kind === 'response') {
          // No retry possible: the worker's own 502/503/504 is the answer.
          await relayResponse(ex, outcome);
          releaseBody(body);
        } else {
          // The same "time is up" test nextTry() uses (under 1 ms left): a
          // retry refused for lack of time is the deadline's doing, even when
          // timers fired a fraction of a millisecond early.
          const deadline = ex.deadlineAt - performance.now() < 1;
          const code: BalancerErrorCode = deadline && failure.kind === 'timeout' ? 'LB_ERR_DEADLINE_EXCEEDED' : FAILURE_ANSWER[failure.kind];
          sendError(ex.res, {
            code,
            requestId: ex.requestId,
            ...(code === 'LB_ERR_UPSTREAM_UNAVAILABLE' ? { retryAfterSeconds: config.limits.retryAfterSeconds } : {}),
            // A streamed body may be partly unread: the connection cannot be reused.
            close: body.kind === 'stream',
          });
        }
        return;
      }
      if (outcome.kind === 'response') await outcome.body.discard();
      metrics.retries.inc({ reason: failure.kind === 'status' ? failure.reason : failure.kind });
      const pause = Math.min(backoffMs(attempt, config.retry.backoffBaseMs, config.retry.backoffMaxMs, this.deps.random), Math.max(0, ex.deadlineAt - performance.now()));
      if (pause > 0) await delay(pause, ex.client.signal);
      holdsBudget = next.budgeted;
      if (ex.client.gone) {
        if (holdsBudget) budget.release();
        return;
      }
      upstream = next.upstream;
    }
  }

  /**
   * The endpoint for the next try, or undefined when no retry is allowed.
   * Takes a retry-budget slot (waiting up to RETRY_BUDGET_WAIT_MS for one),
   * except after a failure that provably never reached a worker: the budget
   * exists to keep retries from multiplying the load on struggling workers,
   * and a refused connection put no load on any (maxAttempts and the
   * deadline still bound those retries).
   */
  private async nextTry(
    ex: Exchange,
    attempt: number,
    failure: TryFailure,
    hasKey: boolean,
    replayable: boolean,
    tried: ReadonlySet<string>,
  ): Promise<{ upstream: UpstreamEndpoint; budgeted: boolean } | undefined> {
    const { config, budget, metrics } = this.deps;
    if (attempt >= config.retry.maxAttempts || !replayable || ex.client.gone) return undefined;
    if (!isSafeToRetry(ex.method, hasKey, failure)) return undefined;
    if (ex.deadlineAt - performance.now() < 1) return undefined;
    const candidate = this.pick(tried, ex.hashKey).upstream;
    if (candidate === undefined) return undefined;
    if (failure.neverSent) return { upstream: candidate, budgeted: false };
    const wait = Math.min(config.retry.budgetWaitMs, ex.deadlineAt - performance.now());
    if (!(await budget.acquire(wait, ex.client.signal))) {
      metrics.budgetExhausted.inc();
      ex.log.warn({ attempt, active: budget.activeRequests, retrying: budget.inProgress, waiting: budget.waiting }, 'retry budget exhausted');
      return undefined;
    }
    // Picked after the wait: the table may have changed meanwhile.
    const pick = this.pick(tried, ex.hashKey);
    if (pick.upstream === undefined) {
      budget.release();
      return undefined;
    }
    return { upstream: pick.upstream, budgeted: true };
  }

  /**
   * An untried candidate below its in-flight limit. The picker chooses among
   * all untried candidates first: its choice is nearly always below the
   * limit, and then no pass over every endpoint is needed (at 1 000
   * endpoints that pass cost more than the rest of the pick). Only when its
   * choice is at the limit are the endpoints at their limit excluded, and
   * the picker asked again.
   */
  private pick(tried: ReadonlySet<string>, hashKey: string | undefined): PickResult {
    const { endpoints } = this.deps.table.candidates();
    if (endpoints.length === 0) return { why: 'no_endpoints' };
    const limit = this.deps.config.limits.maxInFlightPerEndpoint;
    const { picker } = this.deps;
    const first = picker.pick(endpoints, hashKey === undefined ? { exclude: tried } : { exclude: tried, hashKey });
    if (first === undefined) return { why: 'exhausted' };
    if (first.inFlight < limit) return { upstream: first };
    const exclude = new Set(tried);
    for (const e of endpoints) if (e.inFlight >= limit) exclude.add(e.id);
    const upstream = picker.pick(endpoints, hashKey === undefined ? { exclude } : { exclude, hashKey });
    return upstream === undefined ? { why: 'saturated' } : { upstream };
  }
}

/**
 * After the answer: a streamed body the upstream did not take whole (it
 * answered early, say a 413, and undici closed that connection) is read and
 * dropped, so that the client, still uploading, gets to read the answer and
 * its connection goes on instead of stalling.
 */
function releaseBody(body: PreparedBody): void {
  if (body.kind === 'stream') body.dropRest();
}
