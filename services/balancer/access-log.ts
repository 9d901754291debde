import { isoTimeCachedPerMs, type LineSink } from '../shared/index.js';

/** What one access line says about one answered request. */
export interface AccessFields {
  readonly requestId: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** The endpoint that answered (the last one tried), or "none". */
  readonly upstream: string;
  readonly ms: number;
  readonly attempts: number;
  /** Which of the balancer's own errors (errors.ts) the answer was. */
  readonly error?: string | undefined;
}

/**
 * `access`: the info line ACCESS_LOG asks for; `request`: the same line at
 * debug, written when ACCESS_LOG is off and LOG_LEVEL is debug.
 */
export type AccessLineKind = 'access' | 'request';

/** pino's numbers for the two levels a line can have. */
const LEVEL_OF: Record<AccessLineKind, number> = { access: 30, request: 20 };

/**
 * The access log: one JSON line per answered request, in exactly the shape
 * of the balancer's pino lines (`level`, `time`, `service`, `pid`, the
 * bindings, the fields, `msg`, in that order), so a log pipeline reads both
 * alike. It is written by this template instead of by pino because it is the
 * one line written per request: pino walks each line's fields generically
 * (type checks, serializers, a string built piece by piece), which made the
 * access log about a sixth of the balancer's CPU per request with the
 * deployment's settings (bench/RESULTS.md, issue 15). nginx compiles its
 * log_format into a template for the same reason. The fields are fixed, so
 * the template is too; every string a client can influence goes through
 * JSON.stringify, so a path with quotes, control characters or any Unicode
 * cannot break the line. tests/unit/balancer/access-log.test.ts checks the
 * lines against pino's for the same fields.
 */
export class AccessLog {
  /** `,"service":…,"pid":…` and the bindings, built once. */
  private readonly head: string;

  /**
   * @param service the `service` field of every line
   * @param sink where lines go (the batched side of the balancer's LogOutput)
   * @param bindings fields after `pid` on every line, as a pino child's (a cluster worker's `role` and `worker`)
   */
  constructor(
    service: string,
    private readonly sink: LineSink,
    bindings: Readonly<Record<string, string | number | undefined>> = {},
  ) {
    let head = `,"service":${JSON.stringify(service)},"pid":${process.pid}`;
    for (const [name, value] of Object.entries(bindings)) {
      // pino leaves out a binding whose value is undefined.
      if (value !== undefined) head += `,${JSON.stringify(name)}:${JSON.stringify(value)}`;
    }
    this.head = head;
  }

  write(kind: AccessLineKind, f: AccessFields): void {
    const error = f.error === undefined ? '' : `,"error":${JSON.stringify(f.error)}`;
    this.sink.write(
      `{"level":${LEVEL_OF[kind]}${isoTimeCachedPerMs()}${this.head},"requestId":${JSON.stringify(f.requestId)},` +
        `"method":${JSON.stringify(f.method)},"path":${JSON.stringify(f.path)},"status":${f.status},` +
        `"upstream":${JSON.stringify(f.upstream)},"ms":${f.ms},"attempts":${f.attempts},"retries":${Math.max(0, f.attempts - 1)}` +
        `${error},"msg":"${kind}"}\n`,
    );
  }
}
