#!/usr/bin/env bash
# Make sure a Node 24 base image exists for the Dockerfile's BASE_IMAGE build arg and print its reference on stdout
# (the only line on stdout; progress goes to stderr).
#
# Order: 1) $BASE_IMAGE already present locally, 2) `docker pull $BASE_IMAGE`, 3) a cached local base image,
# 4) build that local base: Debian bookworm minbase from the apt mirror this machine uses + this machine's `node`
# (v24) and npm, imported with `docker import`. Step 4 exists because no image registry is reachable here.
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-node:24-bookworm-slim}"
LOCAL_BASE_IMAGE="${LOCAL_BASE_IMAGE:-heart-disease-base:node24-bookworm}"
PULL_TIMEOUT_S="${PULL_TIMEOUT_S:-120}"
NODE_BIN="${NODE_BIN:-$(command -v node)}"
NPM_DIR="${NPM_DIR:-$(dirname "$(readlink -f "$(command -v npm)")")/..}"

log() { echo "[ensure-base-image] $*" >&2; }

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  log "using $BASE_IMAGE (present locally)"
  echo "$BASE_IMAGE"
  exit 0
fi

if timeout "$PULL_TIMEOUT_S" docker pull "$BASE_IMAGE" >&2 2>/dev/null; then
  log "pulled $BASE_IMAGE"
  echo "$BASE_IMAGE"
  exit 0
fi
log "cannot pull $BASE_IMAGE (no registry reachable?); falling back to local base $LOCAL_BASE_IMAGE"

# A cached base is reused only if it was built by this recipe from this node binary (label below).
RECIPE="$( (sha256sum "$0" | cut -c1-16; "$NODE_BIN" -v) | tr '\n' '-')"
cached_recipe="$(docker image inspect --format '{{index .Config.Labels "dev.heart-disease-mlops.base.recipe"}}' "$LOCAL_BASE_IMAGE" 2>/dev/null || true)"
if [ "$cached_recipe" = "$RECIPE" ]; then
  log "using cached $LOCAL_BASE_IMAGE"
  echo "$LOCAL_BASE_IMAGE"
  exit 0
fi
[ -z "$cached_recipe" ] || log "cached $LOCAL_BASE_IMAGE is from another recipe or node ($cached_recipe); rebuilding"

# The Debian mirror apt already uses here (the only one reachable); DEBIAN_MIRROR overrides.
find_mirror() {
  grep -hoE '(URIs:|deb)[[:space:]]+https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
    /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null \
    | grep -oE 'https?://[^[:space:]]+' | head -n 1 || true
}
MIRROR="${DEBIAN_MIRROR:-$(find_mirror)}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"

command -v debootstrap >/dev/null 2>&1 || { log "debootstrap missing: run scripts/ci/install-docker.sh"; exit 1; }
[ -x "$NODE_BIN" ] || { log "no node binary at $NODE_BIN"; exit 1; }
node_major="$("$NODE_BIN" -p 'process.versions.node.split(".")[0]')"
[ "$node_major" = "24" ] || { log "expected node 24, found $("$NODE_BIN" -v) at $NODE_BIN"; exit 1; }

start=$(date +%s)
ROOTFS="$(mktemp -d /var/tmp/hd-base-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT

log "debootstrap --variant=minbase bookworm from $MIRROR"
debootstrap --variant=minbase --include=ca-certificates bookworm "$ROOTFS" "$MIRROR" >&2

# Node and npm where the official node images put them.
install -D -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
# Debug symbols are unused at run time (about a tenth of the binary).
if command -v strip >/dev/null 2>&1; then strip "$ROOTFS/usr/local/bin/node"; fi
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$(readlink -f "$NPM_DIR")" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"

# Keep it small: nothing here is needed at run time (glibc's gconv charset modules: Node converts with its own ICU).
rm -rf "$ROOTFS"/usr/lib/*/gconv
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/* "$ROOTFS"/var/cache/debconf/*-old \
  "$ROOTFS"/usr/share/doc/* "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* \
  "$ROOTFS"/usr/share/locale/* "$ROOTFS"/var/log/* "$ROOTFS"/tmp/* "$ROOTFS"/usr/local/lib/node_modules/npm/docs \
  "$ROOTFS"/usr/local/lib/node_modules/npm/man

node_version="$("$NODE_BIN" -v)"
tar --numeric-owner -C "$ROOTFS" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=${node_version#v}" \
  --change 'CMD ["node"]' \
  --change "LABEL dev.heart-disease-mlops.base.recipe=$RECIPE" \
  --message "debootstrap minbase bookworm ($MIRROR) + node $node_version" \
  - "$LOCAL_BASE_IMAGE" >&2

docker run --rm "$LOCAL_BASE_IMAGE" sh -c 'node -v && npm -v' >&2
size="$(docker image inspect --format '{{.Size}}' "$LOCAL_BASE_IMAGE")"
log "built $LOCAL_BASE_IMAGE in $(( $(date +%s) - start )) s, size $(( size / 1000000 )) MB"
echo "$LOCAL_BASE_IMAGE"
