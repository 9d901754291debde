import type { UpstreamLauncher } from '../../helpers/chaos-upstream.js';
import { TestPostgres } from '../../helpers/postgres.js';
import { startWorker } from '../../helpers/worker-process.js';
import { describeChaos } from './chaos-suite.js';

let postgres: TestPostgres | undefined;

// The same scenarios as chaos-fixture.test.ts, against three real workers on
// a real (embedded) Postgres.
describeChaos('balancer chaos against real workers on Postgres', {
  launcher: async (): Promise<UpstreamLauncher> => {
    postgres = await TestPostgres.start();
    const databaseUrl = await postgres.createDatabase('balancer_chaos');
    return async (_name, port, adminPort) =>
      (await startWorker(databaseUrl, { PORT: String(port), ADMIN_PORT: String(adminPort) })).process;
  },
  teardown: async () => {
    await postgres?.destroy();
  },
});
