#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from the Go module proxy, once, into a
# cache outside the repository, for the test tier in tests/k8s
# (`npm run test:k8s`). Prints the bin folder on the last line of stdout.
#
#   FLOTILLA_K8S_CACHE   cache root (default: ~/.cache/flotilla-k8s)
#   K8S_VERSION          k8s.io/kubernetes release (default below; kubectl
#                        talks to servers one minor version either side)
#   WITH_KUBECTL=1       also build kubectl (for machines without one)
#
# k8s.io/kubernetes is not meant to be required as a module: its go.mod
# replaces every k8s.io/* staging module with a folder of its own repository
# (./staging/src/...). A wrapper module therefore requires it and replaces each
# staging module with its published v0.<minor>.<patch> twin; the list is read
# from the release's own go.mod, so it follows new releases.
# https://github.com/kubernetes/kubernetes/issues/79384
#
# Builds run under `nice -n 19`: the machine is shared with other test runs.
set -euo pipefail

K8S_VERSION="${K8S_VERSION:-1.32.13}"
CACHE="${FLOTILLA_K8S_CACHE:-$HOME/.cache/flotilla-k8s}"
ROOT="$CACHE/v$K8S_VERSION"
BIN="$ROOT/bin"
SRC="$ROOT/src"

tools=(etcd kube-apiserver)
if [[ "${WITH_KUBECTL:-0}" == 1 ]]; then tools+=(kubectl); fi

missing=()
for tool in "${tools[@]}"; do
  [[ -x "$BIN/$tool" ]] || missing+=("$tool")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "$BIN"
  exit 0
fi

command -v go >/dev/null || { echo "k8s-binaries: go is required (Debian: apt-get install golang)" >&2; exit 1; }
mkdir -p "$BIN" "$SRC/etcd"
started=$(date +%s)
log() { echo "k8s-binaries: $*" >&2; }

minor="${K8S_VERSION#*.}"
staging_version="v0.$minor"
log "resolving k8s.io/kubernetes v$K8S_VERSION (staging modules at $staging_version)"
gomod=$(cd "$CACHE" && go mod download -json "k8s.io/kubernetes@v$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*$/\1/p')
[[ -f "$gomod" ]] || { log "could not download k8s.io/kubernetes v$K8S_VERSION"; exit 1; }
staging=$(sed -n 's#^[[:space:]]*\(k8s\.io/[A-Za-z0-9._-]*\) => \./staging/src/.*#\1#p' "$gomod")
etcd_version=$(sed -n 's#^[[:space:]]*go\.etcd\.io/etcd/server/v3 \(v3\.5\.[0-9]*\).*#\1#p' "$gomod" | head -n 1)
[[ -n "$staging" && -n "$etcd_version" ]] || { log "unexpected go.mod layout in $gomod"; exit 1; }

{
  echo "module flotilla.local/k8s-binaries"
  echo
  echo "go 1.23"
  echo
  echo "require ("
  echo "	k8s.io/kubernetes v$K8S_VERSION"
  echo "	go.etcd.io/etcd/server/v3 $etcd_version"
  echo ")"
  echo
  echo "replace ("
  for module in $staging; do echo "	$module => $module $staging_version"; done
  echo ")"
} > "$SRC/go.mod"

# Keeps the commands in the module graph for `go mod tidy`.
cat > "$SRC/tools.go" <<'EOF'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
EOF

# A single-member etcd for tests: embed is etcd's own server, started with the
# few settings a loopback test needs.
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
	cfg.Name = "test"
	cfg.Dir = *dataDir
	client, peer := mustURL(*clientURL), mustURL(*peerURL)
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	cfg.LogLevel = "warn"
	// Throwaway test data: no fsync, which keeps a shared disk out of the timings.
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

version_flags="-X k8s.io/component-base/version.gitVersion=v$K8S_VERSION -X k8s.io/component-base/version.gitMajor=${K8S_VERSION%%.*} -X k8s.io/component-base/version.gitMinor=${minor%%.*} -X k8s.io/component-base/version.gitTreeState=clean"
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
