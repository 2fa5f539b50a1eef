#!/usr/bin/env bash
# Starts the project's single-node Kubernetes cluster from the binaries and image tars of build.sh:
# certificates and configs, then a private containerd, etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet and kube-proxy (each in the background with a PID file under $CLUSTER_DIR/pids), the
# pause/CoreDNS/metrics-server images imported into containerd's k8s.io namespace, the CoreDNS and metrics-server
# manifests applied. Waits for the node, CoreDNS and the metrics API, and prints how long each took and the
# memory the cluster takes. Prints the admin kubeconfig's path.
# Idempotent: returns at once when this cluster already answers with a Ready node; wipes any other state it finds
# (a crashed earlier run) with down.sh first. Needs root, scripts/ci/install-cluster-deps.sh and build.sh.
set -euo pipefail
# shellcheck source=scripts/cluster/config.sh
source "$(dirname "$0")/config.sh"

WAIT_S="${HD_CLUSTER_WAIT_S:-180}"
t0=$(date +%s%N)
since() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }
log() { printf 'up: %s\n' "$*"; }
die() {
  printf 'up: %s\n' "$*" >&2
  exit 1
}
kubectl() { "$KUBECTL" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

[ "$(id -u)" = 0 ] || die "needs root (containerd, kubelet, iptables)"
for bin in "$K8S_BIN/kubelet" "$ETCD_BIN/etcd" "$PAUSE_TAR" "$COREDNS_TAR" "$METRICS_SERVER_TAR"; do
  [ -e "$bin" ] || die "$bin is missing: run scripts/cluster/build.sh first"
done
for cmd in containerd runc ctr iptables openssl curl; do
  command -v "$cmd" >/dev/null || die "$cmd is missing: run scripts/ci/install-cluster-deps.sh first"
done
[ -x /usr/lib/cni/bridge ] || die "CNI plugins are missing: run scripts/ci/install-cluster-deps.sh first"

node_ready() {
  [ -f "$KUBECONFIG_ADMIN" ] &&
    [ "$(kubectl get node "$NODE_NAME" --request-timeout=5s \
      -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
if [ -d "$CLUSTER_DIR/pids" ] && node_ready; then
  log "already up: node $NODE_NAME Ready; KUBECONFIG=$KUBECONFIG_ADMIN"
  exit 0
fi
if [ -e "$CLUSTER_DIR" ]; then
  log "state of an earlier run found in $CLUSTER_DIR: wiping it with down.sh"
  bash "$CLUSTER_SCRIPTS/down.sh"
  t0=$(date +%s%N) # the times below count from a clean machine
fi

# Another cluster (or anything else) on the ports this one needs would make it fail in confusing ways.
for port in "$API_PORT" "$ETCD_CLIENT_PORT" "$ETCD_PEER_PORT" 10248 10249 10250 10256 10257 10259; do
  if ss -Hltn "sport = :$port" | grep -q .; then
    die "port $port is already in use (another cluster running?): $(ss -Hltnp "sport = :$port" | head -n1)"
  fi
done

NODE_IP="${HD_NODE_IP:-$(ip -4 -o addr show dev "$(ip -4 route show default | awk '{print $5; exit}')" |
  awk '{split($4, a, "/"); print a[1]; exit}')}"
[ -n "$NODE_IP" ] || die "no node IP: no IPv4 default route; set HD_NODE_IP"

PKI="$CLUSTER_DIR/pki"
CONF="$CLUSTER_DIR/config"
mkdir -p "$PKI" "$CONF" "$CLUSTER_DIR/log" "$CLUSTER_DIR/pids" "$CLUSTER_DIR/cni/net.d"
chmod 700 "$CLUSTER_DIR"

# --- certificates (ECDSA P-256: quick to make, accepted by every component) --------------------------------
new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$PKI/$1.key" 2>/dev/null; }
new_ca() {
  new_key "$1"
  openssl req -x509 -new -key "$PKI/$1.key" -subj "/CN=$2" -days 3650 -out "$PKI/$1.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature
}
# new_cert <name> <signing CA> <subject> <serverAuth|clientAuth> [subjectAltName]
new_cert() {
  new_key "$1"
  openssl req -new -key "$PKI/$1.key" -subj "$3" -out "$PKI/$1.csr"
  openssl x509 -req -in "$PKI/$1.csr" -CA "$PKI/$2.crt" -CAkey "$PKI/$2.key" -set_serial "0x$(openssl rand -hex 16)" \
    -days 365 -out "$PKI/$1.crt" 2>/dev/null -extfile <(
      echo "basicConstraints=critical,CA:FALSE"
      echo "keyUsage=critical,digitalSignature,keyEncipherment"
      echo "extendedKeyUsage=$4"
      [ -z "${5:-}" ] || echo "subjectAltName=$5"
    )
  rm -f "$PKI/$1.csr"
}
new_ca ca heart-disease-cluster-ca
new_ca front-proxy-ca heart-disease-cluster-front-proxy-ca
api_sans="DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
api_sans+=",DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$API_SERVICE_IP"
new_cert apiserver ca /CN=kube-apiserver serverAuth "$api_sans"
new_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
new_cert admin ca "/O=system:masters/CN=kubernetes-admin" clientAuth
new_cert controller-manager ca /CN=system:kube-controller-manager clientAuth
new_cert scheduler ca /CN=system:kube-scheduler clientAuth
new_cert kube-proxy ca /CN=system:kube-proxy clientAuth
new_cert kubelet ca "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
new_cert kubelet-serving ca "/CN=$NODE_NAME" serverAuth "DNS:$NODE_NAME,IP:$NODE_IP,IP:127.0.0.1"
new_cert front-proxy-client front-proxy-ca /CN=front-proxy-client clientAuth
# Service-account tokens: signed with this key (ES256), checked against its public half.
new_key service-account
openssl pkey -in "$PKI/service-account.key" -pubout -out "$PKI/service-account.pub"
chmod 600 "$PKI"/*.key

# kubeconfig <file> <cert/key name>: talks to the API server on loopback, trusting the cluster CA.
kubeconfig() {
  b64() { base64 -w0 <"$PKI/$1"; }
  cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: heart-disease
    cluster:
      server: https://127.0.0.1:$API_PORT
      certificate-authority-data: $(b64 ca.crt)
users:
  - name: $2
    user:
      client-certificate-data: $(b64 "$2.crt")
      client-key-data: $(b64 "$2.key")
contexts:
  - name: heart-disease
    context:
      cluster: heart-disease
      user: $2
current-context: heart-disease
EOF
  chmod 600 "$1"
}
for who in admin controller-manager scheduler kube-proxy kubelet; do kubeconfig "$CONF/$who.kubeconfig" "$who"; done
mv "$CONF/admin.kubeconfig" "$KUBECONFIG_ADMIN"
log "certificates and kubeconfigs in $(since "$t0") s (node IP $NODE_IP)"

# --- configs --------------------------------------------------------------------------------------------------
CTRD="$CLUSTER_DIR/containerd"
cat >"$CONF/containerd.toml" <<EOF
# A private containerd: own root, state and socket, never dockerd's.
version = 2
root = "$CTRD/root"
state = "$CTRD/state"
[grpc]
  address = "$CONTAINERD_SOCKET"
[plugins."io.containerd.internal.v1.opt"]
  path = "$CTRD/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Root here lacks CAP_SYS_RESOURCE: a negative oom_score_adj for sandboxes would make every pod fail to start.
  restrict_oom_score_adj = true
  # Pod network namespaces under our state dir, so down.sh finds and unmounts them.
  netns_mounts_under_state_dir = true
  # Unprivileged processes may bind ports below 1024 inside pods (CoreDNS on 53), as containerd 2 does by default.
  enable_unprivileged_ports = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CLUSTER_DIR/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$CTRD/runc"
EOF

cat >"$CLUSTER_DIR/cni/net.d/10-$CNI_NETWORK.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "$CNI_NETWORK",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$NODE_POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$CLUSTER_DIR/cni/ipam"
      }
    }
  ]
}
EOF

cat >"$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://$CONTAINERD_SOCKET
# cgroup v1 with cgroupfs (no systemd); pods under their own cgroup so down.sh finds exactly them.
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: /$CLUSTER_CGROUP
failSwapOn: false
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
tlsCertFile: $PKI/kubelet-serving.crt
tlsPrivateKeyFile: $PKI/kubelet-serving.key
clusterDNS: [$CLUSTER_DNS_IP]
clusterDomain: $CLUSTER_DOMAIN
podCIDR: $NODE_POD_CIDR
podLogsDir: $CLUSTER_DIR/pod-logs
volumePluginDir: $CLUSTER_DIR/kubelet-plugins
healthzBindAddress: 127.0.0.1
# No registry can give back a removed image: never garbage-collect images; evict only when the disk is nearly full.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: { memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2% }
EOF

cat >"$CONF/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $CONF/kube-proxy.kubeconfig }
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# Leave the machine's conntrack table size alone.
conntrack: { maxPerCore: 0 }
EOF

# --- host settings ----------------------------------------------------------------------------------------------
sysctl -qw net.ipv4.ip_forward=1
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || modprobe br_netfilter 2>/dev/null || true
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] ||
  die "bridge netfilter is missing (modprobe br_netfilter): Services would not work between pods"
sysctl -qw net.bridge.bridge-nf-call-iptables=1
# dockerd sets the FORWARD policy to DROP: let pod traffic through, in a chain of our own that down.sh removes.
iptables -w -N HD-CLUSTER-FORWARD
iptables -w -A HD-CLUSTER-FORWARD -s "$POD_CIDR" -j ACCEPT
iptables -w -A HD-CLUSTER-FORWARD -d "$POD_CIDR" -j ACCEPT
iptables -w -I FORWARD 1 -j HD-CLUSTER-FORWARD
# The kubelet wants its cgroup root to exist in every hierarchy (cpuset needs its CPUs and memory nodes copied).
for hierarchy in /sys/fs/cgroup/*/; do
  [ "$hierarchy" = /sys/fs/cgroup/unified/ ] && continue
  mkdir -p "$hierarchy$CLUSTER_CGROUP"
  if [ -e "$hierarchy/cpuset.cpus" ]; then
    cat "$hierarchy/cpuset.cpus" >"$hierarchy$CLUSTER_CGROUP/cpuset.cpus"
    cat "$hierarchy/cpuset.mems" >"$hierarchy$CLUSTER_CGROUP/cpuset.mems"
  fi
done

# --- daemons ----------------------------------------------------------------------------------------------------
# start <name> <command...>: in its own session (so the caller's terminal or CI step can end), PID file, log file.
start() {
  local name=$1
  shift
  setsid "$@" >>"$CLUSTER_DIR/log/$name.log" 2>&1 </dev/null &
  echo $! >"$CLUSTER_DIR/pids/$name.pid"
}
# wait_for <what> <command...>: polls every 0.2 s up to WAIT_S; fails at once when a daemon has exited.
wait_for() {
  local what=$1 deadline=$(($(date +%s) + WAIT_S))
  shift
  until "$@" >/dev/null 2>&1; do
    local pidfile
    for pidfile in "$CLUSTER_DIR"/pids/*.pid; do
      kill -0 "$(cat "$pidfile")" 2>/dev/null && continue
      log "$(basename "$pidfile" .pid) exited while waiting for $what; its log ends:"
      tail -n 30 "$CLUSTER_DIR/log/$(basename "$pidfile" .pid).log" >&2 || true
      exit 1
    done
    if [ "$(date +%s)" -ge "$deadline" ]; then
      log "timed out after ${WAIT_S} s waiting for $what; logs in $CLUSTER_DIR/log"
      tail -n 20 "$CLUSTER_DIR"/log/*.log >&2 || true
      exit 1
    fi
    sleep 0.2
  done
}
api_get() { curl -sf --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "https://127.0.0.1:$API_PORT$1"; }

start containerd containerd --config "$CONF/containerd.toml"
start etcd "$ETCD_BIN/etcd" --name "$NODE_NAME" --data-dir "$CLUSTER_DIR/etcd" \
  --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
  --initial-cluster "$NODE_NAME=http://127.0.0.1:$ETCD_PEER_PORT" --log-level warn

wait_for containerd ctr -a "$CONTAINERD_SOCKET" version
# Import while the control plane starts; the kubelet starts only when the pause image is there.
(for tar in "$PAUSE_TAR" "$COREDNS_TAR" "$METRICS_SERVER_TAR"; do
  ctr -a "$CONTAINERD_SOCKET" -n k8s.io images import "$tar" >/dev/null
done) >>"$CLUSTER_DIR/log/image-import.log" 2>&1 &
import_pid=$!

wait_for etcd curl -sf "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --advertise-address="$NODE_IP" --secure-port="$API_PORT" \
  --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
  --service-cluster-ip-range="$SERVICE_CIDR" --service-node-port-range=30000-32767 \
  --tls-cert-file="$PKI/apiserver.crt" --tls-private-key-file="$PKI/apiserver.key" \
  --client-ca-file="$PKI/ca.crt" \
  --kubelet-client-certificate="$PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$PKI/apiserver-kubelet-client.key" \
  --kubelet-certificate-authority="$PKI/ca.crt" --kubelet-preferred-address-types=InternalIP \
  --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
  --service-account-key-file="$PKI/service-account.pub" \
  --service-account-signing-key-file="$PKI/service-account.key" \
  --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction --allow-privileged=true \
  --requestheader-client-ca-file="$PKI/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
  --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
  --requestheader-extra-headers-prefix=X-Remote-Extra- \
  --proxy-client-cert-file="$PKI/front-proxy-client.crt" --proxy-client-key-file="$PKI/front-proxy-client.key" \
  --enable-aggregator-routing=true --profiling=false
wait_for kube-apiserver api_get /readyz
log "kube-apiserver ready at $(since "$t0") s"

start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$CONF/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$CONF/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$CONF/controller-manager.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
  --cluster-signing-cert-file="$PKI/ca.crt" --cluster-signing-key-file="$PKI/ca.key" \
  --root-ca-file="$PKI/ca.crt" --service-account-private-key-file="$PKI/service-account.key" \
  --allocate-node-cidrs=true --cluster-cidr="$POD_CIDR" --node-cidr-mask-size=24 \
  --service-cluster-ip-range="$SERVICE_CIDR" --profiling=false
start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --kubeconfig="$CONF/scheduler.kubeconfig" \
  --authentication-kubeconfig="$CONF/scheduler.kubeconfig" --authorization-kubeconfig="$CONF/scheduler.kubeconfig" \
  --bind-address=127.0.0.1 --leader-elect=false --profiling=false
start kube-proxy "$K8S_BIN/kube-proxy" --config="$CONF/kube-proxy.yaml"

# Add-on manifests (templates with ${VAR} placeholders filled from config.sh), applied while the node comes up.
render() {
  sed -e "s|\${COREDNS_IMAGE}|$COREDNS_IMAGE|g" -e "s|\${METRICS_SERVER_IMAGE}|$METRICS_SERVER_IMAGE|g" \
    -e "s|\${CLUSTER_DNS_IP}|$CLUSTER_DNS_IP|g" -e "s|\${CLUSTER_DOMAIN}|$CLUSTER_DOMAIN|g" "$@"
}
for manifest in "$CLUSTER_SCRIPTS"/manifests/*.yaml; do
  echo "---"
  render "$manifest"
done >"$CONF/addons.yaml"
kubectl apply -f "$CONF/addons.yaml" >"$CLUSTER_DIR/log/addons-apply.log"

wait "$import_pid" || die "image import failed: $(tail -n 5 "$CLUSTER_DIR/log/image-import.log")"
start kubelet "$K8S_BIN/kubelet" --config="$CONF/kubelet.yaml" --kubeconfig="$CONF/kubelet.kubeconfig" \
  --root-dir="$CLUSTER_DIR/kubelet" --hostname-override="$NODE_NAME" --node-ip="$NODE_IP"

wait_for "node $NODE_NAME Ready" node_ready
node_s=$(since "$t0")
log "node $NODE_NAME Ready at $node_s s ($(kubectl get node "$NODE_NAME" -o jsonpath='{.status.nodeInfo.kubeletVersion}'))"

coredns_ready() {
  [ "$(kubectl -n kube-system get deploy coredns -o jsonpath='{.status.readyReplicas}')" = 1 ]
}
wait_for "CoreDNS Ready" coredns_ready
coredns_s=$(since "$t0")
log "CoreDNS Ready at $coredns_s s"

node_metrics() { api_get "/apis/metrics.k8s.io/v1beta1/nodes/$NODE_NAME" | grep -q '"usage"'; }
wait_for "node metrics from metrics-server" node_metrics
metrics_s=$(since "$t0")
log "metrics API serving node metrics at $metrics_s s"

# For tests and other scripts: where this cluster is (test/support/cluster.ts reads it).
cat >"$CLUSTER_DIR/cluster.json" <<EOF
{
  "kubeconfig": "$KUBECONFIG_ADMIN",
  "kubectl": "$KUBECTL",
  "containerdSocket": "$CONTAINERD_SOCKET",
  "nodeName": "$NODE_NAME",
  "nodeIP": "$NODE_IP",
  "kubernetesVersion": "$K8S_VERSION",
  "seconds": { "nodeReady": $node_s, "corednsReady": $coredns_s, "metricsReady": $metrics_s }
}
EOF
bash "$CLUSTER_SCRIPTS/status.sh"
log "up in $(since "$t0") s. KUBECONFIG=$KUBECONFIG_ADMIN  kubectl: $KUBECTL"
