# Sourced by every scripts/cluster/*.sh: the one definition of versions, paths, addresses and image references
# of the project's single-node Kubernetes cluster. Environment variables override the paths, not the versions.
# shellcheck shell=bash disable=SC2034 # every variable here is used by the scripts that source this file

# Kubernetes 1.37 (same minor as the client-go Helm v3.22 is built against, so much of Go's build cache is shared),
# the newest minor that still runs on cgroup v1 (failCgroupV1: false) with Debian's containerd 1.6.
K8S_VERSION=v1.37.2
ETCD_VERSION=v3.6.16
COREDNS_VERSION=v1.12.4
METRICS_SERVER_VERSION=v0.8.0

CLUSTER_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Built binaries and image tars, kept between runs on one machine; every entry is keyed by its version (and, for
# the project's own Go sources, by their hash), so a version bump builds anew beside the old entry.
CLUSTER_CACHE="${HD_CACHE_DIR:-/opt/heart-disease/cache}/kubernetes"
# A running cluster's whole state (certificates, configs, etcd data, containerd root, PID files, logs);
# down.sh removes it.
CLUSTER_DIR="${HD_CLUSTER_DIR:-/var/lib/heart-disease-cluster}"
KUBECONFIG_ADMIN="$CLUSTER_DIR/admin.kubeconfig"
CONTAINERD_SOCKET="$CLUSTER_DIR/containerd/containerd.sock"
# Pods live under this cgroup in every cgroup v1 hierarchy, so down.sh finds and stops exactly this cluster's pods.
CLUSTER_CGROUP=heart-disease-cluster

NODE_NAME=hd-node
API_PORT=6443
ETCD_CLIENT_PORT=2379
ETCD_PEER_PORT=2380
SERVICE_CIDR=10.96.0.0/16
API_SERVICE_IP=10.96.0.1
CLUSTER_DNS_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local
POD_CIDR=10.244.0.0/16
NODE_POD_CIDR=10.244.0.0/24
CNI_NETWORK=hd-pods
CNI_BRIDGE=hd-cni0

# Images made here (no registry is reachable): imported into containerd's k8s.io namespace by up.sh.
PAUSE_IMAGE=localhost/heart-disease/pause:1.0
COREDNS_IMAGE="localhost/heart-disease/coredns:$COREDNS_VERSION"
METRICS_SERVER_IMAGE="localhost/heart-disease/metrics-server:$METRICS_SERVER_VERSION"

# Hash of the project's own Go sources for one program (part of its cache key).
cluster_src_hash() { (cd "$CLUSTER_SCRIPTS/src/$1" && cat -- * | sha256sum | cut -c1-12); }

K8S_BIN="$CLUSTER_CACHE/kubernetes-$K8S_VERSION/bin"
ETCD_BIN="$CLUSTER_CACHE/etcd-$ETCD_VERSION/bin"
COREDNS_BIN="$CLUSTER_CACHE/coredns-$COREDNS_VERSION-$(cluster_src_hash coredns)/bin"
METRICS_SERVER_BIN="$CLUSTER_CACHE/metrics-server-$METRICS_SERVER_VERSION/bin"
PAUSE_BIN="$CLUSTER_CACHE/pause-$(cluster_src_hash pause)/bin"
IMAGES_DIR="$CLUSTER_CACHE/images"
# Each image tar is named after its binary's cache entry (version and source hash).
PAUSE_TAR="$IMAGES_DIR/$(basename "$(dirname "$PAUSE_BIN")").tar"
COREDNS_TAR="$IMAGES_DIR/$(basename "$(dirname "$COREDNS_BIN")").tar"
METRICS_SERVER_TAR="$IMAGES_DIR/$(basename "$(dirname "$METRICS_SERVER_BIN")").tar"
KUBECTL="$K8S_BIN/kubectl"
