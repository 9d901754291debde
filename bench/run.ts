import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ChildProcesses } from './child-processes.js';
import { WRK_BIN } from './load/wrk.js';
import { BenchUsageError, parseBenchArgs } from './options.js';
import { HAPROXY_BIN } from './peers/haproxy.js';
import { NGINX_BIN } from './peers/nginx.js';
import { CADDY_BIN } from './peers/caddy.js';
import { nodeRuntimes } from './peers/node-runtime.js';
import { chartSvg } from './report/chart-svg.js';
import { machineInfo, versions } from './report/machine-info.js';
import { resultsMarkdown } from './report/markdown.js';
import { svgToPng } from './report/png.js';
import type { BenchResults } from './results.js';
import type { ScenarioContext } from './scenarios/context.js';
import { runFailover } from './scenarios/failover.js';
import { runMultiProcess } from './scenarios/multi-process.js';
import { runProfile } from './scenarios/profile-balancer.js';
import { runProxyScenarios } from './scenarios/proxy-scenarios.js';
import { runRealWorkers } from './scenarios/real-workers.js';
import { runWritePath } from './scenarios/write-path.js';
import { runDataPath } from './scenarios/data-path.js';
import { runSlowUpstream } from './scenarios/slow-upstream.js';
import { runTls } from './scenarios/tls.js';
import { runNodePeers } from './scenarios/node-peers.js';
import { runGrowth } from './scenarios/growth.js';
import { runGcPerRequest } from './scenarios/gc-per-request.js';
import type { ProfileSummary } from './profile/cpuprofile-summary.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const APT_HINT = 'apt-get install -y nginx haproxy wrk caddy librsvg2-bin   (Debian 12: nginx 1.22, HAProxy 2.6, wrk 4.1; caddy only for the peers group)';

function log(line: string): void {
  process.stdout.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
}

/** Groups that use no peer proxy and no wrk (their own Node load), or check their own tools (tls: skipped with a note). */
const SELF_CONTAINED_GROUPS = new Set(['writes', 'data', 'tls']);

function checkTools(groups: ReadonlySet<string>): void {
  const needsPeers = [...groups].some((g) => !SELF_CONTAINED_GROUPS.has(g));
  const missing = needsPeers ? [NGINX_BIN, HAPROXY_BIN, WRK_BIN].filter((bin) => !existsSync(bin)) : [];
  if (missing.length > 0) throw new BenchUsageError(`missing ${missing.join(', ')}; install with: ${APT_HINT}`);
  if (!existsSync(join(REPO_ROOT, 'dist/services/balancer/main.js'))) throw new BenchUsageError('dist/services/balancer/main.js missing: run npm run build first');
}

async function main(): Promise<void> {
  const options = parseBenchArgs(process.argv.slice(2), join(REPO_ROOT, 'bench/out'));
  checkTools(options.groups);
  mkdirSync(options.outDir, { recursive: true });
  const children = new ChildProcesses();
  const tmp = mkdtempSync(join(tmpdir(), 'flotilla-bench-'));
  const scriptDir = join(tmp, 'wrk');
  mkdirSync(scriptDir);
  const ctx: ScenarioContext = { options, scriptDir, commands: [], log, children, tmp, runs: [], failover: [], growth: [], notes: [], configFiles: [] };
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (interrupted) return;
    interrupted = true;
    log(`${signal}: stopping every process the bench started`);
    void children.stopAll().finally(() => {
      rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const started = Date.now();
  let profile: ProfileSummary | undefined;
  log(`bench: ${[...options.groups].join(', ')}; best of ${options.rounds} × ${options.durationS}s runs after ${options.warmupS}s warm-up, ${options.connections} connections; temp ${tmp}`);
  try {
    const groups: [string, () => Promise<unknown>][] = [
      ['proxy', () => runProxyScenarios(ctx)],
      ['proxy2', () => runMultiProcess(ctx)],
      ['slow', () => runSlowUpstream(ctx)],
      ['failover', () => runFailover(ctx)],
      ['workers', () => runRealWorkers(ctx)],
      ['writes', () => runWritePath(ctx)],
      ['data', () => runDataPath(ctx)],
      ['profile', async () => (profile = await runProfile(ctx))],
      ['tls', () => runTls(ctx)],
      ['peers', () => runNodePeers(ctx)],
      ['growth', () => runGrowth(ctx)],
      ['gc', () => runGcPerRequest(ctx)],
    ];
    for (const [name, run] of groups) {
      if (!options.groups.has(name)) continue;
      try {
        await run();
      } catch (err) {
        // One broken group (say, Postgres would not start) should not throw away the others' figures.
        const message = err instanceof Error ? err.message : String(err);
        log(`group ${name} failed: ${message}`);
        ctx.notes.push(`Group "${name}" failed: ${message.split('\n')[0]}`);
      }
    }
  } finally {
    await children.stopAll();
    children.dispose();
  }
  const configDir = join(options.outDir, 'configs');
  rmSync(configDir, { recursive: true, force: true });
  mkdirSync(configDir, { recursive: true });
  for (const file of ctx.configFiles) copyFileSync(file, join(configDir, `${basename(dirname(file))}-${basename(file)}`));
  rmSync(tmp, { recursive: true, force: true });

  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: machineInfo(),
    versions: versions({ nginx: NGINX_BIN, haproxy: HAPROXY_BIN, wrk: WRK_BIN, caddy: CADDY_BIN }, nodeRuntimes(options.node24).runtimes),
    settings: {
      quick: options.quick,
      peerWarmupS: options.peerWarmupS,
      warmupS: options.warmupS,
      rounds: options.rounds,
      durationS: options.durationS,
      connections: options.connections,
      processes: options.processes.join(','),
      slowScenarioConnections: options.slowConnections,
      wrkThreads: options.threads,
      failoverS: options.failoverS,
      failoverConcurrency: options.failoverConcurrency,
      wallClockS: Math.round((Date.now() - started) / 1_000),
    },
    // Inside scripts/k8s-netns.sh (FLOTILLA_NETNS=1, set by it) the command to repeat includes it.
    commands: [`${process.env.FLOTILLA_NETNS === '1' ? 'bash scripts/k8s-netns.sh ' : ''}node dist/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(), ...ctx.commands],
    runs: ctx.runs,
    failover: ctx.failover,
    ...(ctx.growth.length > 0 ? { growth: ctx.growth } : {}),
    ...(profile !== undefined ? { profile } : {}),
    notes: ctx.notes,
  };
  writeFileSync(join(options.outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(options.outDir, 'results.md'), resultsMarkdown(results));
  if (ctx.runs.length > 0) {
    const svg = join(options.outDir, 'chart.svg');
    writeFileSync(svg, chartSvg(ctx.runs, `Flotilla balancer vs nginx vs HAProxy — ${results.date.slice(0, 16)}Z, ${results.machine.nproc} cores`));
    const png = await svgToPng(svg, join(options.outDir, 'chart.png'));
    if (!png) log('rsvg-convert not found (apt-get install -y librsvg2-bin): chart left as chart.svg only');
  }
  log(`done in ${results.settings.wallClockS}s; wrote ${options.outDir}/results.{json,md} and chart`);
  if (ctx.notes.some((n) => n.startsWith('Group'))) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(err instanceof BenchUsageError ? 2 : 1);
});
