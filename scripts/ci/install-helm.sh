#!/usr/bin/env bash
# Helm v3 from source through the Go module proxy (no release downloads are reachable here).
# Same link flags as Helm's own Makefile: version string, and the default Kubernetes version that
# `helm template`/`helm lint` assume (1.<client-go minor>), otherwise a plain `go install` assumes Kubernetes 1.20.
# Idempotent: does nothing when that helm version is already installed. Installs into $(go env GOPATH)/bin.
set -euo pipefail
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
K8S_MINOR="${HELM_K8S_MINOR:-37}" # helm v3.22.0 builds against k8s.io/client-go v0.37.x

export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "install-helm: Go toolchain not found (needs go >= 1.24)" >&2; exit 1; }
BIN="$(go env GOPATH)/bin/helm"
if [ -x "$BIN" ] && "$BIN" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  echo "helm $HELM_VERSION already installed at $BIN"
  exit 0
fi
pkg=helm.sh/helm/v3
ldflags="-w -s -X $pkg/internal/version.version=$HELM_VERSION -X $pkg/internal/version.gitTreeState=clean"
ldflags+=" -X $pkg/pkg/lint/rules.k8sVersionMajor=1 -X $pkg/pkg/lint/rules.k8sVersionMinor=$K8S_MINOR"
ldflags+=" -X $pkg/pkg/chartutil.k8sVersionMajor=1 -X $pkg/pkg/chartutil.k8sVersionMinor=$K8S_MINOR"
echo "building helm $HELM_VERSION with go install (several minutes on 2 cores)"
CGO_ENABLED=0 go install -trimpath -ldflags "$ldflags" "$pkg/cmd/helm@$HELM_VERSION"
"$BIN" version
