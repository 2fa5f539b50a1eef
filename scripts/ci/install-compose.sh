#!/usr/bin/env bash
# Docker Compose v2 (the `docker compose` CLI plugin) from source through the Go module proxy: Debian ships only the
# v1 `docker-compose`, and no release download is reachable here. Installed where the docker CLI looks for plugins.
#
# Idempotent: does nothing when the installed plugin already reports this version.
# Env: COMPOSE_VERSION (default below), COMPOSE_PLUGIN_DIR (default /usr/local/lib/docker/cli-plugins).
set -euo pipefail
COMPOSE_VERSION="${COMPOSE_VERSION:-v2.40.3}"
PLUGIN_DIR="${COMPOSE_PLUGIN_DIR:-/usr/local/lib/docker/cli-plugins}"

export PATH="/usr/local/go/bin:$PATH"
if "$PLUGIN_DIR/docker-compose" version --short 2>/dev/null | grep -qx "${COMPOSE_VERSION#v}"; then
  echo "docker compose ${COMPOSE_VERSION} already installed"
  exit 0
fi
command -v go >/dev/null || { echo "install-compose: Go toolchain not found" >&2; exit 1; }
start=$(date +%s)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pkg=github.com/docker/compose/v2
# `go install pkg@version` refuses Compose's go.mod (it has exclude directives), so build from a module of our own
# that requires Compose at that version and repeats its excludes.
cd "$work"
go mod init compose-build >/dev/null 2>&1
go mod edit \
  -exclude=github.com/davecgh/go-spew@v1.1.2-0.20180830191138-d8f796af33cc \
  -exclude=github.com/pmezard/go-difflib@v1.0.1-0.20181226105442-5d4384ee4fb2
go get "$pkg/cmd@${COMPOSE_VERSION}"
# Same version stamp as Compose's own Makefile, so `docker compose version` reports it.
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X $pkg/internal.Version=${COMPOSE_VERSION}" -o "$work/docker-compose" "$pkg/cmd"
mkdir -p "$PLUGIN_DIR"
install -m 0755 "$work/docker-compose" "$PLUGIN_DIR/docker-compose"
"$PLUGIN_DIR/docker-compose" version
echo "docker compose ${COMPOSE_VERSION} built and installed in $(( $(date +%s) - start )) s"
