import { afterEach, describe, expect, it } from '@jest/globals';
import { startFakeKvApi, type Fault } from '../../helpers/fake-kv-api.js';
import { runCli } from '../../helpers/local-run.js';

/**
 * `load --check` against a fake API with one fault each: the check must fail
 * (exit 3) and count the right violation; against the faultless fake it must
 * pass. Without this, a zero in the real run could mean a blind checker.
 */
describe('load --check against a faulty API', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function check(fault: Fault): Promise<{ code: number | null; report: Record<string, unknown> & { check: Record<string, number | boolean> } }> {
    const fake = await startFakeKvApi(fault);
    close = fake.close;
    const result = await runCli(['load', '--requests', '600', '--concurrency', '4', '--keys', '4', '--check', '--json', '--url', fake.url]);
    return { code: result.code, report: JSON.parse(result.stdout) };
  }

  it('when nothing is wrong, then the check passes with exit 0', async () => {
    const { code, report } = await check('none');
    expect(code).toBe(0);
    expect(report.check.passed).toBe(true);
    expect([report.errors, report.errorWindow]).toEqual([{}, null]);
  }, 60_000);

  it.each([
    ['lose-writes', 'lostWrites'],
    ['apply-increments-twice', 'duplicateIncrements'],
    ['ignore-idempotency-key', 'replayMismatches'],
    ['stale-reads', 'staleReads'],
  ] as const)('when the API does %s, then the check fails with exit 3 and counts %s', async (fault, counter) => {
    const { code, report } = await check(fault);
    expect(code).toBe(3);
    expect(report.check.passed).toBe(false);
    expect(report.check[counter]).toBeGreaterThan(0);
  }, 60_000);
});
