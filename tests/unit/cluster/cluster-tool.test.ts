import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fullImageName } from '../../../scripts/cluster/buildah.js';
import { readClusterConfig } from '../../../scripts/cluster/config.js';
import { isAlive, processStartTime } from '../../../scripts/cluster/daemons.js';
import { replaceDirectives } from '../../../scripts/cluster/go-tools.js';
import { imageNames } from '../../../scripts/cluster/image-names.js';
import { formatDuration } from '../../../scripts/cluster/status.js';
import { REPO_ROOT } from '../../k8s-static/render.js';

describe('when the cluster tool reads its environment', () => {
  test('then the defaults need nothing set, and paths are absolute', () => {
    const config = readClusterConfig({ HOME: '/home/x' }, REPO_ROOT);
    expect(config.workDir).toBe(join(REPO_ROOT, '.data/cluster'));
    expect(config.cacheDir).toBe('/home/x/.cache/flotilla-cluster');
    expect(config.k8sVersion).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  test('then every bad value is named in one error', () => {
    expect(() => readClusterConfig({ K8S_VERSION: 'v1.37', FLOTILLA_CLUSTER_READY_TIMEOUT_MS: '5', FLOTILLA_CLUSTER_KEEP: 'perhaps' }, REPO_ROOT)).toThrow(
      /K8S_VERSION[\s\S]*FLOTILLA_CLUSTER_READY_TIMEOUT_MS[\s\S]*FLOTILLA_CLUSTER_KEEP/,
    );
  });
});

describe('when image names are spelled the way containerd stores them', () => {
  test.each([
    ['flotilla-worker', 'docker.io/library/flotilla-worker:latest'],
    ['postgres:17.10-bookworm', 'docker.io/library/postgres:17.10-bookworm'],
    ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
    ['registry.k8s.io/pause:3.10.2', 'registry.k8s.io/pause:3.10.2'],
    ['127.0.0.1:5000/flotilla-worker:abc', '127.0.0.1:5000/flotilla-worker:abc'],
    ['localhost/x', 'localhost/x:latest'],
  ])('then %s is %s', (short, full) => {
    expect(fullImageName(short)).toBe(full);
  });
});

describe('when the local base images are named from the files that use them', () => {
  test('then the node base is the release both Dockerfiles start FROM, and postgres is what the StatefulSet runs', () => {
    const names = imageNames(REPO_ROOT);
    for (const dockerfile of ['Dockerfile.balancer', 'Dockerfile.worker']) {
      expect(readFileSync(join(REPO_ROOT, dockerfile), 'utf8')).toContain(`FROM ${names.node} AS build`);
    }
    expect(readFileSync(join(REPO_ROOT, 'k8s/base/postgres/statefulset.yaml'), 'utf8')).toContain(`image: ${names.postgres}`);
  });
});

describe('when a go.mod has replace directives', () => {
  test('then both forms are found, comments dropped', () => {
    const gomod = [
      'module example.com/x',
      'replace github.com/a/b => github.com/a/b v1.2.3 // pinned',
      'replace (',
      '\tgithub.com/c/d => github.com/e/d v0.1.0',
      '\t// a comment line',
      ')',
      'require github.com/f/g v1.0.0',
    ].join('\n');
    expect(replaceDirectives(gomod)).toEqual(['github.com/a/b => github.com/a/b v1.2.3', 'github.com/c/d => github.com/e/d v0.1.0']);
  });
});

describe('when a daemon is known by its pid file', () => {
  test('then a live process matches its own start time, and a recycled PID does not', () => {
    const start = processStartTime(process.pid);
    expect(start).toMatch(/^\d+$/);
    expect(isAlive(process.pid, start)).toBe(true);
    expect(isAlive(process.pid, `${start ?? ''}1`)).toBe(false);
    expect(isAlive(2 ** 22 + 1)).toBe(false);
  });
});

test('when durations are printed, then seconds have one decimal and minutes are whole', () => {
  expect(formatDuration(1234)).toBe('1.2 s');
  expect(formatDuration(125_000)).toBe('2 min 5 s');
});
