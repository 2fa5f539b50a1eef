#!/usr/bin/env bash
# Install the independent API checkers used by test/api/contract-checkers.test.ts into their own virtualenv:
#   Schemathesis (property-based testing of the served OpenAPI document, all checks) and
#   openapi-spec-validator (is the published OpenAPI document valid?).
# Idempotent: does nothing when the venv already has both at the pinned versions.
# Env: API_CHECK_VENV (default /opt/heart-disease/api-check-venv), SCHEMATHESIS_VERSION, OPENAPI_SPEC_VALIDATOR_VERSION,
#      PYTHON (default python3, needs >= 3.9).
set -euo pipefail
VENV="${API_CHECK_VENV:-/opt/heart-disease/api-check-venv}"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"
VALIDATOR_VERSION="${OPENAPI_SPEC_VALIDATOR_VERSION:-0.9.0}"
PYTHON="${PYTHON:-python3}"

installed() {
  "${VENV}/bin/python" - "$SCHEMATHESIS_VERSION" "$VALIDATOR_VERSION" <<'PY' >/dev/null 2>&1
import sys
from importlib.metadata import version
assert version("schemathesis") == sys.argv[1], version("schemathesis")
assert version("openapi-spec-validator") == sys.argv[2], version("openapi-spec-validator")
PY
}

if installed; then
  echo "schemathesis ${SCHEMATHESIS_VERSION} and openapi-spec-validator ${VALIDATOR_VERSION} already installed in ${VENV}"
  exit 0
fi
start=$(date +%s)
"$PYTHON" -m venv "$VENV"
"${VENV}/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
  "schemathesis==${SCHEMATHESIS_VERSION}" "openapi-spec-validator==${VALIDATOR_VERSION}"
installed
echo "schemathesis ${SCHEMATHESIS_VERSION} and openapi-spec-validator ${VALIDATOR_VERSION} installed in ${VENV} in $(($(date +%s) - start)) s"
