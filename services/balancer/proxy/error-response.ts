import { STATUS_CODES } from 'node:http';
import { Http2ServerResponse } from 'node:http2';
import type { Socket } from 'node:net';
import { LB_ERRORS, type BalancerErrorCode } from '../errors.js';
import { writeHead, type ClientResponse } from './client-protocol.js';

export const ERROR_HEADER = 'x-flotilla-balancer-error';

export interface ErrorAnswer {
  readonly code: BalancerErrorCode;
  readonly message?: string;
  readonly requestId?: string;
  readonly retryAfterSeconds?: number;
  /** Close the client connection after the answer (unread body, broken framing). */
  readonly close?: boolean;
}

function body(answer: ErrorAnswer): string {
  return JSON.stringify({ error: { code: answer.code, message: answer.message ?? LB_ERRORS[answer.code].message } });
}

/** The code of the balancer's own answer, kept on the response for its access line. */
const ANSWERED_WITH = Symbol('flotilla.balancerError');
interface MarkedResponse {
  [ANSWERED_WITH]?: BalancerErrorCode;
}

/** The error code the balancer answered this response with, or undefined when the response came from a worker (or is not over). */
export function balancerErrorOf(res: ClientResponse): BalancerErrorCode | undefined {
  return (res as MarkedResponse)[ANSWERED_WITH];
}

/** Answers with the balancer's own JSON error, unless a response has already started. */
export function sendError(res: ClientResponse, answer: ErrorAnswer): boolean {
  if (res.headersSent || res.writableEnded || res.destroyed) return false;
  (res as MarkedResponse)[ANSWERED_WITH] = answer.code;
  const payload = body(answer);
  const headers: Record<string, string | number> = {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    'cache-control': 'no-store',
    [ERROR_HEADER]: answer.code,
  };
  if (answer.requestId !== undefined) headers['x-request-id'] = answer.requestId;
  if (answer.retryAfterSeconds !== undefined) headers['retry-after'] = answer.retryAfterSeconds;
  // HTTP/2 has no Connection field (RFC 9113 §8.2.2); a stream whose body is
  // left unread is reset with NO_ERROR instead (client-protocol.ts).
  if (answer.close === true && !(res instanceof Http2ServerResponse)) headers['connection'] = 'close';
  writeHead(res, LB_ERRORS[answer.code].status, headers);
  res.end(payload);
  return true;
}

/** Writes an error as raw HTTP/1.1 on a socket that has no ServerResponse (parse errors, failed upgrades), then closes it. */
export function writeRawError(socket: Socket, answer: ErrorAnswer): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = LB_ERRORS[answer.code].status;
  const payload = body(answer);
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(payload)}`,
    'cache-control: no-store',
    `${ERROR_HEADER}: ${answer.code}`,
    'connection: close',
  ];
  if (answer.requestId !== undefined) lines.push(`x-request-id: ${answer.requestId}`);
  if (answer.retryAfterSeconds !== undefined) lines.push(`retry-after: ${answer.retryAfterSeconds}`);
  socket.end(`${lines.join('\r\n')}\r\n\r\n${payload}`);
  // A client that never reads must not keep the socket open.
  setTimeout(() => socket.destroy(), 1_000).unref();
}
