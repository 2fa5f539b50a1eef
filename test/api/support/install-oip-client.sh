#!/usr/bin/env bash
# Install NVIDIA's Triton HTTP client (PyPI tritonclient[http]) into its own virtualenv, for test/api/oip-client.test.ts:
# an independent Open Inference Protocol (KServe V2) client talking to our API.
# Idempotent: does nothing when the venv already imports tritonclient.http.
# Env: OIP_CLIENT_VENV (default /opt/heart-disease/oip-client-venv), TRITONCLIENT_VERSION, PYTHON (default python3).
set -euo pipefail
VENV="${OIP_CLIENT_VENV:-/opt/heart-disease/oip-client-venv}"
VERSION="${TRITONCLIENT_VERSION:-2.73.0}"
PYTHON="${PYTHON:-python3}"
if "${VENV}/bin/python" -c 'import tritonclient.http' >/dev/null 2>&1; then
  echo "tritonclient already installed in ${VENV}"
  exit 0
fi
"$PYTHON" -m venv "$VENV"
"${VENV}/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "tritonclient[http]==${VERSION}"
"${VENV}/bin/python" -c 'import tritonclient.http' && echo "tritonclient ${VERSION} installed in ${VENV}"
