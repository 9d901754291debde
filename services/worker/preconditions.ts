import { WorkerError } from './errors.js';
import type { Precondition } from './db/kv-repository.js';

/** entity-tag = [ W/ ] DQUOTE *etagc DQUOTE, etagc = %x21 / %x23-7E / obs-text (RFC 9110 §8.8.3). */
const ENTITY_TAG = /^(W\/)?"([\x21\x23-\x7e\x80-\xff]*)"$/;
/** Versions are positive bigints; anything longer cannot be one of ours. */
const VERSION = /^[1-9]\d{0,18}$/;
const MAX_VERSION = 9_223_372_036_854_775_807n;

interface EntityTag {
  readonly weak: boolean;
  readonly opaque: string;
}

/**
 * A list of entity-tags (`#entity-tag`, RFC 9110 §5.6.1: comma-separated,
 * empty elements allowed), or undefined when the field is not one.
 */
function parseEntityTags(field: string): EntityTag[] | undefined {
  const tags: EntityTag[] = [];
  for (const element of field.split(',')) {
    const trimmed = element.trim();
    if (trimmed === '') continue;
    const match = ENTITY_TAG.exec(trimmed);
    if (!match) return undefined;
    tags.push({ weak: match[1] !== undefined, opaque: match[2] ?? '' });
  }
  return tags.length > 0 ? tags : undefined;
}

/** Whether a tag's opaque part can name one of our versions (the ETag is its decimal). */
function isVersion(opaque: string): boolean {
  return VERSION.test(opaque) && BigInt(opaque) <= MAX_VERSION;
}

/** The strong entity tag for a version (RFC 9110 §8.8.3). */
export function etag(version: string): string {
  return `"${version}"`;
}

/**
 * Reads If-Match / If-None-Match for a write (RFC 9110 §13.1.1, §13.1.2).
 * Entity-tags are opaque to clients: any well-formed tag is accepted, and one
 * that is not the current version (a weak tag, which never matches under
 * If-Match's strong comparison, or a tag that is no version of ours at all)
 * simply does not match, a 412. Only a field that is not an entity-tag list
 * is a 400. For writes If-None-Match supports only `*` (create-only).
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
    const tags = parseEntityTags(ifMatch);
    if (tags === undefined) {
      throw new WorkerError('WRK_ERR_BAD_PRECONDITION', 'If-Match must be "*" or a list of entity-tags such as "42"');
    }
    const versions = tags.filter((t) => !t.weak && isVersion(t.opaque)).map((t) => t.opaque);
    return { kind: 'versions', versions };
  }
  return { kind: 'none' };
}

/** True when a GET's If-None-Match names the current version (answer 304). */
export function notModified(ifNoneMatch: string | undefined, version: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  // Weak comparison is allowed for If-None-Match (RFC 9110 §13.1.2). A field
  // that is not an entity-tag list matches nothing: the full answer is always right.
  return parseEntityTags(ifNoneMatch)?.some((t) => t.opaque === version) ?? false;
}
