import { Agent, type Dispatcher } from 'undici';
import { CliError } from './errors.js';

export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON body, or undefined when empty or not JSON. */
  readonly json: unknown;
  readonly text: string;
}

export interface HttpClientOptions {
  readonly timeoutMs: number;
  /** Upper bound of sockets to the origin; the load generator sets it to its concurrency. */
  readonly connections?: number;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * A small JSON-over-HTTP client with one keep-alive pool and a hard timeout
 * on every call (connect, headers, body, and an overall abort), so the CLI
 * can never hang on a stuck server.
 */
export class HttpClient {
  private readonly agent: Agent;

  constructor(
    readonly baseUrl: string,
    private readonly options: HttpClientOptions,
  ) {
    this.agent = new Agent({
      connections: options.connections ?? 4,
      connect: { timeout: Math.min(options.timeoutMs, 5_000) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      keepAliveTimeout: 4_000,
    });
  }

  async request(method: Dispatcher.HttpMethod, path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await this.agent.request({
      origin: this.baseUrl,
      path,
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    const text = await response.body.text();
    let json: unknown;
    if (text.length > 0) {
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
    }
    return { status: response.statusCode, headers: response.headers, json, text };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

/** A short, stable name for a transport failure, used in the load report's error breakdown. */
export function transportErrorKind(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
  const name = err instanceof Error ? err.name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timeout';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'ECONNRESET':
      return 'connection_reset';
    case 'UND_ERR_SOCKET':
      return 'socket_closed';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect_timeout';
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case undefined:
      return name ?? 'unknown_error';
    default:
      return code.toLowerCase();
  }
}

/** Turns a transport failure into the CLI's coded error, with a hint for the common case. */
export function toCliError(err: unknown, baseUrl: string): CliError {
  if (err instanceof CliError) return err;
  const kind = transportErrorKind(err);
  if (kind === 'connection_refused' || kind === 'connect_timeout' || kind === 'enotfound' || kind === 'eai_again') {
    return new CliError(
      'CLI_ERR_UNREACHABLE',
      `cannot reach ${baseUrl} (${kind.replace('_', ' ')}); is Flotilla running? Start it with \`npm start\`, or pass --url`,
      { cause: err },
    );
  }
  if (kind === 'timeout') return new CliError('CLI_ERR_TIMEOUT', `${baseUrl} did not answer in time (see --timeout)`, { cause: err });
  return new CliError('CLI_ERR_UNREACHABLE', `request to ${baseUrl} failed: ${kind} (${(err as Error).message})`, { cause: err });
}
