import { describe, expect, it } from '@jest/globals';
import { CliError } from '../../../services/client/errors.js';
import { OpPicker, parseMix } from '../../../services/client/load/op-mix.js';
import { CheckLedger } from '../../../services/client/load/ledger.js';
import { parseDuration, parseIntInRange } from '../../../services/client/values.js';

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (err) {
    return err instanceof CliError ? err.code : 'not a CliError';
  }
  return undefined;
}

describe('load option parsing', () => {
  it('when durations carry units, then they become milliseconds', () => {
    expect(parseDuration('d', '250ms')).toBe(250);
    expect(parseDuration('d', '1.5s')).toBe(1_500);
    expect(parseDuration('d', '2m')).toBe(120_000);
    expect(parseDuration('d', '40')).toBe(40);
  });

  it('when a duration or integer is malformed or out of range, then it is a usage error', () => {
    for (const bad of ['soon', '-1s', '0', '1d', '']) expect(codeOf(() => parseDuration('d', bad))).toBe('CLI_ERR_USAGE');
    for (const bad of ['0', '1025', '3.5', 'x']) expect(codeOf(() => parseIntInRange('n', bad, 1, 1_024))).toBe('CLI_ERR_USAGE');
  });

  it('when a mix is given, then omitted operations weigh 0 and unknown or all-zero mixes are refused', () => {
    expect(parseMix('put=3,incr=1')).toEqual({ put: 3, get: 0, del: 0, incr: 1, cget: 0 });
    expect(codeOf(() => parseMix('put=1,boom=1'))).toBe('CLI_ERR_USAGE');
    expect(codeOf(() => parseMix('put=0'))).toBe('CLI_ERR_USAGE');
    expect(codeOf(() => parseMix('put'))).toBe('CLI_ERR_USAGE');
  });

  it('when operations are picked, then they follow the weights and never pick a zero-weight one', () => {
    const picker = new OpPicker(parseMix('put=1,get=3'));
    let seed = 1;
    const random = (): number => ((seed = (seed * 16_807) % 2_147_483_647) - 1) / 2_147_483_646;
    const counts = { put: 0, get: 0, del: 0, incr: 0, cget: 0 };
    for (let i = 0; i < 4_000; i += 1) counts[picker.pick(random)] += 1;
    expect(counts.del + counts.incr + counts.cget).toBe(0);
    expect(counts.get / counts.put).toBeGreaterThan(2.5);
    expect(counts.get / counts.put).toBeLessThan(3.5);
  });
});

describe('check ledger', () => {
  it('when a key ends at its last acknowledged write or its uncertain one, then nothing is flagged; older states are lost writes', () => {
    const ledger = new CheckLedger(() => 0);
    ledger.writeAcked('a', { kind: 'value', seq: 1 });
    ledger.writeAcked('a', { kind: 'value', seq: 2 });
    ledger.writeUncertain('a', { kind: 'value', seq: 3 });
    ledger.verifyKey('a', { kind: 'value', seq: 2 });
    ledger.verifyKey('a', { kind: 'value', seq: 3 });
    expect(ledger.passed).toBe(true);
    ledger.verifyKey('a', { kind: 'value', seq: 1 });
    ledger.verifyKey('a', { kind: 'absent' });
    expect(ledger.counts['lost-write']).toBe(2);
  });

  it('when a counter ends between acked and acked + uncertain, then it passes; outside it is a loss or a duplicate', () => {
    const ledger = new CheckLedger(() => 0);
    ledger.incrementAcked('c', 2);
    ledger.incrementAcked('c', 3);
    ledger.incrementUncertain('c', 1);
    ledger.verifyCounter('c', 5);
    ledger.verifyCounter('c', 6);
    expect(ledger.passed).toBe(true);
    ledger.verifyCounter('c', 7);
    ledger.verifyCounter('c', 4);
    expect(ledger.counts).toMatchObject({ 'duplicate-increment': 1, 'lost-increment': 1 });
  });

  it('when a read sees anything but the last acknowledged state, then it is a stale read', () => {
    const ledger = new CheckLedger(() => 0);
    ledger.readObserved('k', { kind: 'absent' });
    ledger.writeAcked('k', { kind: 'value', seq: 4 });
    ledger.readObserved('k', { kind: 'value', seq: 4 });
    expect(ledger.passed).toBe(true);
    ledger.readObserved('k', { kind: 'absent' });
    ledger.counterReadObserved('c', 10, 9);
    expect(ledger.counts['stale-read']).toBe(2);
  });
});
