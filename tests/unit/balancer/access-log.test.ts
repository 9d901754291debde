import fc from 'fast-check';
import { pino } from 'pino';
import { AccessLog, type AccessFields, type AccessLineKind } from '../../../services/balancer/access-log.js';
import { isoTimeCachedPerMs } from '../../../services/shared/index.js';

/**
 * The access log is written by a template rather than by pino (access-log.ts),
 * so it is held to pino's own output: the same fields, the same order, the
 * same values, for any path, request id or upstream a client or discovery can
 * produce.
 */

/** What the balancer's pino loggers write (shared/logger.ts), without redaction, which never had anything to censor here. */
function pinoLine(kind: AccessLineKind, f: AccessFields, bindings: Record<string, string | number | undefined>): string {
  let line = '';
  const logger = pino({ level: 'debug', base: { service: 'balancer', pid: process.pid }, timestamp: isoTimeCachedPerMs }, { write: (l: string) => (line = l) });
  const child = Object.keys(bindings).length > 0 ? logger.child(bindings) : logger;
  const fields = { requestId: f.requestId, method: f.method, path: f.path, status: f.status, upstream: f.upstream, ms: f.ms, attempts: f.attempts, retries: Math.max(0, f.attempts - 1), ...(f.error !== undefined ? { error: f.error } : {}) };
  if (kind === 'access') child.info(fields, 'access');
  else child.debug(fields, 'request');
  return line;
}

function templateLine(kind: AccessLineKind, f: AccessFields, bindings: Record<string, string | number | undefined>): string {
  let line = '';
  new AccessLog('balancer', { write: (l) => (line = l) }, bindings).write(kind, f);
  return line;
}

/** Both lines, written in the same millisecond (they share the cached time), so that they can be compared byte for byte. */
function bothLines(kind: AccessLineKind, f: AccessFields, bindings: Record<string, string | number | undefined> = {}): [string, string] {
  for (;;) {
    const before = isoTimeCachedPerMs();
    const lines: [string, string] = [templateLine(kind, f, bindings), pinoLine(kind, f, bindings)];
    if (isoTimeCachedPerMs() === before) return lines;
  }
}

const TYPICAL: AccessFields = { requestId: '629f3331-5412-4ef0-9d31-6ce809f1d295', method: 'GET', path: '/v1/kv/a', status: 200, upstream: '10.0.0.7:8080', ms: 3, attempts: 1 };

describe('the access log', () => {
  test('when a typical request is logged, then its line is byte for byte the one pino writes', () => {
    const [ours, theirs] = bothLines('access', TYPICAL);
    expect(ours).toBe(theirs);
    expect(ours.endsWith('}\n')).toBe(true);
  });

  test('when a retried request ended in a balancer error, then attempts, retries and the error code are on the line as pino writes them', () => {
    const [ours, theirs] = bothLines('access', { ...TYPICAL, status: 503, attempts: 3, error: 'LB_ERR_UPSTREAM_UNAVAILABLE' });
    expect(ours).toBe(theirs);
    expect(JSON.parse(ours)).toMatchObject({ attempts: 3, retries: 2, error: 'LB_ERR_UPSTREAM_UNAVAILABLE' });
  });

  test('when ACCESS_LOG is off and the level is debug, then the line is pino\'s debug "request" line', () => {
    const [ours, theirs] = bothLines('request', TYPICAL);
    expect(ours).toBe(theirs);
    expect(JSON.parse(ours)).toMatchObject({ level: 20, msg: 'request' });
  });

  test('when a cluster worker logs, then its role and id follow pid, as a pino child\'s bindings do', () => {
    const [ours, theirs] = bothLines('access', TYPICAL, { role: 'worker', worker: 2 });
    expect(ours).toBe(theirs);
    const [ownUndefined, pinoUndefined] = bothLines('access', TYPICAL, { role: 'worker', worker: undefined });
    expect(ownUndefined).toBe(pinoUndefined);
  });

  test('when any path, request id, method or upstream is logged, then the line parses to the same fields, in the same order, as pino\'s', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            requestId: fc.string({ unit: 'binary', maxLength: 40 }),
            method: fc.oneof(fc.constantFrom('GET', 'PUT', 'DELETE', 'POST'), fc.string({ maxLength: 10 })),
            path: fc.string({ unit: 'binary', maxLength: 200 }),
            status: fc.integer({ min: 100, max: 599 }),
            upstream: fc.string({ unit: 'binary', maxLength: 40 }),
            ms: fc.nat(600_000),
            attempts: fc.integer({ min: 1, max: 10 }),
            error: fc.option(fc.constantFrom('LB_ERR_UPSTREAM_TIMEOUT', 'LB_ERR_NO_ENDPOINTS'), { nil: undefined }),
          },
          { requiredKeys: ['requestId', 'method', 'path', 'status', 'upstream', 'ms', 'attempts'] },
        ),
        fc.constantFrom<AccessLineKind>('access', 'request'),
        (fields, kind) => {
          const [ours, theirs] = bothLines(kind, fields);
          expect(ours.endsWith('\n')).toBe(true);
          expect(ours.indexOf('\n')).toBe(ours.length - 1);
          const parsed = JSON.parse(ours) as Record<string, unknown>;
          const expected = JSON.parse(theirs) as Record<string, unknown>;
          expect(Object.keys(parsed)).toEqual(Object.keys(expected));
          expect(parsed).toEqual(expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
