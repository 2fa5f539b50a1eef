#!/usr/bin/env bash
# Install the MLflow tracking server used by the tracking tests and by `npm run train` with MLFLOW_TRACKING_URI.
#
# Idempotent: does nothing when a working `mlflow` is already on PATH. Otherwise installs the pinned version into
# its own virtualenv (MLflow pulls pandas, scikit-learn, sqlalchemy, ...: kept apart from any other Python tooling)
# and links the executable into MLFLOW_BIN_DIR (default /usr/local/bin, on PATH for root and CI).
#
# Env: MLFLOW_VERSION (default below), MLFLOW_VENV (default /opt/heart-disease/mlflow-venv),
#      MLFLOW_BIN_DIR (default /usr/local/bin), PYTHON (default python3, needs >= 3.10).
set -euo pipefail

MLFLOW_VERSION="${MLFLOW_VERSION:-3.17.2}"
VENV="${MLFLOW_VENV:-/opt/heart-disease/mlflow-venv}"
BIN_DIR="${MLFLOW_BIN_DIR:-/usr/local/bin}"
PYTHON="${PYTHON:-python3}"

if mlflow --version >/dev/null 2>&1; then
  echo "mlflow already installed: $(mlflow --version 2>/dev/null) ($(command -v mlflow))"
  exit 0
fi

start=$(date +%s)
if ! "${VENV}/bin/mlflow" --version >/dev/null 2>&1; then
  "$PYTHON" -m venv "$VENV"
  "${VENV}/bin/python" -m pip install --disable-pip-version-check --no-input --quiet "mlflow==${MLFLOW_VERSION}"
fi
mkdir -p "$BIN_DIR"
ln -sf "${VENV}/bin/mlflow" "${BIN_DIR}/mlflow"
end=$(date +%s)

"${BIN_DIR}/mlflow" --version
echo "mlflow ${MLFLOW_VERSION} installed in ${VENV} (linked as ${BIN_DIR}/mlflow) in $((end - start)) s"
if [[ "$(command -v mlflow || true)" != "${BIN_DIR}/mlflow" ]]; then
  echo "note: ${BIN_DIR} is not first on PATH for mlflow; add it to PATH" >&2
fi
