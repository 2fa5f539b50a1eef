#!/usr/bin/env bash
# Loads an image from the local Docker engine into the cluster's containerd (k8s.io namespace, where the kubelet
# looks), the way `minikube image load` does: `docker save | ctr images import`. Pods then use it by the same
# reference with imagePullPolicy IfNotPresent (no registry is reachable here).
#   load-image.sh <image reference>...
set -euo pipefail
# shellcheck source=scripts/cluster/config.sh
source "$(dirname "$0")/config.sh"

[ "$#" -ge 1 ] || { echo "usage: load-image.sh <image reference>..." >&2; exit 2; }
[ -S "$CONTAINERD_SOCKET" ] || { echo "load-image: the cluster is not running (no $CONTAINERD_SOCKET): run scripts/cluster/up.sh" >&2; exit 1; }
# The reference as containerd stores it (Docker's short names expanded), e.g. app:1 -> docker.io/library/app:1.
normalized() {
  local ref=$1 first=${1%%/*}
  if [[ $ref != */* ]]; then
    ref="docker.io/library/$ref"
  elif [[ $first != *.* && $first != *:* && $first != localhost ]]; then
    ref="docker.io/$ref"
  fi
  [[ ${ref##*/} == *[:@]* ]] || ref="$ref:latest"
  echo "$ref"
}

for ref in "$@"; do
  docker image inspect "$ref" >/dev/null || { echo "load-image: Docker has no image $ref" >&2; exit 1; }
  start=$(date +%s%N)
  docker save "$ref" | ctr -a "$CONTAINERD_SOCKET" -n k8s.io images import - >/dev/null
  # The image as the kubelet will see it: present under that exact reference. The list is read whole first: piped
  # into `grep -q`, which exits at the first match, ctr died of SIGPIPE on its next line and pipefail called a
  # loaded image missing (two CI runs failed so).
  listed=$(ctr -a "$CONTAINERD_SOCKET" -n k8s.io images ls -q)
  grep -qxF "$(normalized "$ref")" <<<"$listed" ||
    { echo "load-image: $ref was not found in containerd after import" >&2; exit 1; }
  echo "load-image: $ref loaded in $(awk -v a="$start" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s"
done
