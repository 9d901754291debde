import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterContext } from './context.js';
import { run, type RunOptions, type RunResult } from './exec.js';

/**
 * Go programs the cluster needs besides Kubernetes itself, built once from
 * the Go module proxy into the cache (bin/<name>-v<version>). A module whose
 * go.mod has replace directives (skaffold) cannot be `go install`ed: it is
 * built through a wrapper module that copies them, as scripts/k8s-binaries.sh
 * does for Kubernetes.
 */
export interface GoTool {
  readonly name: string;
  readonly module: string;
  readonly version: string;
  /** The main package, inside the module. */
  readonly pkg: string;
  /** The env variable that picks another version, for the message when this one is not served. */
  readonly versionVariable: string;
  readonly copyReplaces?: boolean;
  readonly ldflags?: string;
  /** Go build tags. */
  readonly tags?: readonly string[];
}

export function goTools(ctx: ClusterContext): Record<'coredns' | 'crictl' | 'registry' | 'skaffold' | 'prometheus', GoTool> {
  const { config } = ctx;
  return {
    coredns: {
      name: 'coredns',
      module: 'github.com/coredns/coredns',
      version: config.coreDnsVersion,
      pkg: 'github.com/coredns/coredns',
      versionVariable: 'COREDNS_VERSION',
    },
    crictl: {
      name: 'crictl',
      module: 'sigs.k8s.io/cri-tools',
      version: config.criToolsVersion,
      pkg: 'sigs.k8s.io/cri-tools/cmd/crictl',
      versionVariable: 'CRI_TOOLS_VERSION',
    },
    registry: {
      name: 'registry',
      module: 'github.com/distribution/distribution/v3',
      version: config.registryVersion,
      pkg: 'github.com/distribution/distribution/v3/cmd/registry',
      versionVariable: 'REGISTRY_VERSION',
    },
    skaffold: {
      name: 'skaffold',
      module: 'github.com/GoogleContainerTools/skaffold/v2',
      version: config.skaffoldVersion,
      pkg: 'github.com/GoogleContainerTools/skaffold/v2/cmd/skaffold',
      versionVariable: 'SKAFFOLD_VERSION',
      copyReplaces: true,
      ldflags: `-X github.com/GoogleContainerTools/skaffold/v2/pkg/skaffold/version.version=v${config.skaffoldVersion}`,
    },
    // For the failover tier: Debian's prometheus package is built without
    // kubernetes_sd_configs (its build leaves out client-go). Prometheus
    // 3.x is published as module versions v0.3<minor>.<patch>.
    prometheus: {
      name: 'prometheus',
      module: 'github.com/prometheus/prometheus',
      version: config.prometheusVersion,
      pkg: 'github.com/prometheus/prometheus/cmd/prometheus',
      versionVariable: 'PROMETHEUS_MODULE_VERSION',
      // Only the kubernetes service discovery: a build with every cloud's SDK takes many minutes more.
      tags: ['remove_all_sd', 'enable_kubernetes_sd'],
      ldflags: `-X github.com/prometheus/common/version.Version=${prometheusRelease(config.prometheusVersion)}`,
    },
  };
}

/** The Prometheus release of a module version: v0.316.0 is 3.16.0. */
export function prometheusRelease(moduleVersion: string): string {
  const match = /^0\.3(\d+)\.(\d+)$/.exec(moduleVersion);
  return match === null ? moduleVersion : `3.${Number(match[1])}.${match[2]}`;
}

export function goToolPath(ctx: ClusterContext, tool: GoTool): string {
  return join(ctx.paths.toolsBin, `${tool.name}-v${tool.version}`);
}

const BUILD_TIMEOUT_MS = 30 * 60_000;

function goEnv(): NodeJS.ProcessEnv {
  // Static binaries: the CoreDNS one goes into an image with nothing else in it.
  return { ...process.env, CGO_ENABLED: '0' };
}

/** The `replace` lines of a go.mod, single-line and block form. */
export function replaceDirectives(gomod: string): string[] {
  const found: string[] = [];
  let inBlock = false;
  for (const raw of gomod.split('\n')) {
    const line = raw.replace(/\/\/.*$/, '').trim();
    if (inBlock) {
      if (line === ')') inBlock = false;
      else if (line.includes('=>')) found.push(line);
    } else if (line === 'replace (') {
      inBlock = true;
    } else if (line.startsWith('replace ') && line.includes('=>')) {
      found.push(line.slice('replace '.length).trim());
    }
  }
  return found;
}

/**
 * Runs the go command at low priority (the machine is shared), in the given
 * network namespace when the caller sits in the cluster's (the module proxy
 * is reachable only from the host's).
 */
function go(args: readonly string[], options: RunOptions & { netns?: string }): Promise<RunResult> {
  const command = ['nice', '-n', '19', 'go', ...args];
  const full = options.netns === undefined ? command : ['nsenter', `--net=${options.netns}`, '--', ...command];
  return run(full[0] ?? '', full.slice(1), options);
}

interface ModuleInfo {
  readonly GoMod?: string;
  readonly Dir?: string;
  readonly Error?: string;
}

/** `go mod download -json module@version`; throws with the proxy's own words when it refuses. */
async function download(ctx: ClusterContext, module: string, version: string, netns?: string): Promise<ModuleInfo> {
  mkdirSync(ctx.paths.goBuild, { recursive: true });
  const { stdout, stderr } = await go(['mod', 'download', '-json', `${module}@v${version}`], {
    timeoutMs: 10 * 60_000,
    cwd: ctx.paths.goBuild,
    okCodes: [0, 1],
    ...(netns === undefined ? {} : { netns }),
  });
  let info: ModuleInfo;
  try {
    info = JSON.parse(stdout) as ModuleInfo;
  } catch {
    throw new Error(`go mod download ${module}@v${version} failed: ${stderr.trim() || stdout.trim()}`);
  }
  if (info.Error !== undefined) throw new Error(`${module} v${version}: ${info.Error}`);
  return info;
}

/** Builds one tool unless the cache has it; returns the binary's path. */
export async function buildGoTool(ctx: ClusterContext, tool: GoTool, options: { netns?: string } = {}): Promise<string> {
  const target = goToolPath(ctx, tool);
  if (existsSync(target)) return target;
  mkdirSync(ctx.paths.toolsBin, { recursive: true });
  mkdirSync(ctx.paths.logs, { recursive: true });
  const logFile = join(ctx.paths.logs, `build-${tool.name}.log`);
  const src = join(ctx.paths.goBuild, `${tool.name}-v${tool.version}`);
  mkdirSync(src, { recursive: true });
  const info = await download(ctx, tool.module, tool.version, options.netns).catch((err: Error) => {
    throw new Error(`${err.message}\n(not served by the Go module proxy here? set ${tool.versionVariable} to a version it serves)`);
  });
  const ldflags = `-s -w ${tool.ldflags ?? ''}`.trim();
  const tags = tool.tags === undefined ? [] : ['-tags', tool.tags.join(',')];
  const tmp = `${target}.tmp`;
  const common = { cwd: src, env: goEnv(), logFile, timeoutMs: BUILD_TIMEOUT_MS, ...(options.netns === undefined ? {} : { netns: options.netns }) };
  if (tool.copyReplaces === true) {
    const replaces = replaceDirectives(readFileSync(info.GoMod ?? '', 'utf8'));
    writeFileSync(
      join(src, 'go.mod'),
      [`module flotilla.local/${tool.name}`, '', 'go 1.24', '', `require ${tool.module} v${tool.version}`, '', ...replaces.map((r) => `replace ${r}`), ''].join('\n'),
    );
    writeFileSync(join(src, 'tools.go'), `//go:build tools\n\npackage tools\n\nimport _ "${tool.pkg}"\n`);
    await go(['mod', 'tidy'], common);
    await go(['build', '-trimpath', ...tags, '-ldflags', ldflags, '-o', tmp, tool.pkg], common);
  } else {
    await go(['install', '-trimpath', ...tags, '-ldflags', ldflags, `${tool.pkg}@v${tool.version}`], { ...common, env: { ...common.env, GOBIN: src } });
    renameSync(join(src, tool.pkg.split('/').at(-1) ?? tool.name), tmp);
  }
  renameSync(tmp, target);
  return target;
}

/** The unpacked source of a module in the Go module cache (downloaded if needed). */
export async function moduleDir(ctx: ClusterContext, module: string, version: string): Promise<string> {
  const info = await download(ctx, module, version);
  if (info.Dir === undefined) throw new Error(`go mod download ${module}@v${version} named no folder`);
  return info.Dir;
}
