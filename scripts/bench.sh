#!/usr/bin/env bash
# `make bench`: benchmarks against real infrastructure, each printing a table of ratios to a
# baseline measured in the same run. Starts Kafka/PostgreSQL/Redis if needed and stops what it started.
source "$(dirname "$0")/lib.sh"
cd "$TOOLBUS_ROOT"
export PATH="$("$TOOLBUS_ROOT/scripts/ensure-node.sh"):$PATH"
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false TZ=UTC

if ! "$TOOLBUS_ROOT/scripts/infra.sh" status >/dev/null 2>&1; then
  trap '"$TOOLBUS_ROOT/scripts/infra.sh" down' EXIT
  "$TOOLBUS_ROOT/scripts/infra.sh" up
fi
set -a
# shellcheck disable=SC1090
source <("$TOOLBUS_ROOT/scripts/infra.sh" env)
set +a
# One benchmark at a time: they measure, and the machine has two cores.
npx nx run-many -t bench --parallel=1 --outputStyle=static
