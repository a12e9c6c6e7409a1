#!/usr/bin/env bash
# Idempotent setup: Node 24 (when the machine's Node is older), npm dependencies, and the
# test infrastructure's packages and downloads. Caches live in $TOOLBUS_CACHE, outside the repo.
source "$(dirname "$0")/lib.sh"

node_bin=$("$TOOLBUS_ROOT/scripts/ensure-node.sh")
export PATH="$node_bin:$PATH"
# Native addons compile against the Node that runs them, not the machine's older headers.
export npm_config_nodedir="$(dirname "$node_bin")"

cd "$TOOLBUS_ROOT"
stamp=node_modules/.toolbus-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  log "installing npm dependencies (node $(node -v))"
  # Not `npm ci`: the registry here serves only this platform's optional binaries (swc, rollup),
  # so the lock file cannot list the others and `npm ci` rejects it as out of sync.
  # `npm install` installs exactly the locked versions and leaves the lock file unchanged.
  npm install --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi

"$TOOLBUS_ROOT/scripts/infra.sh" install
"$TOOLBUS_ROOT/examples/python-consumer/setup.sh"
"$TOOLBUS_ROOT/scripts/charts/setup-tools.sh"
log "setup done"
