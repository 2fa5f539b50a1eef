#!/usr/bin/env bash
# Builds the cluster's binaries from the Go module proxy and packs its images, into the cache of config.sh:
#   Kubernetes (kube-apiserver, kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl), etcd,
#   CoreDNS (the project's plugin list, no `forward`), metrics-server, the pause program, and one-layer image tars
#   for pause, CoreDNS and metrics-server that `ctr images import` accepts.
# Idempotent: a part whose cache entry exists is not built again (a warm run takes a second). Prints each part's
# time. Needs Go (>= the version Kubernetes' go.mod names) and the Go module proxy; ~17 min cold on 2 cores.
# Builds run under `nice` (BUILD_NICE, default 10) because other work shares the machine.
set -euo pipefail
# shellcheck source=scripts/cluster/config.sh
source "$(dirname "$0")/config.sh"

export PATH="/usr/local/go/bin:$PATH"
export CGO_ENABLED=0
# -trimpath and CGO_ENABLED=0 as scripts/ci/install-helm.sh uses, so shared dependencies hit Go's build cache.
GO_BUILD=(nice -n "${BUILD_NICE:-10}" go build -trimpath)
command -v go >/dev/null || { echo "build: Go toolchain not found" >&2; exit 1; }

total_start=$(date +%s)
timing() { printf 'build: %-15s %s\n' "$1" "$2"; }

# Runs "build_<part>" unless the part's bin dir is complete (marked by .done), building into a fresh temporary
# dir that replaces the entry only when the build succeeded.
build_part() {
  local part=$1 bin=$2
  if [ -f "$bin/.done" ]; then
    timing "$part" "cached ($bin)"
    return
  fi
  local start tmp
  start=$(date +%s)
  tmp="$bin.tmp.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  "build_$part" "$tmp"
  touch "$tmp/.done"
  rm -rf "$bin" && mv "$tmp" "$bin"
  timing "$part" "built in $(($(date +%s) - start)) s ($bin)"
}

# A throw-away Go module in the cache that requires what is to be built (one per part and version).
module_dir() {
  local dir="$CLUSTER_CACHE/src/$1"
  rm -rf "$dir" && mkdir -p "$dir"
  echo "$dir"
}

# Kubernetes from k8s.io/kubernetes: its go.mod points the 30-odd k8s.io/* staging modules at ./staging, which a
# module download does not follow, so this module replaces each with its published v0.<minor>.<patch>.
build_kubernetes() {
  local out=$1 dir kmod staging="v0.${K8S_VERSION#v1.}"
  dir=$(module_dir "kubernetes-$K8S_VERSION")
  kmod=$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  {
    echo "module heart-disease.local/cluster-build/kubernetes"
    grep -E '^(go|godebug) ' "$kmod"
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo "replace ("
    sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging"'#p' "$kmod"
    echo ")"
  } >"$dir/go.mod"
  local cmds=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
  local pkgs=("${cmds[@]/#/k8s.io/kubernetes/cmd/}")
  (cd "$dir" && go get "${pkgs[@]/%/@$K8S_VERSION}" >/dev/null)
  # The version Kubernetes' own build stamps (hack/lib/version.sh); without it components report v0.0.0-master.
  local minor=${K8S_VERSION#v1.} ldflags="-s -w" var
  minor=${minor%%.*}
  for var in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    ldflags+=" -X $var.gitVersion=$K8S_VERSION -X $var.gitMajor=1 -X $var.gitMinor=$minor"
    ldflags+=" -X $var.gitTreeState=clean -X $var.buildDate=1970-01-01T00:00:00Z"
  done
  (cd "$dir" && "${GO_BUILD[@]}" -ldflags "$ldflags" -o "$out/" "${pkgs[@]}")
}

# etcd's server module root is its main package; its go.mod replaces siblings with ../ paths, so `go install
# module@version` refuses it: build it from a module that requires it.
build_etcd() {
  local out=$1 dir
  dir=$(module_dir "etcd-$ETCD_VERSION")
  (cd "$dir" && go mod init heart-disease.local/cluster-build/etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null &&
    "${GO_BUILD[@]}" -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

# CoreDNS with the project's plugin list (src/coredns/main.go).
build_coredns() {
  local out=$1 dir
  dir=$(module_dir "coredns-$COREDNS_VERSION")
  cp "$CLUSTER_SCRIPTS/src/coredns/main.go" "$dir/"
  # `go get` of exactly the packages main.go imports (not `go mod tidy`, which would fetch every plugin's tests'
  # dependencies too).
  local pkgs
  mapfile -t pkgs < <(grep -o '"github.com/coredns/coredns/[^"]*"' "$dir/main.go" | tr -d '"')
  (cd "$dir" && go mod init heart-disease.local/cluster-build/coredns >/dev/null 2>&1 &&
    go get "${pkgs[@]/%/@$COREDNS_VERSION}" >/dev/null &&
    "${GO_BUILD[@]}" -ldflags "-s -w -X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION" \
      -o "$out/coredns" .)
}

# metrics-server's own go.mod has no replace lines: `go install module@version` builds exactly its tested set.
build_metrics_server() {
  local out=$1 pkg=k8s.io/client-go/pkg/version
  GOBIN="$out" nice -n "${BUILD_NICE:-10}" go install -trimpath \
    -ldflags "-s -w -X $pkg.gitVersion=$METRICS_SERVER_VERSION -X $pkg.gitTreeState=clean" \
    "sigs.k8s.io/metrics-server/cmd/metrics-server@$METRICS_SERVER_VERSION"
}

build_pause() {
  local out=$1 dir
  dir=$(module_dir pause)
  cp "$CLUSTER_SCRIPTS/src/pause/main.go" "$dir/"
  (cd "$dir" && go mod init heart-disease.local/cluster-build/pause >/dev/null 2>&1 &&
    "${GO_BUILD[@]}" -ldflags "-s -w" -o "$out/pause" .)
}

# An image tar is keyed by its binary's cache entry (which already carries the version and source hash).
pack_image() {
  local ref=$1 tar=$2 binary=$3
  shift 3
  if [ -f "$tar" ]; then
    timing "$(basename "$tar" .tar)" "cached ($tar)"
    return
  fi
  mkdir -p "$IMAGES_DIR"
  bash "$CLUSTER_SCRIPTS/image-tar.sh" "$ref" "$tar.tmp" "$binary" "$@"
  mv "$tar.tmp" "$tar"
  timing "$(basename "$tar" .tar)" "packed ($tar)"
}

mkdir -p "$CLUSTER_CACHE"
echo "build: cache $CLUSTER_CACHE (Go caches: $(go env GOMODCACHE), $(go env GOCACHE))"
build_part pause "$PAUSE_BIN"
build_part etcd "$ETCD_BIN"
build_part coredns "$COREDNS_BIN"
build_part metrics_server "$METRICS_SERVER_BIN"
build_part kubernetes "$K8S_BIN"

# Image entrypoints and users as the upstream images have them (pause as root, CoreDNS and metrics-server not).
pack_image "$PAUSE_IMAGE" "$PAUSE_TAR" "$PAUSE_BIN/pause" 0
pack_image "$COREDNS_IMAGE" "$COREDNS_TAR" "$COREDNS_BIN/coredns" 65532
pack_image "$METRICS_SERVER_IMAGE" "$METRICS_SERVER_TAR" "$METRICS_SERVER_BIN/metrics-server" 65534
echo "build: done in $(($(date +%s) - total_start)) s; binaries: $K8S_BIN, $ETCD_BIN, $COREDNS_BIN, $METRICS_SERVER_BIN"
