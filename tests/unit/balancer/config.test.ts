import { parseBalancerConfig } from '../../../services/balancer/index.js';
import { cgroupCpuLimit, usableCpus } from '../../../services/balancer/cluster/parallelism.js';
import { ConfigError } from '../../../services/shared/index.js';

describe('balancer config', () => {
  it('when only UPSTREAMS is set, then the documented defaults apply and the result is frozen', () => {
    const config = parseBalancerConfig({ UPSTREAMS: 'http://127.0.0.1:8081?admin=9091' });
    expect(config).toMatchObject({
      port: 8080,
      adminPort: 9090,
      picker: 'p2c-ewma',
      retry: { budgetRatio: 0.2, minConcurrent: 3, maxAttempts: 3 },
      drainDelayMs: 5_000,
      limits: { retryBufferBytes: 65_536 },
    });
    expect(config.timeouts.upstreamIdleMs).toBeLessThan(72_000);
    expect(Object.isFrozen(config.timeouts)).toBe(true);
  });

  it('when the request target and header count limits are set or left out, then they are parsed with 8 KiB and 100 as defaults and bounded', () => {
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1' }).limits).toMatchObject({ maxUrlBytes: 8_192, maxHeaderCount: 100 });
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', MAX_URL_BYTES: '2048', MAX_HEADER_COUNT: '50' }).limits).toMatchObject({ maxUrlBytes: 2_048, maxHeaderCount: 50 });
    let error: unknown;
    try {
      parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', MAX_URL_BYTES: '10', MAX_HEADER_COUNT: 'many' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['MAX_URL_BYTES', 'MAX_HEADER_COUNT']) expect(problems).toContain(name);
  });

  it('when ACCESS_LOG is left out or set, then the access log defaults to on and can be turned off', () => {
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1' }).accessLog).toBe(true);
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', ACCESS_LOG: 'false' }).accessLog).toBe(false);
    expect(() => parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', ACCESS_LOG: 'sometimes' })).toThrow(ConfigError);
  });

  it('when ACCESS_LOG_FLUSH_MS is left out, set or out of range, then it defaults to 100 ms, takes 0 to 10 000, and a bad value names the variable', () => {
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1' }).accessLogFlushMs).toBe(100);
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', ACCESS_LOG_FLUSH_MS: '0' }).accessLogFlushMs).toBe(0);
    for (const bad of ['-1', '10001', 'soon']) {
      expect(() => parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', ACCESS_LOG_FLUSH_MS: bad })).toThrow(/ACCESS_LOG_FLUSH_MS/);
    }
  });

  it('when several variables are wrong, then one ConfigError lists each of them', () => {
    let error: unknown;
    try {
      parseBalancerConfig({ BALANCER_PICKER: 'consistent-hash', HASH_KEY: 'cookie:x', BALANCER_PORT: '99999', RETRY_BUDGET_RATIO: '2' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of ['UPSTREAMS', 'HASH_KEY', 'BALANCER_PORT', 'RETRY_BUDGET_RATIO']) expect(problems).toContain(name);
  });

  it('when consistent hashing on a path segment is asked for, then the key is parsed', () => {
    const config = parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_PICKER: 'consistent-hash', HASH_KEY: 'path-segment:2' });
    expect(config.hashKey).toEqual({ kind: 'path-segment', index: 2 });
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', HASH_KEY: 'header:X-User' }).hashKey).toEqual({ kind: 'header', name: 'x-user' });
  });

  it('when BALANCER_WORKERS is left out, a count or auto, then it is 1, that count, or the usable CPUs', () => {
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1' }).workers).toBe(1);
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_WORKERS: '2' }).workers).toBe(2);
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_WORKERS: '64' }).workers).toBe(64);
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_WORKERS: 'auto' }, () => 3).workers).toBe(3);
    expect(parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_WORKERS: 'AUTO' }, () => 1).workers).toBe(1);
    const auto = parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_WORKERS: 'auto' }).workers;
    expect(auto).toBeGreaterThanOrEqual(1);
    expect(auto).toBeLessThanOrEqual(64);
  });

  it.each(['0', '65', '-1', '1.5', 'many', 'two', ' '])('when BALANCER_WORKERS is %j, then the ConfigError names the variable and what is allowed', (value) => {
    let error: unknown;
    try {
      parseBalancerConfig({ UPSTREAMS: '127.0.0.1:1', BALANCER_WORKERS: value });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^BALANCER_WORKERS: .*auto or an integer 1\.\.64/)]);
  });
});

describe('usable CPUs for BALANCER_WORKERS=auto', () => {
  it('when a cgroup CPU quota is set, then it caps the CPUs the OS reports, rounded up, within 1..max', () => {
    expect(usableCpus(64, 2, 8)).toBe(2);
    expect(usableCpus(64, undefined, 8)).toBe(8);
    expect(usableCpus(4, undefined, 32)).toBe(4);
    expect(usableCpus(64, 16, 2)).toBe(2);
    expect(usableCpus(64, undefined, 0)).toBe(1);
  });

  it('when the cgroup files say max, a quota or nothing, then the limit is none, ceil(quota / period) or none', () => {
    const files = (map: Record<string, string>) => (path: string) => map[path];
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '150000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '400000\n', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n' }))).toBe(4);
    expect(cgroupCpuLimit(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBeUndefined();
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
  });
});
