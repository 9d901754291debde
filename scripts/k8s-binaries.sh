#!/usr/bin/env bash
# Builds Kubernetes binaries from the Go module proxy, once, into a cache
# outside the repository. Prints the bin folder on the last line of stdout.
#
#   scripts/k8s-binaries.sh [--no-build] [tool...]
#
# With --no-build it only looks: it prints the bin folder when every tool is
# there, and otherwise exits 3 with the missing ones named (the bench uses
# this: a build takes many minutes and is not a benchmark's to start).
#
# Tools: etcd kube-apiserver kube-controller-manager kube-scheduler kubelet
# kube-proxy kubectl. Without arguments: etcd and kube-apiserver, what the
# test tier in tests/k8s needs (`npm run test:k8s`); the real cluster
# (`npm run cluster -- up`) asks for all of them.
#
#   FLOTILLA_K8S_CACHE   cache root (default: ~/.cache/flotilla-k8s)
#   K8S_VERSION          k8s.io/kubernetes release (default below)
#   WITH_KUBECTL=1       also build kubectl (same as naming it)
#
# k8s.io/kubernetes is not meant to be required as a module: its go.mod
# replaces every k8s.io/* staging module with a folder of its own repository
# (./staging/src/...). A wrapper module therefore requires it and replaces each
# staging module with its published v0.<minor>.<patch> twin; the list is read
# from the release's own go.mod, so it follows new releases.
# https://github.com/kubernetes/kubernetes/issues/79384
#
# The module proxy here does not serve every version of every module (for
# v1.32.13 it refused k8s.io/endpointslice v0.32.13 but served v0.32.12). A
# staging module that is refused falls back to the nearest lower patch of the
# same minor, with a line that says so; the sample-* modules are never needed.
#
# Builds run under `nice -n 19`: the machine is shared with other test runs.
set -euo pipefail

# 1.37 is the newest release whose kubelet runs on these machines: it still
# accepts cgroup v1 (with failCgroupV1: false) and still falls back to its own
# cgroupDriver for containerd 1.x, which lacks the RuntimeConfig CRI call
# (that fallback goes in 1.38). See k8s/README.md, "The local cluster".
K8S_VERSION="${K8S_VERSION:-1.37.2}"
CACHE="${FLOTILLA_K8S_CACHE:-$HOME/.cache/flotilla-k8s}"
ROOT="$CACHE/v$K8S_VERSION"
BIN="$ROOT/bin"
SRC="$ROOT/src"

no_build=0
if [[ "${1:-}" == --no-build ]]; then no_build=1; shift; fi
tools=("$@")
if [[ ${#tools[@]} -eq 0 ]]; then tools=(etcd kube-apiserver); fi
if [[ "${WITH_KUBECTL:-0}" == 1 ]]; then tools+=(kubectl); fi

missing=()
for tool in "${tools[@]}"; do
  case "$tool" in
    etcd | kube-apiserver | kube-controller-manager | kube-scheduler | kubelet | kube-proxy | kubectl) ;;
    *) echo "k8s-binaries: unknown tool '$tool'" >&2; exit 2 ;;
  esac
  [[ -x "$BIN/$tool" ]] || missing+=("$tool")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$BIN"
  exit 0
fi
if [[ $no_build == 1 ]]; then
  echo "k8s-binaries: not built in $BIN: ${missing[*]} (run scripts/k8s-binaries.sh ${tools[*]})" >&2
  exit 3
fi

command -v go >/dev/null || { echo "k8s-binaries: go is required (Debian: apt-get install golang)" >&2; exit 1; }
mkdir -p "$BIN" "$SRC/etcd"
started=$(date +%s)
log() { echo "k8s-binaries: $*" >&2; }

# Succeeds when the module proxy serves module@version.
served() { (cd "$CACHE" && go mod download "$1@$2" >/dev/null 2>&1); }

# The version to use for a staging module: v0.<minor>.<patch>, or the nearest
# lower patch that is served.
staging_version() {
  local module=$1 minor=$2 patch=$3
  local p
  for ((p = patch; p >= 0; p--)); do
    if served "$module" "v0.$minor.$p"; then
      [[ $p -eq $patch ]] || log "$module v0.$minor.$patch is not served here; using v0.$minor.$p"
      echo "v0.$minor.$p"
      return 0
    fi
  done
  log "no v0.$minor.x of $module is served here; try another K8S_VERSION"
  return 1
}

IFS=. read -r major minor patch <<<"$K8S_VERSION"
log "resolving k8s.io/kubernetes v$K8S_VERSION"
gomod=$(cd "$CACHE" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*$/\1/p')
[[ -f "$gomod" ]] || { log "could not download k8s.io/kubernetes v$K8S_VERSION"; exit 1; }
staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$gomod" | grep -v '^k8s\.io/sample-')
etcd_version=$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3 \(v3\.[0-9]*\.[0-9]*\).*#\1#p' "$gomod" | head -n 1)
[[ -n "$staging" && -n "$etcd_version" ]] || { log "unexpected go.mod layout in $gomod"; exit 1; }

replaces=""
for module in $staging; do
  replaces+="	$module => $module $(staging_version "$module" "$minor" "$patch")"$'\n'
done

cat > "$SRC/go.mod" <<EOF
module flotilla.local/k8s-binaries

go 1.23

require (
	k8s.io/kubernetes v$K8S_VERSION
	go.etcd.io/etcd/server/v3 $etcd_version
)

replace (
$replaces)
EOF

# Keeps the commands in the module graph for `go mod tidy`.
cat > "$SRC/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
EOF

# A single-member etcd: embed is etcd's own server, started with the few
# settings a loopback cluster needs.
cat > "$SRC/etcd/main.go" <<'EOF'
package main

import (
	"flag"
	"log"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func mustURL(raw string) url.URL {
	u, err := url.Parse(raw)
	if err != nil {
		log.Fatalf("bad URL %q: %v", raw, err)
	}
	return *u
}

func main() {
	dataDir := flag.String("data-dir", "", "data directory (required)")
	clientURL := flag.String("listen-client-urls", "http://127.0.0.1:2379", "client URL")
	peerURL := flag.String("listen-peer-urls", "http://127.0.0.1:2380", "peer URL")
	flag.Parse()
	if *dataDir == "" {
		log.Fatal("--data-dir is required")
	}
	cfg := embed.NewConfig()
	cfg.Name = "flotilla"
	cfg.Dir = *dataDir
	client, peer := mustURL(*clientURL), mustURL(*peerURL)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	// Throwaway data: no fsync, which keeps a shared disk out of the timings.
	cfg.UnsafeNoFsync = true
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		log.Fatal(err)
	}
	select {
	case <-e.Server.ReadyNotify():
		log.Printf("etcd ready on %s", client.String())
	case <-time.After(60 * time.Second):
		e.Server.Stop()
		log.Fatal("etcd did not become ready within 60s")
	}
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-signals:
	case err := <-e.Err():
		log.Printf("etcd: %v", err)
	}
	e.Close()
}
EOF

cd "$SRC"
log "go mod tidy (downloads the module graph once; later runs use the module cache)"
nice -n 19 go mod tidy

version_flags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
for tool in "${missing[@]}"; do
  case "$tool" in
    etcd) package=./etcd ;;
    *) package="k8s.io/kubernetes/cmd/$tool" ;;
  esac
  log "building $tool"
  CGO_ENABLED=0 nice -n 19 go build -trimpath -ldflags "-s -w $version_flags" -o "$BIN/$tool.tmp" "$package"
  mv "$BIN/$tool.tmp" "$BIN/$tool"
done
log "built ${missing[*]} in $(($(date +%s) - started)) s"
echo "$BIN"
