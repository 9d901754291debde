import { checkLinearizable } from '../../linearizability/checker.js';
import type { RecordedRequest } from '../../linearizability/history.js';

// The porcupine harness itself, on small histories whose answer is known:
// it must reject what the failover test exists to catch.

type Input = RecordedRequest['input'];
const get = (key: string): Input => ({ op: 'get', key, value: '', precondition: '', version: 0 });
const put = (key: string, value: string, ifMatch?: number): Input =>
  ({ op: 'put', key, value, precondition: ifMatch === undefined ? '' : 'match', version: ifMatch ?? 0 });
const del = (key: string): Input => ({ op: 'delete', key, value: '', precondition: '', version: 0 });

function op(client: number, call: number, ret: number | null, input: Input, status: number, version = 0, value = ''): RecordedRequest {
  return { client, call, return: ret, input, output: { status, value, version } };
}

describe('the linearizability checker (porcupine with the versioned-register model)', () => {
  test('rejects a PUT applied twice: read at its first version, answered with its second', async () => {
    // The shape issue 13 found: the retry of a committed PUT applied it again.
    const report = await checkLinearizable([
      op(0, 0, 100, put('k', 'c0-1'), 200, 22759),
      op(1, 10, 20, get('k'), 200, 22730, 'c0-1'),
    ], { keepIllegal: false });
    expect(report.result).toBe('illegal');
    expect(report.violations).toEqual([
      'key k: 0 of 2 requests linearize; the first that cannot follow: client 0 put(k = c0-1) -> 200 @ 22759',
    ]);
  });

  test('rejects a conditional PUT answered 412 whose value another client read', async () => {
    const report = await checkLinearizable([
      op(0, 0, 10, put('k', 'c0-1'), 201, 5),
      op(0, 20, 100, put('k', 'c0-2', 5), 412),
      op(1, 30, 40, get('k'), 200, 6, 'c0-2'),
    ], { keepIllegal: false });
    expect(report.result).toBe('illegal');
  });

  test('rejects a read of a deleted key after the delete was acknowledged', async () => {
    const report = await checkLinearizable([
      op(0, 0, 10, put('k', 'c0-1'), 201, 5),
      op(0, 20, 30, del('k'), 204),
      op(1, 40, 50, get('k'), 200, 5, 'c0-1'),
    ], { keepIllegal: false });
    expect(report.result).toBe('illegal');
  });

  test('accepts concurrent writes in either order, and a write of unknown outcome seen later or never', async () => {
    const report = await checkLinearizable([
      op(0, 0, 50, put('k', 'c0-1'), 201, 7),
      op(1, 10, 40, put('k', 'c1-1'), 200, 8),
      op(2, 60, 70, get('k'), 200, 8, 'c1-1'),
      op(0, 80, null, put('k', 'c0-2'), 503),
      op(2, 90, 95, get('k'), 200, 8, 'c1-1'),
      op(2, 100, 110, get('k'), 200, 12, 'c0-2'),
      op(1, 120, null, put('j', 'c1-2'), 0),
      op(1, 130, 140, get('j'), 404),
    ]);
    expect(report).toMatchObject({ result: 'ok', operations: 8, unknown: 2, keys: 2 });
  });
});
