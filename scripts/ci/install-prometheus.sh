#!/usr/bin/env bash
# Prometheus server and promtool from Debian's `prometheus` package. Idempotent.
# The tests start their own Prometheus on 127.0.0.1; the package's service is not used (and without systemd it
# does not start). Debian builds Prometheus without the kubernetes_sd discovery, see test/monitoring.
set -euo pipefail
if command -v prometheus >/dev/null && command -v promtool >/dev/null; then
  prometheus --version 2>&1 | head -1
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends prometheus
prometheus --version 2>&1 | head -1
