import type { ParseArgsConfig } from 'node:util';
import type { GlobalOptions } from './config.js';
import { HttpClient, toCliError } from './http-client.js';

export type FlagConfig = NonNullable<ParseArgsConfig['options']>;
export type FlagValues = Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;

/** Where a command writes; injected so tests and the load generator's progress line can share it. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly stderrIsTty: boolean;
  /** Milliseconds since an arbitrary origin (performance.now in production). */
  now(): number;
}

export interface CommandContext {
  readonly global: GlobalOptions;
  readonly io: Io;
  readonly positionals: readonly string[];
  readonly flags: FlagValues;
  /** Aborted on Ctrl-C; long commands (load) end early and still report. */
  readonly signal: AbortSignal;
}

export interface CommandSpec {
  /** e.g. "kv get" */
  readonly name: string;
  /** e.g. "<key>" */
  readonly args: string;
  readonly summary: string;
  readonly flags: FlagConfig;
  /** Lines describing each flag, for --help. */
  readonly flagHelp: readonly string[];
  readonly minPositionals: number;
  readonly maxPositionals: number;
  run(context: CommandContext): Promise<number>;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

/** A client for one command, closed by the caller in a finally block. */
export function apiClient(context: CommandContext, connections = 4): HttpClient {
  return new HttpClient(context.global.url, { timeoutMs: context.global.timeoutMs ?? DEFAULT_TIMEOUT_MS, connections });
}

export function stringFlag(flags: FlagValues, name: string): string | undefined {
  const value = flags[name];
  return typeof value === 'string' ? value : undefined;
}

export function boolFlag(flags: FlagValues, name: string): boolean {
  return flags[name] === true;
}

export function printJson(io: Io, value: unknown): void {
  io.out(`${JSON.stringify(value, null, 2)}\n`);
}

/** Runs `action` with a fresh API client, turning transport failures into coded CLI errors. */
export async function withApiClient<T>(context: CommandContext, action: (client: HttpClient) => Promise<T>): Promise<T> {
  const client = apiClient(context);
  try {
    return await action(client);
  } catch (err) {
    throw toCliError(err, context.global.url);
  } finally {
    await client.close();
  }
}
