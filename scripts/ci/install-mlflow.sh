#!/usr/bin/env bash
# Install the MLflow tracking server used by the tracking tests and by `npm run train` with MLFLOW_TRACKING_URI.
# Idempotent: does nothing when a working `mlflow` executable is already on PATH.
# The version is pinned so CI and developers talk to the same REST API.
set -euo pipefail

MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"

if mlflow --version >/dev/null 2>&1; then
  echo "mlflow already installed: $(mlflow --version 2>/dev/null)"
  exit 0
fi

PYTHON="${PYTHON:-python3}"
start=$(date +%s)
"$PYTHON" -m pip install --disable-pip-version-check --no-input "mlflow==${MLFLOW_VERSION}"
# pyenv shims need a rehash before a freshly installed console script is visible on PATH.
if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
end=$(date +%s)

mlflow --version
echo "mlflow ${MLFLOW_VERSION} installed in $((end - start)) s"
