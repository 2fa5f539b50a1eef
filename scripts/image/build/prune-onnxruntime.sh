#!/bin/sh
# onnxruntime-node ships prebuilt binaries for every OS/arch (~290 MB); keep only this platform's CPU build.
# Used by the Dockerfile's deps (API) and trainer-deps stages. Usage: prune-onnxruntime.sh <node_modules dir>
set -eu
ort="$1/onnxruntime-node/bin/napi-v6"
keep="$(node -p 'process.platform + "/" + process.arch')"
for dir in "$ort"/*/*; do
  case "$dir" in "$ort/$keep") ;; *) rm -rf "$dir" ;; esac
done
find "$ort" -mindepth 1 -type d -empty -delete
test -f "$ort/$keep/onnxruntime_binding.node"
