import { usageError } from './errors.js';

/** "250ms", "10s", "2m", or a bare number of milliseconds. */
export function parseDuration(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match?.[1] === undefined) throw usageError(`--${flag}: "${text}" is not a duration (e.g. 500ms, 10s, 2m)`);
  const scale = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[match[2] ?? 'ms'] ?? 1;
  const ms = Math.round(Number(match[1]) * scale);
  if (ms <= 0) throw usageError(`--${flag}: must be longer than 0`);
  return ms;
}

export function parseIntInRange(flag: string, text: string, min: number, max: number): number {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!/^-?\d+$/.test(trimmed) || value < min || value > max) {
    throw usageError(`--${flag}: "${text}" must be an integer in ${min}..${max}`);
  }
  return value;
}

/** A base URL for the API or admin port: http(s), no path beyond "/". */
export function parseBaseUrl(flag: string, text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`${flag}: "${text}" is not a URL (e.g. http://127.0.0.1:8080)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`${flag}: "${text}" must be an http:// or https:// URL`);
  return url.origin;
}

/** Parses a JSON value given on the command line, with a hint for the usual mistake (an unquoted string). */
export function parseJsonArgument(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw usageError(`value ${JSON.stringify(text)} is not valid JSON; quote strings ('"hello"') or pass --string`);
  }
}
