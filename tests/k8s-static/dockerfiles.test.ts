import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execForm, parseDockerfile, type Stage } from './dockerfile.js';
import { container, REPO_ROOT, renderOverlay, workload } from './render.js';

interface PackageJson {
  readonly engines: { readonly node: string };
  readonly dependencies: Record<string, string>;
  readonly devDependencies: Record<string, string>;
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;

function finalStage(stages: readonly Stage[]): Stage {
  const stage = stages.at(-1);
  if (stage === undefined) throw new Error('no stage');
  return stage;
}

function args(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** Parses "1.2.3" and compares with the ">=x.y" of package.json engines. */
function satisfiesEngines(version: string, engines: string): boolean {
  const want = /^>=(\d+)\.(\d+)/.exec(engines);
  const have = /^(\d+)\.(\d+)\.(\d+)$/.exec(version);
  if (!want || !have) return false;
  const [wMajor, wMinor] = [Number(want[1]), Number(want[2])];
  const [hMajor, hMinor] = [Number(have[1]), Number(have[2])];
  return hMajor > wMajor || (hMajor === wMajor && hMinor >= wMinor);
}

describe.each(['balancer', 'worker'])('when Dockerfile.%s is read', (service) => {
  const text = readFileSync(join(REPO_ROOT, `Dockerfile.${service}`), 'utf8');
  const stages = parseDockerfile(text);
  const last = finalStage(stages);

  test('then every stage starts from the official Node LTS slim image pinned to an exact version that package.json engines allow', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) {
      const match = /^node:(\d+\.\d+\.\d+)-bookworm-slim$/.exec(stage.from);
      expect([stage.from, match !== null]).toEqual([stage.from, true]);
      const version = match?.[1] ?? '';
      // Even majors are the LTS lines.
      expect(Number(version.split('.')[0]) % 2).toBe(0);
      expect(satisfiesEngines(version, pkg.engines.node)).toBe(true);
    }
    expect(new Set(stages.map((s) => s.from)).size).toBe(1);
  });

  test('then the first stage installs everything and builds, and the final stage installs runtime dependencies only', () => {
    const build = stages[0];
    expect(build && args(build, 'RUN').some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(build && args(build, 'RUN').some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    const installs = args(last, 'RUN').filter((r) => /\bnpm (ci|install|i)\b/.test(r));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/\bnpm ci\b.*--omit=dev\b/);
    // Only the build output comes over from the build stage, never its node_modules.
    const fromBuild = args(last, 'COPY').filter((c) => c.startsWith('--from='));
    expect(fromBuild).toEqual([`--from=${build?.name ?? ''} /app/dist ./dist`]);
  });

  test('then the final stage needs no dev dependency at run time: every package the service imports is a dependency', () => {
    const imported = new Set<string>();
    const scan = (dir: string): void => {
      for (const file of readdirTs(join(REPO_ROOT, dir))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import\()\s*'([^'.][^']*)'/g)) {
          const spec = m[1] ?? '';
          if (spec.startsWith('node:')) continue;
          imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] ?? spec));
        }
      }
    };
    scan(`services/${service}`);
    scan('services/shared');
    for (const name of imported) expect([name, name in pkg.dependencies]).toEqual([name, true]);
  });

  test('then the final stage runs as a numeric non-root user, the one the pods run as', () => {
    const users = args(last, 'USER');
    const user = users.at(-1) ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    const uid = Number(user.split(':')[0]);
    expect(uid).toBeGreaterThan(0);
    // Nothing after USER switches back or installs as root.
    const afterUser = last.instructions.slice(last.instructions.findIndex((i) => i.keyword === 'USER'));
    expect(afterUser.filter((i) => i.keyword === 'RUN')).toEqual([]);
    const objects = renderOverlay('dev');
    expect(workload(objects, service).template.spec?.securityContext?.runAsUser).toBe(uid);
  });

  test('then tini from Debian is PID 1 and node itself (never npm) runs the service entry point', () => {
    expect(args(last, 'RUN').some((r) => /apt-get install\b.*\btini\b/.test(r))).toBe(true);
    expect(execForm(args(last, 'ENTRYPOINT').at(-1) ?? '')).toEqual(['/usr/bin/tini', '--']);
    const cmd = execForm(args(last, 'CMD').at(-1) ?? '');
    expect(cmd).toEqual(['node', `dist/services/${service}/main.js`]);
    expect(existsSync(join(REPO_ROOT, `services/${service}/main.ts`))).toBe(true);
    expect(last.instructions.filter((i) => /npm (start|run start)/.test(i.args))).toEqual([]);
  });

  test('then the Deployment uses this image and keeps its entrypoint', () => {
    const c = container(workload(renderOverlay('dev'), service), service);
    expect(c.image).toBe(`flotilla-${service}`);
    expect(c.command).toBeUndefined();
  });

  test('then every file the build copies from the context passes .dockerignore', () => {
    const ignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    // An allow-list: node_modules, dist, .git and local data never reach the daemon.
    expect(ignore[0]).toBe('*');
    const allowed = ignore.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
    const sources = stages.flatMap((s) => args(s, 'COPY').filter((c) => !c.startsWith('--from=')).flatMap((c) => c.split(/\s+/).slice(0, -1)));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) {
      const path = source.replace(/\/$/, '');
      expect([path, allowed.some((a) => path === a || path.startsWith(`${a}/`))]).toEqual([path, true]);
      expect(existsSync(join(REPO_ROOT, path))).toBe(true);
    }
  });
});

function readdirTs(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}
