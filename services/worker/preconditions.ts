import { WorkerError } from './errors.js';
import type { Precondition } from './db/kv-repository.js';

const ETAG_LIST = /^\s*"\d{1,19}"\s*(,\s*"\d{1,19}"\s*)*$/;

/** The strong entity tag for a version (RFC 9110 §8.8.3). */
export function etag(version: string): string {
  return `"${version}"`;
}

/**
 * Reads If-Match / If-None-Match for a write (RFC 9110 §13.1.1, §13.1.2).
 * Only strong tags can match (a weak tag never matches for If-Match), and for
 * writes If-None-Match supports only `*` (create-only).
 */
export function writePrecondition(ifMatch: string | undefined, ifNoneMatch: string | undefined): Precondition {
  if (ifMatch !== undefined && ifNoneMatch !== undefined) {
    throw new WorkerError('WRK_ERR_BAD_PRECONDITION', 'send either If-Match or If-None-Match, not both');
  }
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') {
      throw new WorkerError('WRK_ERR_BAD_PRECONDITION', 'If-None-Match on a write must be "*" (create only)');
    }
    return { kind: 'absent' };
  }
  if (ifMatch !== undefined) {
    if (ifMatch.trim() === '*') return { kind: 'exists' };
    if (!ETAG_LIST.test(ifMatch)) {
      throw new WorkerError('WRK_ERR_BAD_PRECONDITION', 'If-Match must be "*" or a list of quoted versions such as "42"');
    }
    const versions = [...ifMatch.matchAll(/"(\d+)"/g)].map((m) => m[1] ?? '');
    return { kind: 'versions', versions };
  }
  return { kind: 'none' };
}

/** True when a GET's If-None-Match names the current version (answer 304). */
export function notModified(ifNoneMatch: string | undefined, version: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  // Weak comparison is allowed for If-None-Match (RFC 9110 §13.1.2).
  return [...ifNoneMatch.matchAll(/(?:W\/)?"([^"]*)"/g)].some((m) => m[1] === version);
}
