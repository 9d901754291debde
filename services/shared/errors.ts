/**
 * Coded errors shared by every service. Each error has a stable `code` that
 * tests and callers match on; the message is for people and may change.
 */
export class FlotillaError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlotillaError';
    this.code = code;
  }
}

/** Thrown once at start-up when the environment holds bad values; lists every problem. */
export class ConfigError extends FlotillaError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('FLT_ERR_CONFIG', `invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The error's `code` property when it has a string one (Node and pg errors carry one too). */
export function errorCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}
