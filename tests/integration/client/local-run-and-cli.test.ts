import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { answersOk } from '../../helpers/answers-ok.js';
import { isAlive, LocalRun, runCli, runSupervisor, waitFor, type RunState } from '../../helpers/local-run.js';

/**
 * The whole system as `npm start` runs it (real supervisor, embedded
 * Postgres, 3 workers, balancer) driven by the real CLI as child processes.
 */
describe('local run driven by the CLI', () => {
  let run: LocalRun;

  beforeAll(async () => {
    run = await LocalRun.start(3);
  }, 150_000);

  afterAll(async () => {
    await run?.destroy();
  }, 90_000);

  it('when the run is up, then the state file names a live supervisor, Postgres, balancer and 3 workers on the configured ports', () => {
    const state = run.state() as RunState;
    expect(state.status).toBe('ready');
    expect(state.workers.map((worker) => worker.url)).toEqual([0, 1, 2].map((i) => `http://127.0.0.1:${run.ports.worker + i}`));
    for (const pid of [state.supervisorPid, state.postgres.pid, state.balancer.pid, ...state.workers.map((worker) => worker.pid)]) {
      expect(pid).toEqual(expect.any(Number));
      expect(isAlive(pid as number)).toBe(true);
    }
  });

  it('when a key is put, read, listed and deleted through the balancer, then each step reports it', async () => {
    const env = run.cliEnv();
    const put = await runCli(['kv', 'put', 'cli-greeting', '{"text":"hello"}'], env);
    expect(put).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created "cli-greeting" at version \d+\n$/) });

    const get = await runCli(['kv', 'get', 'cli-greeting', '--json'], env);
    expect(get.code).toBe(0);
    expect(JSON.parse(get.stdout)).toMatchObject({ key: 'cli-greeting', value: { text: 'hello' } });

    const update = await runCli(['kv', 'put', 'cli-greeting', 'bye', '--string'], env);
    expect(update.stdout).toMatch(/^updated "cli-greeting"/);
    expect((await runCli(['kv', 'get', 'cli-greeting'], env)).stdout).toBe('"bye"\n');

    await runCli(['kv', 'put', 'cli-other', '1'], env);
    const list = await runCli(['kv', 'list', '--prefix', 'cli-', '--json'], env);
    expect(JSON.parse(list.stdout).items.map((item: { key: string }) => item.key)).toEqual(['cli-greeting', 'cli-other']);
    const table = await runCli(['kv', 'list', '--prefix', 'cli-'], env);
    expect(table.stdout).toMatch(/KEY\s+VERSION\s+UPDATED\s+VALUE/);
    expect(table.stdout).toContain('2 keys');

    // Hierarchical keys, as Consul and etcd users write them.
    expect((await runCli(['kv', 'put', 'cli/app/db', '"pg"'], env)).code).toBe(0);
    expect(JSON.parse((await runCli(['kv', 'get', 'cli/app/db', '--json'], env)).stdout)).toMatchObject({ key: 'cli/app/db', value: 'pg' });
    const nested = await runCli(['kv', 'list', '--prefix', 'cli/app/', '--json'], env);
    expect(JSON.parse(nested.stdout).items.map((item: { key: string }) => item.key)).toEqual(['cli/app/db']);

    expect(await runCli(['kv', 'del', 'cli-greeting'], env)).toMatchObject({ code: 0, stdout: 'deleted "cli-greeting"\n' });
    const gone = await runCli(['kv', 'get', 'cli-greeting'], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('CLI_ERR_NOT_FOUND');
  }, 60_000);

  it('when a counter is incremented twice with one idempotency key, then it is applied once and the repeat says so', async () => {
    const env = run.cliEnv();
    expect((await runCli(['counter', 'incr', 'cli-hits', '--by', '5'], env)).stdout).toBe('5\n');
    const first = await runCli(['counter', 'incr', 'cli-hits', '--idempotency-key', 'cli-once', '--json'], env);
    const again = await runCli(['counter', 'incr', 'cli-hits', '--idempotency-key', 'cli-once', '--json'], env);
    expect(JSON.parse(first.stdout)).toMatchObject({ value: 6, replayed: false });
    expect(JSON.parse(again.stdout)).toMatchObject({ value: 6, replayed: true });
    expect((await runCli(['counter', 'get', 'cli-hits'], env)).stdout).toBe('6\n');
  }, 60_000);

  it('when cluster is asked, then it shows every worker of the balancer as a table', async () => {
    const result = await runCli(['cluster'], run.cliEnv());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/ENDPOINT\s+STATE/);
    for (let i = 0; i < 3; i += 1) expect(result.stdout).toContain(`127.0.0.1:${run.ports.worker + i}`);
  }, 30_000);

  it('when a worker is killed, then the supervisor starts it again on the same port', async () => {
    const before = run.state() as RunState;
    const victim = before.workers[1];
    if (victim?.pid === undefined) throw new Error('worker-2 has no pid');
    process.kill(victim.pid, 'SIGKILL');
    const after = await waitFor(
      'worker-2 to be restarted',
      () => {
        const worker = run.state()?.workers[1];
        return worker?.pid !== undefined && worker.pid !== victim.pid ? worker : undefined;
      },
      30_000,
    );
    expect(after).toMatchObject({ url: victim.url, restarts: victim.restarts + 1 });
    await waitFor('worker-2 to be ready', async () => ((await answersOk(`${after.adminUrl}/readyz`)) ? true : undefined), 30_000, 200);
  }, 60_000);

  it('when load --check runs while workers are SIGKILLed, then no acknowledged write is lost and no increment is applied twice', async () => {
    const result = await runCli(
      ['load', '--duration', '12s', '--concurrency', '8', '--check', '--chaos', 'kill', '--chaos-interval', '3s', '--json'],
      run.cliEnv(),
      120_000,
    );
    if (result.code !== 0) throw new Error(`load failed (${result.code}):\n${result.stderr}\n${result.stdout.slice(0, 4_000)}`);
    const report = JSON.parse(result.stdout);
    expect(report.chaos.events.length).toBeGreaterThanOrEqual(3);
    expect(report.requests.total).toBeGreaterThan(100);
    expect(report.check).toMatchObject({
      passed: true,
      lostWrites: 0,
      duplicateIncrements: 0,
      lostIncrements: 0,
      staleReads: 0,
      replayMismatches: 0,
      unverified: 0,
    });
    expect(report.check.ackedWrites).toBeGreaterThan(0);
    expect(report.check.ackedIncrements).toBeGreaterThan(0);
  }, 150_000);

  it('when a second supervisor starts on the same data folder, then it refuses and leaves the running one and its state file alone', async () => {
    // The chaos load before this may have left a worker being started again:
    // the state file changes until every worker runs and is ready.
    const before = await waitFor(
      'every worker to run and be ready',
      async () => {
        const state = run.state();
        if (state === undefined || state.workers.some((w) => w.pid === undefined)) return undefined;
        const ready = await Promise.all(state.workers.map((w) => answersOk(`${w.adminUrl}/readyz`)));
        return ready.every(Boolean) && JSON.stringify(run.state()) === JSON.stringify(state) ? state : undefined;
      },
      30_000,
      200,
    );
    const second = await runSupervisor([`--data-dir=${run.dataDir}`, '--port=1', '--admin-port=2']);
    expect(second.code).toBe(1);
    expect(second.stderr).toContain('LOCAL_ERR_ALREADY_RUNNING');
    expect(run.state()).toEqual(before);
    expect(run.running).toBe(true);
  }, 60_000);

  it('when the supervisor gets SIGINT (Ctrl-C), then it exits 0 and no process of the run is left', async () => {
    const state = run.state() as RunState;
    const pids = [state.postgres.pid, state.balancer.pid, ...state.workers.map((worker) => worker.pid)].filter(
      (pid): pid is number => pid !== undefined,
    );
    expect(pids).toHaveLength(5);
    expect(await run.stop()).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(isAlive(state.supervisorPid)).toBe(false);
    expect(run.state()).toBeUndefined();
  }, 90_000);
});
