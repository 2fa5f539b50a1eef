#!/usr/bin/env bash
# Install a real Docker engine (Debian's docker.io), debootstrap (to build the offline base image) and the
# docker-compose v1 CLI (only used to validate deploy/docker-compose.yml; the compose v2 plugin is not packaged
# in Debian bookworm). Idempotent: installs only what is missing. Needs root and the Debian apt mirror.
set -euo pipefail

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "docker engine, debootstrap and docker-compose already installed"
  exit 0
fi

start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# With recommends, as tested here: debootstrap recommends the archive keyring and gnupg it verifies Release with.
apt-get install -y -q "${missing[@]}"
echo "installed ${missing[*]} in $(( $(date +%s) - start )) s"
dockerd --version
