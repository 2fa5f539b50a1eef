#!/usr/bin/env bash
# PostgreSQL server binaries (initdb, pg_ctl, postgres) from Debian's `postgresql` package. Idempotent.
# The tests start their own throwaway server on 127.0.0.1 (test/support/postgres.ts); the package's cluster and
# service are not used (without systemd it does not start).
set -euo pipefail
if compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
  ls -d /usr/lib/postgresql/*/bin/initdb | head -1
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends postgresql
ls -d /usr/lib/postgresql/*/bin/initdb | head -1
