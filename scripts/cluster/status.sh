#!/usr/bin/env bash
# Prints the memory this cluster takes: resident set size (RSS) of each daemon (PID files), of the containerd shims
# and of every process in the pods' cgroup, and their sum. Exits 1 when no daemon of this cluster is running.
set -euo pipefail
# shellcheck source=scripts/cluster/config.sh
source "$(dirname "$0")/config.sh"
shopt -s globstar nullglob

rss_kib() { awk '/^VmRSS:/ { print $2; found = 1 } END { if (!found) print 0 }' "/proc/$1/status" 2>/dev/null || echo 0; }
total=0
line() { printf 'status: %-26s %6d MiB\n' "$1" "$(($2 / 1024))"; }

running=0
for pidfile in "$CLUSTER_DIR"/pids/*.pid; do
  pid=$(cat "$pidfile")
  kib=$(rss_kib "$pid")
  [ "$kib" -gt 0 ] && running=$((running + 1))
  line "$(basename "$pidfile" .pid)" "$kib"
  total=$((total + kib))
done
if [ "$running" -eq 0 ]; then
  echo "status: no daemon of the cluster in $CLUSTER_DIR is running" >&2
  exit 1
fi

shims=0
for dir in /proc/[0-9]*; do
  { tr '\0' ' ' <"$dir/cmdline"; } 2>/dev/null | grep -qF -- "-address $CONTAINERD_SOCKET " || continue
  shims=$((shims + $(rss_kib "${dir#/proc/}")))
done
line "containerd shims" "$shims"

pods=0
count=0
for pid in $(cat /sys/fs/cgroup/pids/"$CLUSTER_CGROUP"/**/cgroup.procs </dev/null 2>/dev/null | sort -u); do
  pods=$((pods + $(rss_kib "$pid")))
  count=$((count + 1))
done
line "pods ($count processes)" "$pods"
total=$((total + shims + pods))
line "cluster total (RSS)" "$total"
