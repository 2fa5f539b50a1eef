#!/usr/bin/env bash
# Debian packages the single-node Kubernetes cluster (scripts/cluster/) runs on: containerd + runc (a private
# containerd instance, never Docker's), the CNI plugins (bridge, host-local, portmap, loopback), iptables and
# conntrack for kube-proxy, socat for port-forward, openssl for the cluster's certificates, curl for health checks.
# Installing containerd does not start it here (no systemd). Idempotent: installs only what is missing.
set -euo pipefail

missing=()
command -v containerd >/dev/null 2>&1 || missing+=(containerd)
command -v runc >/dev/null 2>&1 || missing+=(runc)
[ -x /usr/lib/cni/bridge ] || missing+=(containernetworking-plugins)
command -v iptables >/dev/null 2>&1 || missing+=(iptables)
command -v conntrack >/dev/null 2>&1 || missing+=(conntrack)
command -v socat >/dev/null 2>&1 || missing+=(socat)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v curl >/dev/null 2>&1 || missing+=(curl)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "cluster packages already installed: containerd $(containerd --version | awk '{print $3}'), runc, CNI plugins, iptables, conntrack, socat, openssl, curl"
  exit 0
fi

start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "installed ${missing[*]} in $(( $(date +%s) - start )) s"
