import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { BalancerMetrics } from '../metrics.js';
import { writeRawError } from './error-response.js';

/**
 * Closes client connections that do not deliver a request head within
 * CLIENT_HEADER_TIMEOUT_MS of connecting. Node's `headersTimeout` only starts
 * counting at a request's first byte and `keepAliveTimeout` only after a
 * response, so a connection that never sends anything would stay open
 * forever: enough of them exhaust the file descriptors (the idle half of
 * slowloris). A connection that sent nothing is just closed; one that sent a
 * partial head gets 408 (RFC 9110 §15.5.9). The timer stops once the request
 * head is parsed (`request` / `upgrade`); later requests on a kept-alive
 * connection are covered by Node's own timeouts.
 */
export class FirstRequestTimer {
  private readonly timers = new WeakMap<Socket, NodeJS.Timeout>();

  constructor(
    private readonly timeoutMs: number,
    private readonly metrics: BalancerMetrics,
  ) {}

  readonly onConnection = (socket: Socket): void => {
    const timer = setTimeout(() => {
      this.timers.delete(socket);
      if (socket.bytesRead === 0) {
        socket.destroy();
        return;
      }
      this.metrics.clientErrors.inc({ code: 'LB_ERR_REQUEST_TIMEOUT' });
      writeRawError(socket, { code: 'LB_ERR_REQUEST_TIMEOUT' });
    }, this.timeoutMs);
    // Never the reason the process stays up.
    timer.unref();
    this.timers.set(socket, timer);
    socket.once('close', () => this.stop(socket));
  };

  /** `request` listener: the head arrived in time. */
  readonly onRequest = (req: IncomingMessage): void => this.stop(req.socket);

  /** `upgrade` listener (registered before the tunnel's own). */
  readonly onUpgrade = (req: IncomingMessage): void => this.stop(req.socket);

  private stop(socket: Socket): void {
    const timer = this.timers.get(socket);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(socket);
  }
}
