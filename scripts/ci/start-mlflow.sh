#!/usr/bin/env bash
# Start a local MLflow tracking server for humans and CI jobs that want one running outside the tests
# (the tracking tests start their own server on a free port and need none of this).
#
#   scripts/ci/start-mlflow.sh          start in the background, wait for /health, print the tracking URI
#   scripts/ci/start-mlflow.sh stop     stop the server this script started
#   scripts/ci/start-mlflow.sh status   print the URI if the server answers, exit 1 otherwise
#
# Env: MLFLOW_PORT (default 5055), MLFLOW_HOME (state: sqlite db, artifacts, pid, log; default a fixed dir under
# ${TMPDIR:-/tmp}), MLFLOW_START_TIMEOUT (seconds, default 120). Use the printed URI as MLFLOW_TRACKING_URI.
# Binds 127.0.0.1 only. Artifacts are proxied by the server (mlflow-artifacts:/), so clients need no storage access.
set -euo pipefail

PORT="${MLFLOW_PORT:-5055}"
HOME_DIR="${MLFLOW_HOME:-${TMPDIR:-/tmp}/heart-disease-mlflow-${PORT}}"
TIMEOUT="${MLFLOW_START_TIMEOUT:-120}"
URI="http://127.0.0.1:${PORT}"
PID_FILE="${HOME_DIR}/server.pid"
LOG_FILE="${HOME_DIR}/server.log"

healthy() { curl -fsS --max-time 2 "${URI}/health" >/dev/null 2>&1; }

stop_server() {
  if [[ -f "$PID_FILE" ]]; then
    local pid
    pid="$(cat "$PID_FILE")"
    # The server runs in its own process group (setsid): stop the group so uvicorn/gunicorn workers go too.
    kill -TERM -- "-${pid}" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-${pid}" 2>/dev/null || true
    rm -f "$PID_FILE"
    echo "mlflow server on ${URI} stopped"
  else
    echo "no mlflow server started by this script for port ${PORT} (no ${PID_FILE})"
  fi
}

case "${1:-start}" in
  stop) stop_server; exit 0 ;;
  status) if healthy; then echo "$URI"; exit 0; else echo "mlflow server on ${URI} is not answering" >&2; exit 1; fi ;;
  start) ;;
  *) echo "usage: $0 [start|stop|status]" >&2; exit 2 ;;
esac

if ! command -v mlflow >/dev/null 2>&1; then
  echo "mlflow is not installed: run scripts/ci/install-mlflow.sh first" >&2
  exit 1
fi

if healthy; then
  echo "mlflow server already answering on ${URI}" >&2
  echo "$URI"
  exit 0
fi

mkdir -p "${HOME_DIR}/artifacts"
start=$(date +%s)
setsid mlflow server \
  --host 127.0.0.1 --port "$PORT" --workers 1 \
  --backend-store-uri "sqlite:///${HOME_DIR}/mlflow.db" \
  --artifacts-destination "${HOME_DIR}/artifacts" \
  --serve-artifacts \
  >"$LOG_FILE" 2>&1 < /dev/null &
echo $! >"$PID_FILE"

deadline=$((start + TIMEOUT))
until healthy; do
  if ! kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
    echo "mlflow server exited during start; last log lines:" >&2
    tail -n 20 "$LOG_FILE" >&2
    rm -f "$PID_FILE"
    exit 1
  fi
  if (($(date +%s) > deadline)); then
    echo "mlflow server did not answer ${URI}/health within ${TIMEOUT} s; log: ${LOG_FILE}" >&2
    stop_server >&2
    exit 1
  fi
  sleep 0.5
done
echo "mlflow server ready on ${URI} in $(($(date +%s) - start)) s (state: ${HOME_DIR}; stop: $0 stop)" >&2
echo "$URI"
