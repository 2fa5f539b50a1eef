#!/usr/bin/env bash
# Stops the cluster that up.sh started and wipes its state, also after a crashed or half-finished up.sh:
# daemons by their PID files, pods by this cluster's own cgroup, containerd shims by this cluster's socket in their
# command line; then unmounts everything under $CLUSTER_DIR, removes the pod bridge, the iptables rules of
# kube-proxy, of the bridge CNI plugin (by this cluster's network name) and of up.sh, and the state directory.
# Every process is checked to name this cluster's directory before it is signalled, so another cluster's or
# Docker's processes are never touched. Set HD_CLUSTER_LOGS=<dir> to keep the daemons' logs there.
# Idempotent: with nothing running and no state it only says so.
set -euo pipefail
# shellcheck source=scripts/cluster/config.sh
source "$(dirname "$0")/config.sh"

log() { printf 'down: %s\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "down: needs root" >&2; exit 1; }

# True when PID is alive (not a zombie: that has no command line) and its command line names this cluster's directory (not a reused PID, not another's).
ours() { [ -n "$1" ] && { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null | grep -qF -- "$CLUSTER_DIR/"; }

# stop <pid...>: SIGTERM, up to 10 s of grace, then SIGKILL.
stop() {
  local pid pids=() i
  for pid in "$@"; do
    ours "$pid" || continue
    pids+=("$pid")
    kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(seq 1 50); do
    local alive=()
    for pid in "${pids[@]}"; do ours "$pid" && alive+=("$pid"); done
    [ "${#alive[@]}" -eq 0 ] && return 0
    [ "$i" -eq 50 ] && kill -KILL "${alive[@]}" 2>/dev/null
    sleep 0.2
  done
}
pid_of() { [ -f "$CLUSTER_DIR/pids/$1.pid" ] && cat "$CLUSTER_DIR/pids/$1.pid" || true; }
# Processes in this cluster's pod cgroups (pause and every container).
pod_pids() {
  local cg=/sys/fs/cgroup/pids/$CLUSTER_CGROUP
  [ -d "$cg" ] && cat "$cg"/**/cgroup.procs </dev/null 2>/dev/null || true
}
# containerd-shim-runc-v2 processes of this cluster's containerd (they are re-parented to PID 1).
shim_pids() {
  local dir
  for dir in /proc/[0-9]*; do
    { tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null | grep -qF -- "-address $CONTAINERD_SOCKET " && echo "${dir#/proc/}"
  done
  return 0
}
shopt -s globstar nullglob

if [ ! -e "$CLUSTER_DIR" ] && [ ! -d "/sys/fs/cgroup/pids/$CLUSTER_CGROUP" ]; then
  log "no cluster state in $CLUSTER_DIR; nothing to do"
  exit 0
fi

daemons=()
for f in "$CLUSTER_DIR"/pids/*.pid; do daemons+=("$(cat "$f")"); done

# Kubelet first, so it restarts nothing; then the pods; then the control plane and containerd.
stop "$(pid_of kubelet)"
for _ in 1 2 3; do
  mapfile -t pods < <(pod_pids)
  [ "${#pods[@]}" -eq 0 ] && break
  kill -KILL "${pods[@]}" 2>/dev/null || true
  sleep 0.3
done
stop "$(pid_of kube-proxy)" "$(pid_of kube-scheduler)" "$(pid_of kube-controller-manager)"
stop "$(pid_of kube-apiserver)"
stop "$(pid_of etcd)" "$(pid_of containerd)"
mapfile -t shims < <(shim_pids)
[ "${#shims[@]}" -eq 0 ] || kill -KILL "${shims[@]}" 2>/dev/null || true

# Pod cgroups, deepest first (a cgroup with no processes left can be removed).
for hierarchy in /sys/fs/cgroup/*/; do
  [ -d "$hierarchy$CLUSTER_CGROUP" ] || continue
  find "$hierarchy$CLUSTER_CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
done

# Mounts under the state dir (pod network namespaces, volumes, container root filesystems), deepest first.
if [ -e "$CLUSTER_DIR" ]; then
  awk -v dir="$CLUSTER_DIR/" 'index($5, dir) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
    while read -r mount; do umount "$mount" 2>/dev/null || umount -l "$mount"; done
fi

# Network: the pod bridge (the pods' veths went with their namespaces), kube-proxy's and the kubelet's rules, the
# bridge plugin's masquerade rules for this network, up.sh's FORWARD chain.
ip link show "$CNI_BRIDGE" >/dev/null 2>&1 && ip link delete "$CNI_BRIDGE"
if iptables -w -t nat -S KUBE-SERVICES >/dev/null 2>&1 && [ -x "$K8S_BIN/kube-proxy" ]; then
  "$K8S_BIN/kube-proxy" --cleanup --v=0 >/dev/null 2>&1 || log "kube-proxy --cleanup reported an error"
fi
iptables -w -t nat -S POSTROUTING | { grep -F -- "name: \\\"$CNI_NETWORK\\\"" || true; } | while read -r rule; do
  chain=$(sed -n 's/.* -j \(CNI-[0-9a-f]*\).*/\1/p' <<<"$rule")
  eval "iptables -w -t nat ${rule/#-A /-D }"
  [ -z "$chain" ] || { iptables -w -t nat -F "$chain" && iptables -w -t nat -X "$chain"; }
done
# The kubelet's own chains (KUBE-FIREWALL guards route_localnet; the canaries detect flushed tables), IPv4 and IPv6.
for ipt in iptables ip6tables; do
  command -v "$ipt" >/dev/null || continue
  for hook in INPUT OUTPUT; do
    while "$ipt" -w -D "$hook" -j KUBE-FIREWALL 2>/dev/null; do :; done
  done
  for chain in filter/KUBE-FIREWALL filter/KUBE-KUBELET-CANARY nat/KUBE-KUBELET-CANARY mangle/KUBE-KUBELET-CANARY \
    mangle/KUBE-IPTABLES-HINT; do
    "$ipt" -w -t "${chain%/*}" -F "${chain#*/}" 2>/dev/null && "$ipt" -w -t "${chain%/*}" -X "${chain#*/}" || true
  done
done
if iptables -w -S HD-CLUSTER-FORWARD >/dev/null 2>&1; then
  while iptables -w -D FORWARD -j HD-CLUSTER-FORWARD 2>/dev/null; do :; done
  iptables -w -F HD-CLUSTER-FORWARD && iptables -w -X HD-CLUSTER-FORWARD
fi

# The kubelet links every container log into /var/log/containers; drop the links into this cluster's logs.
for link in /var/log/containers/*.log; do
  case "$(readlink "$link")" in "$CLUSTER_DIR"/*) rm -f "$link" ;; esac
done

if [ -n "${HD_CLUSTER_LOGS:-}" ] && [ -d "$CLUSTER_DIR/log" ]; then
  mkdir -p "$HD_CLUSTER_LOGS" && cp -r "$CLUSTER_DIR/log/." "$HD_CLUSTER_LOGS/"
  log "logs kept in $HD_CLUSTER_LOGS"
fi
rm -rf "$CLUSTER_DIR"

left=$( (pod_pids; shim_pids; for pid in "${daemons[@]}"; do ! ours "$pid" || echo "$pid"; done) | sort -u | tr '\n' ' ')
[ -z "${left// /}" ] || { log "processes still running: $left" >&2; exit 1; }
log "stopped and wiped $CLUSTER_DIR"
