import { join } from 'node:path';
import type { ClusterConfig } from './config.js';

/**
 * Where each part of the cluster keeps its files. The work folder holds one
 * cluster's life; the cache holds what is built once and reused.
 */
export interface ClusterPaths {
  readonly work: string;
  readonly logs: string;
  readonly pids: string;
  readonly pki: string;
  readonly kubeconfigs: string;
  readonly adminKubeconfig: string;
  /** kubectl's discovery cache, which would otherwise go to ~/.kube/cache. */
  readonly kubeCache: string;
  readonly etcdData: string;
  readonly containerd: string;
  readonly containerdSocket: string;
  readonly containerdConfig: string;
  readonly kubeletConfig: string;
  readonly kubeProxyConfig: string;
  /** Host folders that appear at fixed paths inside the cluster's mount namespace. */
  readonly hostFs: string;
  /** Files standing in for kernel tunables that kubelet would otherwise set host-wide. */
  readonly tunables: string;
  readonly volumes: string;
  readonly registryData: string;
  readonly envFile: string;
  /** skaffold's global configuration for this cluster's kube-context. */
  readonly skaffoldConfig: string;
  /** The record of host folders `up` had to create, so that `down` removes exactly those. */
  readonly createdHostDirs: string;
  readonly k8sBin: string;
  readonly toolsBin: string;
  readonly goBuild: string;
  readonly baseImages: string;
  readonly imageArchives: string;
  readonly buildahRoot: string;
  readonly buildahRunRoot: string;
}

export function clusterPaths(config: ClusterConfig): ClusterPaths {
  const work = config.workDir;
  const cache = config.cacheDir;
  return {
    work,
    logs: join(work, 'logs'),
    pids: join(work, 'pids'),
    pki: join(work, 'pki'),
    kubeconfigs: join(work, 'kubeconfigs'),
    adminKubeconfig: join(work, 'kubeconfigs', 'admin.kubeconfig'),
    kubeCache: join(work, 'kube-cache'),
    etcdData: join(work, 'etcd'),
    containerd: join(work, 'containerd'),
    containerdSocket: join(work, 'containerd', 'containerd.sock'),
    containerdConfig: join(work, 'containerd', 'config.toml'),
    kubeletConfig: join(work, 'kubelet-config.yaml'),
    kubeProxyConfig: join(work, 'kube-proxy-config.yaml'),
    hostFs: join(work, 'fs'),
    tunables: join(work, 'tunables'),
    volumes: join(work, 'volumes'),
    registryData: join(work, 'registry'),
    envFile: join(work, 'env'),
    skaffoldConfig: join(work, 'skaffold-config.yaml'),
    createdHostDirs: join(work, 'created-host-dirs'),
    k8sBin: join(config.k8sCacheDir, `v${config.k8sVersion}`, 'bin'),
    toolsBin: join(cache, 'bin'),
    goBuild: join(cache, 'go-build'),
    baseImages: join(cache, 'base'),
    imageArchives: join(cache, 'images'),
    buildahRoot: join(cache, 'buildah', 'storage'),
    buildahRunRoot: join(cache, 'buildah', 'run'),
  };
}
