import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { freePortRange } from '../../helpers/free-port.js';
import { runSupervisor } from '../../helpers/local-run.js';

describe('local run configuration', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'flotilla-local-config-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when flags and variables hold bad values, then it lists every problem and exits 2 before starting anything', async () => {
    const result = await runSupervisor(['--workers', '0', '--port', 'http', `--data-dir=${dataDir}`], { FLOTILLA_PG_PORT: '70000', FLOTILLA_LOG_LEVEL: 'loud' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--workers: "0" must be an integer in 1..32');
    expect(result.stderr).toContain('--port: "http"');
    expect(result.stderr).toContain('FLOTILLA_PG_PORT: "70000"');
    expect(result.stderr).toContain('FLOTILLA_LOG_LEVEL: "loud"');
    expect(result.stderr).toContain('Usage: npm start');
  });

  it('when two parts would share a port, then it exits 2 naming both', async () => {
    const result = await runSupervisor(['--port', '9091', `--data-dir=${dataDir}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('port 9091 is used twice (balancer and worker 1 admin)');
  });

  it('when an unknown flag is given, then it exits 2 with LOCAL_ERR_CONFIG', async () => {
    const result = await runSupervisor(['--replicas', '3']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown option '--replicas'");
  });

  it('when a port it needs is taken, then it exits 1 with LOCAL_ERR_PORT_IN_USE naming the port', async () => {
    const base = await freePortRange(9);
    const blocker: Server = createServer();
    await new Promise<void>((done) => blocker.listen(base + 3, '127.0.0.1', done));
    try {
      const result = await runSupervisor([
        `--port=${base}`,
        `--admin-port=${base + 1}`,
        `--pg-port=${base + 2}`,
        `--worker-port=${base + 3}`,
        `--worker-admin-port=${base + 6}`,
        `--data-dir=${dataDir}`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('LOCAL_ERR_PORT_IN_USE');
      expect(result.stderr).toContain(`${base + 3} (worker-1)`);
    } finally {
      await new Promise((done) => blocker.close(done));
    }
  });
});
