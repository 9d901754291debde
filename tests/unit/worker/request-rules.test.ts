import { parseWorkerConfig } from '../../../services/worker/config.js';
import { jsonDepthExceeds } from '../../../services/worker/json-depth.js';
import { notModified, writePrecondition } from '../../../services/worker/preconditions.js';

describe('when write preconditions are read', () => {
  test('then If-Match lists of strong tags, *, and If-None-Match: * are understood', () => {
    expect(writePrecondition(undefined, undefined)).toEqual({ kind: 'none' });
    expect(writePrecondition('"12"', undefined)).toEqual({ kind: 'versions', versions: ['12'] });
    expect(writePrecondition('"1", "2"', undefined)).toEqual({ kind: 'versions', versions: ['1', '2'] });
    expect(writePrecondition('*', undefined)).toEqual({ kind: 'exists' });
    expect(writePrecondition(undefined, '*')).toEqual({ kind: 'absent' });
  });

  test('then a well-formed entity-tag that cannot be a current version is a precondition that fails, not a bad request', () => {
    // Entity-tags are opaque to clients (RFC 9110 §8.8.3): "abc" is a tag, just never ours.
    expect(writePrecondition('"abc"', undefined)).toEqual({ kind: 'versions', versions: [] });
    // If-Match compares strongly: a weak tag never matches (§13.1.1).
    expect(writePrecondition('W/"1"', undefined)).toEqual({ kind: 'versions', versions: [] });
    expect(writePrecondition('"", "0", "007", "99999999999999999999", "9223372036854775808"', undefined)).toEqual({ kind: 'versions', versions: [] });
    expect(writePrecondition('"9223372036854775807"', undefined)).toEqual({ kind: 'versions', versions: ['9223372036854775807'] });
    expect(writePrecondition(' W/"1" , "x-y", , "12" ', undefined)).toEqual({ kind: 'versions', versions: ['12'] });
  });

  test.each([
    ['1', undefined],
    ['"1', undefined],
    ['"a"b"', undefined],
    ['"1" "2"', undefined],
    [',', undefined],
    ['w/"1"', undefined],
    [undefined, '"1"'],
    ['"1"', '*'],
  ])('then If-Match %p with If-None-Match %p is a 400', (ifMatch, ifNoneMatch) => {
    expect(() => writePrecondition(ifMatch, ifNoneMatch)).toThrow(expect.objectContaining({ code: 'WRK_ERR_BAD_PRECONDITION', statusCode: 400 }));
  });

  test('then a GET If-None-Match uses weak comparison', () => {
    expect(notModified('W/"5"', '5')).toBe(true);
    expect(notModified('"4", "5"', '5')).toBe(true);
    expect(notModified('"4"', '5')).toBe(false);
    expect(notModified('"abc", W/"5"', '5')).toBe(true);
    expect(notModified('5', '5')).toBe(false);
    expect(notModified(undefined, '5')).toBe(false);
  });
});

describe('when JSON depth is measured', () => {
  test('then scalars are depth 0 and each container adds one', () => {
    expect(jsonDepthExceeds(1, 0)).toBe(false);
    expect(jsonDepthExceeds({ a: [1] }, 2)).toBe(false);
    expect(jsonDepthExceeds({ a: [1] }, 1)).toBe(true);
    expect(jsonDepthExceeds([[], [[[]]]], 3)).toBe(true);
  });

  test('then a 100,000-deep value is measured without overflowing the stack', () => {
    let deep: unknown = [];
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(jsonDepthExceeds(deep, 32)).toBe(true);
  });
});

describe('when the worker configuration is parsed', () => {
  test('then defaults give a complete, frozen config', () => {
    const config = parseWorkerConfig({});
    expect(config).toMatchObject({ port: 8080, adminPort: 9090, drainDelayMs: 5000, limits: { valueMaxBytes: 1_048_576 } });
    expect(Object.isFrozen(config.limits)).toBe(true);
  });

  test('then cross-field rules are checked', () => {
    expect(() => parseWorkerConfig({ PORT: '9000', ADMIN_PORT: '9000' })).toThrow(/ADMIN_PORT/);
    expect(() => parseWorkerConfig({ PAGE_DEFAULT_LIMIT: '50', PAGE_MAX_LIMIT: '10' })).toThrow(/PAGE_DEFAULT_LIMIT/);
    expect(() => parseWorkerConfig({ DRAIN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '20000' })).toThrow(/DRAIN_DELAY_MS/);
    expect(() => parseWorkerConfig({ PEERS: 'not a url' })).toThrow(/PEERS/);
  });
});
