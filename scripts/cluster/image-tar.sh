#!/usr/bin/env bash
# Packs one static binary into a one-layer image tar in the `docker save` format (manifest.json, config, layer),
# which `ctr images import` and `docker load` both accept. The layer holds only /<binary name> and an empty /tmp;
# the binary is the entrypoint. Same input, same bytes: fixed owners and times, so the image ID is stable.
#   image-tar.sh <image reference> <output tar> <static binary> <numeric user>
set -euo pipefail
ref=$1 out=$2 binary=$3 user=$4
case "$ref$user" in *[\"\\[:space:]]*) echo "image-tar: reference or user has quotes or spaces" >&2; exit 2 ;; esac
name=$(basename "$binary")

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/tmp" "$work/image"
chmod 1777 "$work/rootfs/tmp"
install -m 0755 "$binary" "$work/rootfs/$name"
# Entries named without a leading ./, as `docker save` writes them.
tar_fixed() { tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner "$@"; }
tar_fixed -C "$work/rootfs" -cf "$work/layer.tar" "$name" tmp

layer_digest=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
mkdir "$work/image/$layer_digest"
mv "$work/layer.tar" "$work/image/$layer_digest/layer.tar"
printf '%s' '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z",'\
'"config":{"Entrypoint":["/'"$name"'"],"User":"'"$user"'","Env":["PATH=/"],"WorkingDir":"/"},'\
'"rootfs":{"type":"layers","diff_ids":["sha256:'"$layer_digest"'"]},'\
'"history":[{"created":"1970-01-01T00:00:00Z","created_by":"scripts/cluster/image-tar.sh '"$name"'"}]}' \
  >"$work/config.json"
config_digest=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/image/$config_digest.json"
printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
  "$config_digest" "$ref" "$layer_digest" >"$work/image/manifest.json"
tar_fixed -C "$work/image" -cf "$out" manifest.json "$config_digest.json" "$layer_digest"
