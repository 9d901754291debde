import { parseWrkOutput, WrkOutputError } from '../../../bench/load/wrk-parse.js';
import { wrkScript } from '../../../bench/load/wrk-script.js';

const WRK_STDOUT = `Running 8s test @ http://127.0.0.1:40000
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     3.07ms    5.53ms  56.43ms   93.27%
  80000 requests in 8.00s, 12.00MB read
Requests/sec:  10000.00
BENCH_RESULT {"requests":80000.0,"durationUs":8000000.0,"connect":0.0,"read":1.0,"write":0.0,"status":2.0,"timeout":0.0,"p50":2500.0,"p90":4000.0,"p99":12000.0,"p999":45000.0,"max":56430.0,"mean":3070.4}
`;

describe('wrk output', () => {
  it('when the done hook printed its line, then rps, errors and latencies (ms) come from it', () => {
    const result = parseWrkOutput(WRK_STDOUT);
    expect(result.rps).toBe(10_000);
    expect(result.durationS).toBe(8);
    expect(result.errors).toEqual({ connect: 0, read: 1, write: 0, status: 2, timeout: 0, total: 3 });
    expect(result.latencyMs).toMatchObject({ p50: 2.5, p99: 12, p999: 45, max: 56.43 });
  });

  it('when the hook line is missing or incomplete, then a BENCH_ERR_WRK_OUTPUT error says so', () => {
    expect(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n')).toThrow(WrkOutputError);
    const incomplete = 'BENCH_RESULT {"requests":1}\n';
    expect(() => parseWrkOutput(incomplete)).toThrow(expect.objectContaining({ code: 'BENCH_ERR_WRK_OUTPUT' }));
  });

  it('when a POST shape is given, then the script sets method, path and a body of that size, and prints every parsed field', () => {
    const script = wrkScript({ method: 'POST', path: '/echo', bodyBytes: 4096 });
    expect(script).toContain('wrk.method = "POST"');
    expect(script).toContain('wrk.path = "/echo"');
    expect(script).toContain('string.rep("x", 4096)');
    for (const field of ['requests', 'durationUs', 'status', 'timeout', 'p50', 'p99', 'p999']) expect(script).toContain(`"${field}":%.1f`);
    expect(wrkScript({ method: 'GET', path: '/small' })).not.toContain('wrk.body');
  });

  it('when a think time is given, then the script paces each connection with delay(), and without one it has no delay hook', () => {
    expect(wrkScript({ method: 'GET', path: '/small', thinkMs: 50 })).toContain('delay = function() return 50 end');
    expect(wrkScript({ method: 'GET', path: '/small' })).not.toContain('delay');
  });
});
