#!/usr/bin/env bash
# `make test`: setup, infrastructure up, every tier, infrastructure down (even on failure),
# then one summary line `N passed, N failed[, N skipped]` over all tiers.
source "$(dirname "$0")/lib.sh"
cd "$TOOLBUS_ROOT"

"$TOOLBUS_ROOT/scripts/setup.sh"
export PATH="$("$TOOLBUS_ROOT/scripts/ensure-node.sh"):$PATH"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_SKIP_NX_CACHE=true TZ=UTC

started=0
if ! "$TOOLBUS_ROOT/scripts/infra.sh" status >/dev/null 2>&1; then
  started=1
  # Stop what this run started even when a tier fails or the run is interrupted.
  trap '"$TOOLBUS_ROOT/scripts/infra.sh" down' EXIT
  "$TOOLBUS_ROOT/scripts/infra.sh" up
fi
set -a
# shellcheck disable=SC1090
source <("$TOOLBUS_ROOT/scripts/infra.sh" env)
set +a

reports="$TOOLBUS_ROOT/reports/tests"
rm -rf "$reports" && mkdir -p "$reports"
: >"$reports/tiers.tsv"

# Runs one tier, recording its exit code; a failing tier does not stop the others.
tier() {
  local name=$1; shift
  log "tier: $name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - start))" >>"$reports/tiers.tsv"
}

static_checks() {
  local out rc=0
  out=$(npx nx run-many -t lint typecheck --outputStyle=static 2>&1) || rc=$?
  printf '%s\n' "$out" | grep -vE 'Unknown user config "nodedir"' | tail -n 60
  local total
  total=$(( $(npx nx show projects --with-target lint | wc -l) + $(npx nx show projects --with-target typecheck | wc -l) ))
  local failed
  failed=$(printf '%s\n' "$out" | grep -cE '^- [a-z0-9-]+:(lint|typecheck)$' || true)
  local fmt=0
  npx prettier --check . >"$reports/prettier.log" 2>&1 || { fmt=1; cat "$reports/prettier.log"; }
  printf '{"name":"static","label":"(lint, typecheck, format)","passed":%d,"failed":%d}\n' $((total - failed + 1 - fmt)) $((failed + fmt)) >"$reports/static.checks.json"
  ((rc == 0 && fmt == 0))
}

tier static static_checks
tier unit npx nx run-many -t test --outputStyle=static
tier integration npx nx run-many -t test:integration --outputStyle=static
tier e2e npx nx run-many -t test:e2e --outputStyle=static
tier charts "$TOOLBUS_ROOT/scripts/charts/test.sh"

node "$TOOLBUS_ROOT/scripts/test-summary.mjs" "$reports"
