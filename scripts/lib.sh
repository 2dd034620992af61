# Shared shell functions for the README's commands, the tests and the benchmarks.
# Source it: `. scripts/lib.sh`. Everything it starts lives under $GRIDLOOP_RUN_DIR and is
# stopped by `stop_all` (installed as an EXIT trap by the callers).

set -euo pipefail

GRIDLOOP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PACKAGES=(librdkafka-dev libpq-dev postgresql kcat python3 python3-jsonschema python3-yaml pkg-config)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# Installs the Debian packages that are missing (needs root or sudo).
ensure_packages() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update
    # Waits for another apt or dpkg run (unattended upgrades, a parallel script) to finish.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}"
  fi
  command -v swift >/dev/null || { echo "swift is not on PATH (Swift 6 toolchain needed, e.g. /opt/swift/usr/bin)" >&2; exit 1; }
}

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

# psql itself, not Debian's perl wrapper (`/usr/bin/psql`): the benchmarks poll with it and
# must not steal the CPU they measure (perf showed the wrapper taking 11-17% of it).
pg_psql() { "$(pg_bin)/psql" "$@"; }

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

new_run_dir() {
  GRIDLOOP_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/gridloop.XXXXXX")
  chmod 755 "$GRIDLOOP_RUN_DIR"
  export GRIDLOOP_RUN_DIR
}

# Starts a private PostgreSQL cluster in $GRIDLOOP_RUN_DIR/pg, listening on a unix socket there
# only; sets PG_ADMIN_URL (database postgres) and GRIDLOOP_DATABASE_URL (database gridloop).
# PG_EXTRA_OPTS (optional): more server options, after the defaults so that they win, e.g.
# "-c listen_addresses=localhost -c ssl=on -c hba_file=..." (scripts/check/test-pg-tls.sh); the port
# chosen is in PG_PORT.
start_postgres() {
  local bin dir port
  bin=$(pg_bin)
  dir="$GRIDLOOP_RUN_DIR/pg"
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$GRIDLOOP_RUN_DIR/initdb.log" 2>&1 \
    || { cat "$GRIDLOOP_RUN_DIR/initdb.log" >&2; return 1; }
  port=$((20000 + RANDOM % 20000))
  local opts="-k $dir -p $port -c listen_addresses='' -c max_connections=200 -c shared_buffers=256MB -c max_wal_size=4GB -c timezone=UTC"
  [ -n "${PG_EXTRA_OPTS:-}" ] && opts="$opts $PG_EXTRA_OPTS"
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" start >/dev/null
  # For tests that take the database away and bring it back.
  local as=""
  [ "$(id -u)" -eq 0 ] && as="runuser -u postgres --"
  POSTGRES_STOP_COMMAND="$as $bin/pg_ctl -D $dir/data -m fast -w stop"
  POSTGRES_START_COMMAND="$as $bin/pg_ctl -D $dir/data -l $dir/server.log -w -t 60 -o \"$opts\" start"
  export POSTGRES_STOP_COMMAND POSTGRES_START_COMMAND
  PG_DATA="$dir/data"
  PG_PORT=$port
  PG_ADMIN_URL="postgresql:///postgres?host=$dir&port=$port&user=postgres"
  GRIDLOOP_DATABASE_URL="postgresql:///gridloop?host=$dir&port=$port&user=postgres"
  export PG_DATA PG_PORT PG_ADMIN_URL GRIDLOOP_DATABASE_URL
  psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE gridloop" >/dev/null
  log "PostgreSQL running (socket $dir, port $port)"
}

stop_postgres() {
  [ -n "${PG_DATA:-}" ] && [ -d "$PG_DATA" ] && as_pg "$(pg_bin)/pg_ctl" -D "$PG_DATA" -m fast -w stop >/dev/null 2>&1 || true
}

# Starts the development broker (librdkafka's mock cluster as its own process); sets GRIDLOOP_KAFKA_BROKERS.
start_broker() {
  local bin="$1"; shift
  local file="$GRIDLOOP_RUN_DIR/bootstrap"
  "$bin" --bootstrap-file "$file" "$@" >"$GRIDLOOP_RUN_DIR/broker.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 1 200); do [ -s "$file" ] && break; sleep 0.05; done
  [ -s "$file" ] || { cat "$GRIDLOOP_RUN_DIR/broker.log" >&2; echo "broker did not start" >&2; return 1; }
  GRIDLOOP_KAFKA_BROKERS=$(cat "$file")
  export GRIDLOOP_KAFKA_BROKERS BROKER_PID
  log "development broker running at $GRIDLOOP_KAFKA_BROKERS"
}

stop_all() {
  local rc=$?
  [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null || true
  [ -n "${BROKER_PID:-}" ] && kill "$BROKER_PID" 2>/dev/null && wait "$BROKER_PID" 2>/dev/null || true
  stop_postgres
  if [ -n "${GRIDLOOP_RUN_DIR:-}" ] && [ -z "${GRIDLOOP_KEEP_RUN_DIR:-}" ]; then rm -rf "$GRIDLOOP_RUN_DIR"; fi
  return $rc
}

# Publishes a `key<TAB>value` file to a topic.
produce_file() {
  kcat -P -b "$GRIDLOOP_KAFKA_BROKERS" -t "$1" -K $'\t' -z none <"$2"
}

# Starts gridloopd ($GRIDLOOPD, default the release build) in the background on the database `db`
# of the cluster (created if it does not exist, then migrated) in consumer group `group`; sets
# DAEMON_PID and DAEMON_URL (the database's URL). Further arguments are environment settings for
# the daemon. Its log goes to $DAEMON_LOG, default $GRIDLOOP_RUN_DIR/<group>.log.
start_gridloopd() {
  local db=$1 group=$2; shift 2
  local daemon=${GRIDLOOPD:-$bin/gridloopd}
  [ "$(pg_psql -tAq "$PG_ADMIN_URL" -c "SELECT count(*) FROM pg_database WHERE datname = '$db'")" -eq 1 ] \
    || psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
  DAEMON_URL="${GRIDLOOP_DATABASE_URL/\/gridloop\?//$db?}"
  GRIDLOOP_DATABASE_URL=$DAEMON_URL "$daemon" migrate >/dev/null
  env GRIDLOOP_DATABASE_URL="$DAEMON_URL" GRIDLOOP_CONSUMER_GROUP="$group" GRIDLOOP_LOG_LEVEL="${BENCH_LOG_LEVEL:-warning}" "$@" \
    "$daemon" run 2>>"${DAEMON_LOG:-$GRIDLOOP_RUN_DIR/$group.log}" &
  DAEMON_PID=$!
  export DAEMON_URL
}

# Runs gridloopd ($GRIDLOOPD, default the release build) on a new database `db` of the cluster
# in consumer group `group` until `want` messages are committed, then stops it; prints
# "messages seconds" (durable intake: first batch started to last batch committed). Further
# arguments are environment settings for the daemon. Its log goes to $GRIDLOOP_RUN_DIR/<group>.log.
run_daemon() {
  local db=$1 group=$2 want=$3; shift 3
  start_gridloopd "$db" "$group" "$@"
  local url=$DAEMON_URL
  # One psql session asked twice a second, rather than a psql started each time: starting psql
  # costs tens of milliseconds of CPU, taken from the daemon and the server being measured
  # (about 5% of a run's CPU on 2 cores). The rate itself comes from the database's timestamps.
  coproc WATCH { pg_psql -tAq "$url" 2>&1; }
  while :; do
    local n
    echo "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0;" >&"${WATCH[1]}"
    read -r n <&"${WATCH[0]}"
    [ "$n" -ge "$want" ] && break
    kill -0 "$DAEMON_PID" || { cat "$GRIDLOOP_RUN_DIR/$group.log" >&2; exit 1; }
    sleep 0.5
  done
  eval "exec ${WATCH[1]}>&-"; wait "$WATCH_PID" 2>/dev/null || true
  kill "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
  pg_psql -tAq "$url" -c "SELECT sum(next_offset), extract(epoch from max(updated_at) - (SELECT min(applied_at) FROM case_events))
            FROM consumer_offsets WHERE next_offset >= 0" | tr '|' ' '
}

# Prints the SQL that seeds N open ESTATE cases '12345:BN1'.. with their SLA clocks, assigned at
# T (epoch ms), spread over PARTITIONS partitions of the 12345 topic: the sign clock due at SIGN
# (an SQL expression of i, the case's number, in epoch ms; also its warning and the clock's
# next_due), the handle clock at HANDLE (epoch ms). The benchmarks write them straight into the
# tables: JSON by SQL, not by the daemon's writer (docs/BENCHMARKS.md).
#   open_cases_sql N T SIGN HANDLE PARTITIONS
open_cases_sql() {
  local n=$1 t=$2 sign=$3 handle=$4 partitions=$5
  cat <<SQL
INSERT INTO cases (case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_code,
                   category_name, accept_time, assigned_at, last_event_time, event_count, district_code)
SELECT '12345:BN' || i, '12345', 'BN' || i, 'DISPATCHED', 'ESTATE', 'E' || (i % 500), '物业服务中心', 'NORMAL', '0305',
       '物业管理/下水道堵塞', to_timestamp($t / 1000.0), to_timestamp($t / 1000.0), to_timestamp($t / 1000.0), 1, '340111'
FROM generate_series(1, $n) i;
INSERT INTO case_clocks (case_id, topic, partition, level, next_due, clock)
SELECT '12345:BN' || i, 'hotline.12345.workorders', i % $partitions, 'ESTATE', to_timestamp(d / 1000.0),
       jsonb_build_object('caseId', '12345:BN' || i, 'topic', 'hotline.12345.workorders', 'partition', i % $partitions,
         'level', 'ESTATE', 'assignment', 1, 'assignedAt', $t, 'platformAssigned', true,
         'sign', jsonb_build_object('kind', 'SIGN', 'limit', '2wh', 'stage', 0, 'deadline', d, 'warningAt', d, 'urges', 0),
         'handle', jsonb_build_object('kind', 'HANDLE', 'limit', '2wd', 'stage', 0, 'deadline', $handle, 'warningAt', $handle, 'urges', 0),
         'suspensions', '[]'::jsonb, 'escalations', 0, 'awaitingRedispatch', false, 'replied', false, 'closed', false)
FROM (SELECT i, ($sign)::bigint AS d FROM generate_series(1, $n) i) s;
SQL
}

# Builds the daemon and the development broker in release mode, with the Swift standard library
# linked statically as the Debian package ships it (scripts/release/package.sh: one release build serves
# the package, the soak run, the rolling upgrade and the benchmarks); sets `bin` to their directory.
build_release() {
  cd "$GRIDLOOP_ROOT"
  log "building (release)"
  swift build -c release --static-swift-stdlib --product gridloopd >/dev/null
  swift build -c release --static-swift-stdlib --product gridloop-broker >/dev/null
  bin=$(swift build -c release --show-bin-path)
}
