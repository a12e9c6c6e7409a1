#!/usr/bin/env bash
# The embedded platform: every service built so far, each on the in-memory bus with PGlite,
# on 127.0.0.1. Ctrl-C stops them all. Run through `make up` (which builds first).
source "$(dirname "$0")/lib.sh"
node_bin=$("$TOOLBUS_ROOT/scripts/ensure-node.sh")
export PATH="$node_bin:$PATH"
cd "$TOOLBUS_ROOT"

# A development signing key for the registry's tokens, made once and kept out of the repo.
secret_file="$TOOLBUS_CACHE/dev-jwt-secret"
if [[ ! -s $secret_file ]]; then
  mkdir -p "$TOOLBUS_CACHE"
  (umask 077 && node -e "process.stdout.write(require('node:crypto').randomBytes(32).toString('hex'))" >"$secret_file")
fi

model_port=${PORT:-8080}
registry_port=${REGISTRY_PORT:-8081}
# Probes and metrics are served apart from the APIs, one management port per service.
model_management=${MANAGEMENT_PORT:-9090}
registry_management=${REGISTRY_MANAGEMENT_PORT:-9091}
pids=()
stop() {
  trap - INT TERM EXIT
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

PORT=$model_port MANAGEMENT_PORT=$model_management node services/model-shim/dist/main.js &
pids+=($!)
# The shared key is for this embedded mode only: the registry accepts it behind the switch.
PORT=$registry_port MANAGEMENT_PORT=$registry_management AUTH_JWT_SECRET_FILE=$secret_file AUTH_ALLOW_SHARED_KEY=true UPSTREAM_SYNC=true \
  node services/registry/dist/main.js &
pids+=($!)

ready() { node -e "fetch('http://127.0.0.1:$1/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; }
wait_for "model shim" 60 ready "$model_management" || die "the model shim did not become ready (management port $model_management)"
wait_for "registry" 60 ready "$registry_management" || die "the registry did not become ready (management port $registry_management)"
cat >&2 <<MSG

  model shim  http://127.0.0.1:$model_port   (health and metrics: http://127.0.0.1:$model_management/health/ready, /metrics)
  registry    http://127.0.0.1:$registry_port   (API: /v1/tools, document: /openapi.json; health: http://127.0.0.1:$registry_management/health/ready)

  Try the registry with the CLI (npx nx run cli:build once):
    export TOOLBUS_REGISTRY_URL=http://127.0.0.1:$registry_port
    export TOOLBUS_TOKEN=\$(TOOLBUS_TEAMS=team-crm node scripts/dev-token.mjs alice registry:write registry:read)
    node apps/cli/dist/main.js tools import-openapi services/registry/test/fixtures/openapi/crm-api.yaml \\
      --source crm --owner team-crm --region eu
    TOOLBUS_TOKEN=\$(node scripts/dev-token.mjs bob registry:approve registry:read) \\
      node apps/cli/dist/main.js tools approve get_customer@1.0.0

  The embedded mode keeps its data in memory; Ctrl-C stops everything.
MSG
# Stop everything when any one of them exits.
wait -n
