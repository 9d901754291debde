import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { dump, load } from 'js-yaml';
import { definedMetricNames, metricNamesIn } from './metric-names.js';
import { K8S_DIR, find, renderWithComponents, type K8sObject } from './render.js';

const MONITORING_DIR = join(K8S_DIR, 'components', 'monitoring');
const PROMTOOL = '/usr/bin/promtool';
const havePromtool = existsSync(PROMTOOL);
// .ci/run installs Debian's prometheus package (it brings promtool); in CI a
// missing binary fails these tests, on a developer machine they are skipped, loudly.
const describeWithPromtool = havePromtool || process.env.CI === 'true' ? describe : describe.skip;
if (!havePromtool) process.stderr.write('alerts-and-dashboard.test: /usr/bin/promtool not installed (apt-get install prometheus); promtool checks skipped\n');

/** Series the rules may use that our services do not define: kube-state-metrics' restart counter, and `up`, which Prometheus writes for every target. */
const EXTERNAL_METRICS = new Set(['kube_pod_container_status_restarts_total', 'up']);

interface Rule {
  readonly alert?: string;
  readonly record?: string;
  readonly expr: string;
}
interface RulesFile {
  readonly groups: readonly { readonly name: string; readonly rules: readonly Rule[] }[];
}
interface Panel {
  readonly type: string;
  readonly title: string;
  readonly targets?: readonly { readonly expr: string }[];
}
interface Dashboard {
  readonly uid: string;
  readonly panels: readonly Panel[];
}

const rulesFile = (): RulesFile => load(readFileSync(join(MONITORING_DIR, 'rules.yaml'), 'utf8')) as RulesFile;
const dashboardFile = (): Dashboard => JSON.parse(readFileSync(join(MONITORING_DIR, 'flotilla-dashboard.json'), 'utf8')) as Dashboard;
const dashboardExprs = (d: Dashboard): string[] => d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
const alertNames = (r: RulesFile): string[] => r.groups.flatMap((g) => g.rules.flatMap((rule) => rule.alert ?? []));

function promtool(args: readonly string[], cwd: string): { status: number | null; output: string } {
  const result = spawnSync(PROMTOOL, args, { cwd, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('when the monitoring component is rendered into the prod overlay', () => {
  let objects: K8sObject[];

  beforeAll(() => {
    objects = renderWithComponents('prod', 'flotilla', ['monitoring']);
  });

  test('then the PrometheusRule carries exactly the groups of rules.yaml', () => {
    const rule = find<K8sObject & { spec: RulesFile }>(objects, 'PrometheusRule', 'flotilla');
    expect(rule.metadata.namespace).toBe('flotilla');
    expect(rule.spec).toEqual(rulesFile());
    expect(alertNames(rule.spec).sort()).toEqual([
      'FlotillaBalancerHighErrorRatio',
      'FlotillaCertificateExpiresSoon',
      'FlotillaCertificateReloadFailed',
      'FlotillaNoReadyUpstream',
      'FlotillaPodRestarting',
      'FlotillaRetryBudgetExhausted',
    ]);
  });

  test('then the dashboard ConfigMap has the Grafana sidecar label, a stable name and the dashboard JSON', () => {
    const configMap = find<V1ConfigMap & K8sObject>(objects, 'ConfigMap', 'flotilla-dashboard');
    expect(configMap.metadata.labels?.grafana_dashboard).toBe('1');
    const json = configMap.data?.['flotilla-dashboard.json'];
    expect(json).toBeDefined();
    expect(JSON.parse(json ?? '')).toEqual(dashboardFile());
  });
});

describe('when the dashboard JSON is read', () => {
  const dashboard = dashboardFile();
  const defined = definedMetricNames();

  test('then the names collected from the services include the ones the panels are built on', () => {
    // Guards the collector itself: an empty set would make the next test vacuous.
    for (const name of ['balancer_requests_total', 'balancer_request_duration_seconds_bucket', 'http_request_duration_seconds_count', 'pg_pool_waiting_requests']) {
      expect(defined).toContain(name);
    }
  });

  test('then it has panels for rates, errors, durations, pool saturation, ejections and retries', () => {
    const exprs = dashboardExprs(dashboard).join('\n');
    for (const name of ['balancer_requests_total', 'balancer_request_duration_seconds_bucket', 'balancer_upstream_try_duration_seconds_bucket', 'http_request_duration_seconds_count', 'http_request_duration_seconds_bucket', 'pg_pool_clients', 'pg_pool_idle_clients', 'pg_pool_waiting_requests', 'balancer_ejections_total', 'balancer_retries_total', 'balancer_retry_budget_exhausted_total']) {
      expect(exprs).toContain(name);
    }
    expect(exprs).toMatch(/by \(upstream\)/);
  });

  test('then every expression names only metrics the services define', () => {
    const unknown = dashboardExprs(dashboard).flatMap((expr) => metricNamesIn(expr).filter((name) => !defined.has(name)).map((name) => `${name} in ${expr}`));
    expect(unknown).toEqual([]);
  });

  test('then every alert expression names only metrics the services or kube-state-metrics define', () => {
    const exprs = rulesFile().groups.flatMap((g) => g.rules.map((r) => r.expr));
    const unknown = exprs.flatMap((expr) => metricNamesIn(expr).filter((name) => !defined.has(name) && !EXTERNAL_METRICS.has(name)));
    expect(unknown).toEqual([]);
  });
});

describeWithPromtool('when promtool checks the monitoring files', () => {
  let dir = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'flotilla-promtool-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('then `promtool check rules` accepts rules.yaml', () => {
    const result = promtool(['check', 'rules', 'rules.yaml'], MONITORING_DIR);
    expect(result).toEqual({ status: 0, output: expect.stringContaining('SUCCESS: 6 rules found') as unknown });
  });

  test('then `promtool test rules` passes the alert unit tests, which cover the error-ratio, no-ready-upstream and certificate alerts', () => {
    const tests = readFileSync(join(MONITORING_DIR, 'rules.test.yaml'), 'utf8');
    for (const alert of ['FlotillaBalancerHighErrorRatio', 'FlotillaNoReadyUpstream', 'FlotillaCertificateExpiresSoon', 'FlotillaCertificateReloadFailed']) expect(tests).toContain(`alertname: ${alert}`);
    const result = promtool(['test', 'rules', 'rules.test.yaml'], MONITORING_DIR);
    expect(result).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') as unknown });
  });

  test('then every dashboard expression is valid PromQL once the Grafana variables are filled in', () => {
    // promtool has no "check expression"; recording rules with the panels'
    // expressions get the same parser.
    const exprs = dashboardExprs(dashboardFile()).map((expr) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$namespace', 'flotilla'));
    const rules = { groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `flotilla:dashboard_panel_${i}`, expr })) }] };
    writeFileSync(join(dir, 'dashboard-rules.yaml'), dump(rules));
    const result = promtool(['check', 'rules', 'dashboard-rules.yaml'], dir);
    expect(result).toEqual({ status: 0, output: expect.stringContaining(`SUCCESS: ${exprs.length} rules found`) as unknown });
  });
});
