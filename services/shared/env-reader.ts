import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

interface IntOptions {
  readonly min?: number;
  readonly max?: number;
}

/**
 * Reads typed values out of an environment map and collects every problem
 * instead of stopping at the first, so one start-up error lists all bad
 * variables. Call `finish()` after reading: it throws a ConfigError when
 * anything was wrong.
 */
export class EnvReader {
  private readonly problems: string[] = [];

  constructor(private readonly env: Env) {}

  /** A raw value, or the contents of the file named by `<NAME>_FILE` (Kubernetes Secret mounts). */
  private raw(name: string): string | undefined {
    const direct = this.env[name];
    if (direct !== undefined && direct !== '') return direct;
    const file = this.env[`${name}_FILE`];
    if (file === undefined || file === '') return undefined;
    try {
      return readFileSync(file, 'utf8').trim();
    } catch (err) {
      this.problems.push(`${name}_FILE: cannot read ${file} (${(err as Error).message})`);
      return undefined;
    }
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  optionalString(name: string): string | undefined {
    return this.raw(name);
  }

  int(name: string, fallback: number, options: IntOptions = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const min = options.min ?? Number.MIN_SAFE_INTEGER;
    const max = options.max ?? Number.MAX_SAFE_INTEGER;
    if (!/^-?\d+$/.test(value.trim())) {
      this.problems.push(`${name}: "${value}" is not an integer (allowed: ${min}..${max})`);
      return fallback;
    }
    const parsed = Number(value);
    if (parsed < min || parsed > max) {
      this.problems.push(`${name}: ${parsed} is out of range (allowed: ${min}..${max})`);
      return fallback;
    }
    return parsed;
  }

  /** A decimal number such as a ratio (0.2) or a multiplier. */
  number(name: string, fallback: number, options: IntOptions = {}): number {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const min = options.min ?? -Infinity;
    const max = options.max ?? Infinity;
    const parsed = Number(value);
    if (value.trim() === '' || !Number.isFinite(parsed) || parsed < min || parsed > max) {
      this.problems.push(`${name}: "${value}" is not a number in ${min}..${max}`);
      return fallback;
    }
    return parsed;
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, { min: 0, max: 65535 });
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    const normalized = value.trim().toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(normalized)) return true;
    if (['0', 'false', 'no', 'off'].includes(normalized)) return false;
    this.problems.push(`${name}: "${value}" is not a boolean (allowed: true, false, 1, 0, yes, no, on, off)`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(name);
    if (value === undefined) return fallback;
    if ((allowed as readonly string[]).includes(value)) return value as T;
    this.problems.push(`${name}: "${value}" is not allowed (allowed: ${allowed.join(', ')})`);
    return fallback;
  }

  /** A comma-separated list; empty items are dropped. */
  list(name: string): string[] {
    const value = this.raw(name);
    if (value === undefined) return [];
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }

  /** Records a problem found by a caller's own cross-field check. */
  problem(message: string): void {
    this.problems.push(message);
  }

  finish(): void {
    if (this.problems.length > 0) throw new ConfigError(this.problems);
  }
}

/** Freezes a config object and its nested plain objects and arrays. */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value as object)) deepFreeze(inner);
  }
  return value;
}
