import { RetryBudget, backoffMs, classifyError, isSafeToRetry } from '../../../services/balancer/index.js';

describe('retry budget', () => {
  it('when few requests are active, then the minimum number of concurrent retries is allowed', () => {
    const budget = new RetryBudget(0.2, 3);
    budget.requestStarted();
    expect(budget.limit()).toBe(3);
    expect([budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire(), budget.tryAcquire()]).toEqual([true, true, true, false]);
  });

  it('when many requests are active, then retries may be 20% of them', () => {
    const budget = new RetryBudget(0.2, 3);
    for (let i = 0; i < 100; i++) budget.requestStarted();
    expect(budget.limit()).toBe(20);
    let granted = 0;
    while (budget.tryAcquire()) granted += 1;
    expect(granted).toBe(20);
    budget.release();
    expect(budget.tryAcquire()).toBe(true);
    expect(budget.tryAcquire()).toBe(false);
  });

  it('when active requests finish, then the limit shrinks back (floor of ratio × active)', () => {
    const budget = new RetryBudget(0.2, 3);
    for (let i = 0; i < 29; i++) budget.requestStarted();
    expect(budget.limit()).toBe(5);
    for (let i = 0; i < 10; i++) budget.requestFinished();
    expect(budget.limit()).toBe(3);
    for (let i = 0; i < 50; i++) budget.requestFinished();
    expect(budget.activeRequests).toBe(0);
  });
});

describe('retry budget waits', () => {
  it('when a slot frees up within the wait, then the waiting retry gets it, first come first served', async () => {
    const budget = new RetryBudget(0.2, 1);
    expect(budget.tryAcquire()).toBe(true);
    const order: string[] = [];
    const first = budget.acquire(1_000).then((ok) => order.push(`first:${ok}`));
    const second = budget.acquire(1_000).then((ok) => order.push(`second:${ok}`));
    expect(budget.tryAcquire()).toBe(false);
    budget.release();
    await first;
    budget.release();
    await second;
    expect(order).toEqual(['first:true', 'second:true']);
    expect(budget.inProgress).toBe(1);
  });

  it('when no slot frees up within the wait, then the retry is refused and leaves the queue', async () => {
    const budget = new RetryBudget(0.2, 1);
    budget.tryAcquire();
    expect(await budget.acquire(20)).toBe(false);
    expect(budget.waiting).toBe(0);
    budget.release();
    expect(budget.inProgress).toBe(0);
  });

  it('when the client goes away while waiting, then the wait ends at once', async () => {
    const budget = new RetryBudget(0.2, 0);
    const controller = new AbortController();
    const waiting = budget.acquire(10_000, controller.signal);
    controller.abort();
    expect(await waiting).toBe(false);
  });
});

describe('retry safety', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });

  it('when the connection was refused, then even a POST may be retried (it never reached the worker)', () => {
    const failure = classifyError(refused, false);
    expect(failure).toEqual({ kind: 'connect', neverSent: true, reason: 'ECONNREFUSED' });
    expect(isSafeToRetry('POST', false, failure)).toBe(true);
  });

  it('when a used connection was reset, then a POST without Idempotency-Key is not retried', () => {
    const failure = classifyError(reset, false);
    expect(failure.neverSent).toBe(false);
    expect(isSafeToRetry('POST', false, failure)).toBe(false);
    expect(isSafeToRetry('PATCH', false, failure)).toBe(false);
  });

  it('when the method is idempotent or an Idempotency-Key is present, then a reset or timeout may be retried', () => {
    const timeout = classifyError(new Error('aborted'), true);
    expect(timeout.kind).toBe('timeout');
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']) expect(isSafeToRetry(method, false, timeout)).toBe(true);
    expect(isSafeToRetry('POST', true, classifyError(reset, false))).toBe(true);
  });

  it('when backing off, then the delay is jittered below an exponentially growing, capped ceiling', () => {
    expect(backoffMs(1, 10, 200, () => 0.999)).toBe(9);
    expect(backoffMs(3, 10, 200, () => 0.999)).toBe(39);
    expect(backoffMs(10, 10, 200, () => 0.999)).toBe(199);
    expect(backoffMs(3, 10, 200, () => 0)).toBe(0);
  });
});
