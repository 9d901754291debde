#!/usr/bin/env bash
# Runs a command in a private network namespace (unshare --net) whose
# loopback also carries 198.18.0.0/24 (RFC 2544's benchmark range). The
# Kubernetes tier needs it: EndpointSlice validation refuses loopback
# addresses, so the workers that the real API lists listen on 198.18.0.x.
# Nothing leaves the namespace: it has no other interface.
#   usage: scripts/k8s-netns.sh <command> [args...]
set -euo pipefail
if [[ "${FLOTILLA_NETNS:-}" != 1 ]]; then
  exec unshare --net env FLOTILLA_NETNS=1 "$0" "$@"
fi
ip link set lo up
ip addr add 198.18.0.1/24 dev lo
exec "$@"
