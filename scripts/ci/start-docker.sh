#!/usr/bin/env bash
# Start the Docker engine in the background (no systemd here) and wait until `docker info` answers.
# Idempotent: returns at once when an engine already answers. Fails loudly (exit 1, log tail) when it cannot start,
# so CI never silently skips the image tests.
#
# Engine flags: the defaults work on this machine (cgroup v1 hierarchy, overlay2 on ext4, iptables available).
# DOCKERD_FLAGS lets a machine that lacks those pass e.g. "--iptables=false --storage-driver=vfs".
set -euo pipefail

LOG="${DOCKERD_LOG:-/var/log/dockerd.log}"
TIMEOUT_S="${DOCKERD_TIMEOUT_S:-60}"

if docker info >/dev/null 2>&1; then
  echo "docker engine already running: $(docker version --format '{{.Server.Version}}')"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  echo "dockerd is not installed; run scripts/ci/install-docker.sh first" >&2
  exit 1
fi

# A pid file left by a killed engine makes dockerd refuse to start.
if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  rm -f /var/run/docker.pid
fi

start=$(date +%s)
# shellcheck disable=SC2086 # DOCKERD_FLAGS is a list of flags on purpose
nohup dockerd ${DOCKERD_FLAGS:-} >"$LOG" 2>&1 &
echo "dockerd started (pid $!), log: $LOG"

for _ in $(seq 1 "$TIMEOUT_S"); do
  if docker info >/dev/null 2>&1; then
    echo "docker engine ready in $(( $(date +%s) - start )) s: $(docker version --format '{{.Server.Version}}')"
    exit 0
  fi
  sleep 1
done

echo "docker engine did not answer within ${TIMEOUT_S} s; last log lines:" >&2
tail -n 40 "$LOG" >&2
exit 1
