#!/usr/bin/env bash
# Install a real Docker engine (Debian's docker.io) and debootstrap (to build the offline base image). Compose v2 is
# not packaged in Debian bookworm: scripts/ci/install-compose.sh builds it. Idempotent: installs only what is
# missing. Needs root and the Debian apt mirror.
set -euo pipefail

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "docker engine and debootstrap already installed"
  exit 0
fi

start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# With recommends, as tested here: debootstrap recommends the archive keyring and gnupg it verifies Release with.
apt-get install -y -q "${missing[@]}"
echo "installed ${missing[*]} in $(( $(date +%s) - start )) s"
dockerd --version
