# Shared settings for the project's scripts. Sourced, never run.
# Every value can be overridden from the environment; ports are deliberately non-default
# so a developer's own PostgreSQL, Redis or Kafka on the usual ports is left alone.
set -euo pipefail

TOOLBUS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLBUS_CACHE=${TOOLBUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toolbus}
TOOLBUS_INFRA_DIR=${TOOLBUS_INFRA_DIR:-${TMPDIR:-/tmp}/toolbus-infra-$(id -u)}

# The project's one Node.js version lives in .node-version (read by nodenv, fnm and CI setups
# too): ensure-node.sh fetches it, and `make images` builds the service images from it.
NODE_VERSION=${TOOLBUS_NODE_VERSION:-$(tr -d ' \t\r\n' <"$TOOLBUS_ROOT/.node-version")}
KAFKA_VERSION=${TOOLBUS_KAFKA_VERSION:-4.1.1}
LOG4J_VERSION=${TOOLBUS_LOG4J_VERSION:-2.24.3}

PG_PORT=${TOOLBUS_PG_PORT:-54329}
REDIS_PORT=${TOOLBUS_REDIS_PORT:-63799}
KAFKA_PORT=${TOOLBUS_KAFKA_PORT:-39092}
KAFKA_CONTROLLER_PORT=${TOOLBUS_KAFKA_CONTROLLER_PORT:-39093}
# SASL_SSL (SCRAM, PLAIN) and TLS with a required client certificate, for the Kafka security tests.
KAFKA_SASL_PORT=${TOOLBUS_KAFKA_SASL_PORT:-39094}
KAFKA_MTLS_PORT=${TOOLBUS_KAFKA_MTLS_PORT:-39095}

log() { printf '\033[1;34m[toolbus]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m[toolbus] error:\033[0m %s\n' "$*" >&2; exit 1; }

[[ $NODE_VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] ||
  die "Node.js version \"$NODE_VERSION\" (from .node-version or TOOLBUS_NODE_VERSION) is not major.minor.patch"

# Wait for a condition with a deadline; prints a dot per second so a slow start shows progress.
wait_for() {
  local what=$1 seconds=$2; shift 2
  local deadline=$((SECONDS + seconds))
  while ! "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then printf '\n' >&2; return 1; fi
    printf '.' >&2
    sleep 1
  done
  printf '\n' >&2
  log "$what ready"
}
