#!/bin/sh
# Copies onnxruntime-node (+ onnxruntime-common, its only runtime dependency) from an installed
# node_modules into the image's /app/node_modules, keeping only the linux/x64 binaries: the
# darwin, win32 and linux/arm64 builds are ~245 MB the image never loads. The CUDA provider
# libraries, when the install script fetched them, sit in linux/x64 and are kept.
#   sh scripts/images/stage-ort.sh <from node_modules> <to node_modules>
set -eu
from=$1
to=$2
rm -rf "$to/onnxruntime-node" "$to/onnxruntime-common"
mkdir -p "$to"
cp -a "$from/onnxruntime-node" "$from/onnxruntime-common" "$to/"
ort="${to:?}/onnxruntime-node"
test -f "$ort/bin/napi-v6/linux/x64/onnxruntime_binding.node"
rm -rf "$ort/bin/napi-v6/darwin" "$ort/bin/napi-v6/win32" "$ort/bin/napi-v6/linux/arm64" \
  "${ort:?}/lib" "${ort:?}/script" "$to/onnxruntime-common/lib"
find "$to/onnxruntime-node" "$to/onnxruntime-common" \( -name '*.map' -o -name '*.d.ts' -o -name '*.md' \) -type f -delete
# onnxruntime-node's install script needs adm-zip/global-agent; at run time nothing does.
node -e "
const fs = require('fs'); const p = process.argv[1];
const j = JSON.parse(fs.readFileSync(p, 'utf8'));
j.dependencies = { 'onnxruntime-common': j.dependencies['onnxruntime-common'] };
delete j.scripts; delete j.devDependencies;
fs.writeFileSync(p, JSON.stringify(j, null, 2) + '\n');
" "$ort/package.json"
