#!/usr/bin/env bash
# Real Kafka (KRaft, one node), PostgreSQL and Redis for tests and the local stack.
#
#   infra.sh install   install/download what is missing (apt packages, Kafka jars) — idempotent
#   infra.sh up        start all three on 127.0.0.1 (no-op for the ones already up)
#   infra.sh down      stop them and delete their data
#   infra.sh status    one line per server; exit 1 when any is down
#   infra.sh env       print the connection variables (KAFKA_BROKERS, DATABASE_URL, REDIS_URL, and
#                      the Kafka security tests' KAFKA_TEST_SASL_BROKERS, KAFKA_TEST_CA_FILE, ...)
#
# Data lives in $TOOLBUS_INFRA_DIR (a temporary directory); downloads in $TOOLBUS_CACHE.
# Besides PLAINTEXT, Kafka listens with SASL_SSL ($KAFKA_SASL_PORT) and with TLS requiring a
# client certificate ($KAFKA_MTLS_PORT), with a CA and certificates made here by openssl.
source "$(dirname "$0")/lib.sh"

KAFKA_LIBS="$TOOLBUS_CACHE/kafka-$KAFKA_VERSION-libs"
PG_BIN=""
PG_DIR="$TOOLBUS_INFRA_DIR/postgres"
REDIS_DIR="$TOOLBUS_INFRA_DIR/redis"
KAFKA_DIR="$TOOLBUS_INFRA_DIR/kafka"
KAFKA_TLS_DIR="$KAFKA_DIR/tls"
DB_NAME=toolbus
# The SCRAM/PLAIN user of the SASL_SSL listener; its password is made once per infra dir.
KAFKA_SASL_USER=toolbus
# Only the test broker reads its keystore; the password protects nothing here.
KAFKA_KEYSTORE_PASSWORD=toolbus-test-keystore
KAFKA_JAVA_OPTS=(-Xms256m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$TOOLBUS_ROOT/scripts/infra/kafka/log4j2.properties")

find_pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/postgres" && -x "$d/initdb" ]] && { PG_BIN=$d; return 0; }
  done
  return 1
}

as_pg_owner() {
  # initdb refuses to run as root, so the cluster belongs to the postgres system user when we are root.
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_apt() {
  local missing=()
  find_pg_bin || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  ((${#missing[@]} == 0)) && return 0
  command -v apt-get >/dev/null || die "need ${missing[*]} and apt-get is not available; install them by hand"
  local sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
  log "installing ${missing[*]} from apt"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
  # Debian's postinst starts a cluster on the default port; we run our own, so stop it.
  command -v pg_ctlcluster >/dev/null && $sudo pg_ctlcluster --force "$(ls /usr/lib/postgresql | sort -V | tail -1)" main stop >/dev/null 2>&1 || true
  find_pg_bin || die "postgresql installed but no server binaries under /usr/lib/postgresql"
}

install_kafka() {
  if [[ -f "$KAFKA_LIBS/.complete" ]]; then return 0; fi
  command -v java >/dev/null || die "java (17+) is needed to run the Kafka broker"
  command -v mvn >/dev/null || die "mvn is needed to fetch the Kafka broker from Maven Central"
  log "fetching Apache Kafka $KAFKA_VERSION (kafka_2.13) from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS" && mkdir -p "$KAFKA_LIBS"
  mvn -q -B -Dstyle.color=never -f "$TOOLBUS_ROOT/scripts/infra/kafka/pom.xml" \
    -Dkafka.version="$KAFKA_VERSION" -Dlog4j.version="$LOG4J_VERSION" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DoutputDirectory="$KAFKA_LIBS" -DincludeScope=runtime ||
    die "maven could not resolve kafka_2.13:$KAFKA_VERSION"
  touch "$KAFKA_LIBS/.complete"
}

cmd_install() { install_apt; install_kafka; }

# ---- readiness probes -------------------------------------------------------------------
pg_up() { [[ -n "$PG_BIN" ]] && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT"; }
redis_up() { command -v redis-cli >/dev/null && [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; }
kafka_up() {
  [[ -f "$KAFKA_DIR/kafka.pid" ]] && kill -0 "$(cat "$KAFKA_DIR/kafka.pid")" 2>/dev/null &&
    grep -q 'Kafka Server started' "$KAFKA_DIR/kafka.log" 2>/dev/null &&
    (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null
}

fail_with_log() {
  local name=$1 file=$2
  printf '\n----- last 40 lines of %s -----\n' "$file" >&2
  tail -n 40 "$file" >&2 || true
  die "$name did not start"
}

# ---- start ------------------------------------------------------------------------------

# A CA, the broker's certificate (127.0.0.1 and localhost) in a PKCS12 keystore, a client
# certificate for the MTLS listener, and the SASL password: made once, kept in the infra dir.
make_kafka_tls() {
  [[ -f "$KAFKA_TLS_DIR/.complete" ]] && return 0
  command -v openssl >/dev/null || die "openssl is needed to make the test broker's TLS certificates"
  rm -rf "$KAFKA_TLS_DIR" && mkdir -p "$KAFKA_TLS_DIR"
  local ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  (
    set -e
    umask 077
    cd "$KAFKA_TLS_DIR"
    openssl req -x509 "${ec[@]}" -days 3650 -subj "/CN=Toolbus test CA" -keyout ca.key -out ca.pem \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
    openssl req "${ec[@]}" -subj "/CN=localhost" -keyout server.key -out server.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile server.ext -out server.pem
    openssl pkcs12 -export -in server.pem -inkey server.key -certfile ca.pem -name kafka \
      -passout "pass:$KAFKA_KEYSTORE_PASSWORD" -out server.p12
    openssl req "${ec[@]}" -subj "/CN=toolbus-test-client" -keyout client.key -out client.csr
    printf 'extendedKeyUsage=clientAuth\n' >client.ext
    openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile client.ext -out client.pem
    openssl rand -hex 16 >sasl-password
  ) >"$KAFKA_DIR/tls.log" 2>&1 || { tail -n 20 "$KAFKA_DIR/tls.log" >&2; die "openssl could not make the test broker's certificates"; }
  touch "$KAFKA_TLS_DIR/.complete"
}
start_pg() {
  find_pg_bin || die "PostgreSQL is not installed (run: make setup)"
  if pg_up; then log "postgres already up on 127.0.0.1:$PG_PORT"; return 0; fi
  mkdir -p "$PG_DIR"
  [[ $(id -u) == 0 ]] && chown -R postgres:postgres "$PG_DIR"
  if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
    as_pg_owner "$PG_BIN/initdb" -D "$PG_DIR/data" --auth=trust -U postgres -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 ||
      fail_with_log postgres "$PG_DIR/initdb.log"
  fi
  log "starting postgres on 127.0.0.1:$PG_PORT"
  # fsync off: test data is disposable and commits are several times faster without it.
  as_pg_owner "$PG_BIN/pg_ctl" -w -t 60 -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 -c TimeZone=UTC" \
    start >/dev/null || fail_with_log postgres "$PG_DIR/postgres.log"
  wait_for postgres 30 pg_up || fail_with_log postgres "$PG_DIR/postgres.log"
  "$PG_BIN/psql" -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "select 1 from pg_database where datname='$DB_NAME'" | grep -q 1 ||
    "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres "$DB_NAME"
}

# Redis: no package uses it yet. It is started anyway because the orchestrator, the next
# service, keeps its sessions and policy state (quotas, breakers, budgets) there; starting it
# now means `make test`, `infra.sh env` and every developer's REDIS_URL stay the same when it
# lands. It costs about 7 MB of memory and well under a second.
start_redis() {
  command -v redis-server >/dev/null || die "redis-server is not installed (run: make setup)"
  if redis_up; then log "redis already up on 127.0.0.1:$REDIS_PORT"; return 0; fi
  mkdir -p "$REDIS_DIR"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$REDIS_DIR" --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" ||
    fail_with_log redis "$REDIS_DIR/redis.log"
  wait_for redis 20 redis_up || fail_with_log redis "$REDIS_DIR/redis.log"
}

start_kafka() {
  [[ -f "$KAFKA_LIBS/.complete" ]] || die "Kafka is not downloaded (run: make setup)"
  if kafka_up; then log "kafka already up on 127.0.0.1:$KAFKA_PORT"; return 0; fi
  if [[ -f "$KAFKA_DIR/kafka.pid" ]]; then kill "$(cat "$KAFKA_DIR/kafka.pid")" 2>/dev/null || true; fi
  mkdir -p "$KAFKA_DIR/data"
  make_kafka_tls
  local sasl_password; sasl_password=$(cat "$KAFKA_TLS_DIR/sasl-password")
  sed -e "s#@PORT@#$KAFKA_PORT#g" -e "s#@CPORT@#$KAFKA_CONTROLLER_PORT#g" -e "s#@DATA@#$KAFKA_DIR/data#g" \
    -e "s#@SASL_PORT@#$KAFKA_SASL_PORT#g" -e "s#@MTLS_PORT@#$KAFKA_MTLS_PORT#g" -e "s#@TLS@#$KAFKA_TLS_DIR#g" \
    -e "s#@KEYSTORE_PASSWORD@#$KAFKA_KEYSTORE_PASSWORD#g" \
    -e "s#@SASL_USER@#$KAFKA_SASL_USER#g" -e "s#@SASL_PASSWORD@#$sasl_password#g" \
    "$TOOLBUS_ROOT/scripts/infra/kafka/server.properties" >"$KAFKA_DIR/server.properties"
  chmod 600 "$KAFKA_DIR/server.properties"
  local scram="SCRAM-SHA-512=[name=$KAFKA_SASL_USER,password=$sasl_password]"
  local scram256="SCRAM-SHA-256=[name=$KAFKA_SASL_USER,password=$sasl_password]"
  if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
    local cluster_id
    cluster_id=$(java "${KAFKA_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
    java "${KAFKA_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format --standalone \
      -t "$cluster_id" -c "$KAFKA_DIR/server.properties" --ignore-formatted \
      --add-scram "$scram" --add-scram "$scram256" >"$KAFKA_DIR/format.log" 2>&1 ||
      fail_with_log kafka "$KAFKA_DIR/format.log"
    touch "$KAFKA_DIR/data/.toolbus-scram"
  fi
  log "starting kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT"
  : >"$KAFKA_DIR/kafka.log"
  # setsid: the broker must outlive the make process that started it.
  setsid java "${KAFKA_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >>"$KAFKA_DIR/kafka.log" 2>&1 </dev/null &
  echo $! >"$KAFKA_DIR/kafka.pid"
  wait_for kafka 90 kafka_up || fail_with_log kafka "$KAFKA_DIR/kafka.log"
}

# The SASL_SSL listener's SCRAM user. Data formatted by an older infra.sh has none: it is
# added through the admin API. Nothing to do for a broker started without the listener.
ensure_kafka_scram_user() {
  [[ -f "$KAFKA_DIR/data/.toolbus-scram" ]] && return 0
  kafka_has_security_listeners || return 0
  local sasl_password mechanism; sasl_password=$(cat "$KAFKA_TLS_DIR/sasl-password")
  # One mechanism per request: the API refuses two changes to one user's credentials at once.
  for mechanism in SCRAM-SHA-512 SCRAM-SHA-256; do
    java "${KAFKA_JAVA_OPTS[@]}" -cp "$KAFKA_LIBS/*" kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" \
      --alter --entity-type users --entity-name "$KAFKA_SASL_USER" \
      --add-config "$mechanism=[password=$sasl_password]" >>"$KAFKA_DIR/scram.log" 2>&1 ||
      { tail -n 20 "$KAFKA_DIR/scram.log" >&2; die "could not add the $mechanism user $KAFKA_SASL_USER"; }
  done
  touch "$KAFKA_DIR/data/.toolbus-scram"
}

kafka_has_security_listeners() {
  grep -q '^listeners=.*SASL_SSL' "$KAFKA_DIR/server.properties" 2>/dev/null && [[ -f "$KAFKA_TLS_DIR/.complete" ]]
}

cmd_up() {
  mkdir -p "$TOOLBUS_INFRA_DIR"
  start_pg
  start_redis
  start_kafka
  ensure_kafka_scram_user
  cmd_env >"$TOOLBUS_INFRA_DIR/env"
  log "infrastructure up; connection variables in $TOOLBUS_INFRA_DIR/env"
}

cmd_down() {
  find_pg_bin || true
  if [[ -n "$PG_BIN" && -f "$PG_DIR/data/postmaster.pid" ]]; then
    as_pg_owner "$PG_BIN/pg_ctl" -w -t 30 -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  fi
  if [[ -f "$REDIS_DIR/redis.pid" ]]; then kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true; fi
  if [[ -f "$KAFKA_DIR/kafka.pid" ]]; then
    local pid; pid=$(cat "$KAFKA_DIR/kafka.pid")
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -rf "$TOOLBUS_INFRA_DIR"
  log "infrastructure down"
}

cmd_status() {
  find_pg_bin || true
  local rc=0
  if pg_up; then echo "postgres  up    127.0.0.1:$PG_PORT"; else echo "postgres  down  127.0.0.1:$PG_PORT"; rc=1; fi
  if redis_up; then echo "redis     up    127.0.0.1:$REDIS_PORT"; else echo "redis     down  127.0.0.1:$REDIS_PORT"; rc=1; fi
  local listeners="SASL_SSL $KAFKA_SASL_PORT, MTLS $KAFKA_MTLS_PORT"
  kafka_has_security_listeners || listeners="no SASL_SSL or MTLS listener: down, then up, adds them"
  if kafka_up; then echo "kafka     up    127.0.0.1:$KAFKA_PORT ($listeners)"; else echo "kafka     down  127.0.0.1:$KAFKA_PORT"; rc=1; fi
  return $rc
}

cmd_env() {
  echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "DATABASE_URL=postgres://postgres@127.0.0.1:$PG_PORT/$DB_NAME"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  # The security listeners, only for a broker started with them (one started by an older
  # infra.sh has none; `down` then `up` gives it them). Named KAFKA_TEST_*, never like the
  # services' own KAFKA_TLS_CA_FILE or KAFKA_SASL_*: tests export all of these, and a service
  # started from that environment must still connect over PLAINTEXT.
  if kafka_has_security_listeners; then
    echo "KAFKA_TEST_SASL_BROKERS=127.0.0.1:$KAFKA_SASL_PORT"
    echo "KAFKA_TEST_MTLS_BROKERS=127.0.0.1:$KAFKA_MTLS_PORT"
    echo "KAFKA_TEST_CA_FILE=$KAFKA_TLS_DIR/ca.pem"
    echo "KAFKA_TEST_CLIENT_CERT_FILE=$KAFKA_TLS_DIR/client.pem"
    echo "KAFKA_TEST_CLIENT_KEY_FILE=$KAFKA_TLS_DIR/client.key"
    echo "KAFKA_TEST_SASL_USERNAME=$KAFKA_SASL_USER"
    echo "KAFKA_TEST_SASL_PASSWORD=$(cat "$KAFKA_TLS_DIR/sasl-password")"
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  *) echo "usage: $0 install|up|down|status|env" >&2; exit 2 ;;
esac
