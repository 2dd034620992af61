#!/usr/bin/env bash
# gridloopd over TLS to PostgreSQL, tested (issue 28): a throwaway test CA signs a server
# certificate for localhost (CN and subjectAltName DNS:localhost, IP:127.0.0.1); a private
# PostgreSQL cluster serves it with ssl=on and accepts TCP connections only as `hostssl` (the
# role `gridloop`, with a password: read by gridloopd from database.passwordFile, never in the
# URL). Then, with GRIDLOOP_DATABASE_URL a libpq URL with sslmode and sslrootcert:
#   (a) verify-full against the test CA: `gridloopd migrate`, `gaps list`, `dlq list` and
#       `status` connect, and the server's log shows their sessions encrypted;
#   (b) verify-full against an unrelated CA: refused, exit status not 0, and the message
#       names the certificate problem (libpq: "certificate verify failed");
#   (c) sslmode=disable: refused by pg_hba.conf ("no pg_hba.conf entry ... no encryption").
#   (d) verify-full with the right CA but a host name the certificate does not name: refused.
#   scripts/check/test-pg-tls.sh          # GRIDLOOP_BIN_DIR: where gridloopd is (default: the debug build's)
. "$(dirname "$0")/../lib.sh"

PACKAGES+=(openssl)
# With GRIDLOOP_BIN_DIR set (scripts/test.sh, CI) the caller has installed what is needed.
[ -n "${GRIDLOOP_BIN_DIR:-}" ] || ensure_packages
cd "$GRIDLOOP_ROOT"
bin=${GRIDLOOP_BIN_DIR:-$(swift build --show-bin-path)}
[ -x "$bin/gridloopd" ] || { echo "test-pg-tls: no gridloopd in $bin (build it, or set GRIDLOOP_BIN_DIR)" >&2; exit 1; }
command -v openssl >/dev/null || { echo "test-pg-tls: openssl is needed" >&2; exit 1; }

new_run_dir
trap stop_all EXIT
trap 'exit 130' INT TERM

# --- certificates: a test CA, the server's certificate signed by it, and an unrelated CA ------
tls="$GRIDLOOP_RUN_DIR/tls"
mkdir -p "$tls"
log "creating a test CA, a server certificate for localhost, and an unrelated CA (openssl)"
new_ca() {  # new_ca NAME CN: NAME.key, NAME.pem
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 -days 2 \
    -subj "/CN=$2" -keyout "$tls/$1.key" -out "$tls/$1.pem" 2>>"$tls/openssl.log"
}
new_ca ca "gridloop test CA"
new_ca other-ca "unrelated test CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -sha256 \
  -subj "/CN=localhost" -keyout "$tls/server.key" -out "$tls/server.csr" 2>>"$tls/openssl.log"
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$tls/server.ext"
openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca.key" -CAcreateserial -sha256 -days 2 \
  -extfile "$tls/server.ext" -out "$tls/server.pem" 2>>"$tls/openssl.log"
openssl verify -CAfile "$tls/ca.pem" "$tls/server.pem" >/dev/null
openssl x509 -in "$tls/server.pem" -noout -ext subjectAltName | sed 's/^/    /' >&2
# PostgreSQL refuses a key file that others can read; it runs as postgres when we are root.
chmod 600 "$tls/server.key"
[ "$(id -u)" -eq 0 ] && chown postgres: "$tls/server.key" "$tls/server.pem"

# pg_hba.conf: the unix socket for the test's own administration (trust), TCP only with TLS.
cat >"$tls/pg_hba.conf" <<'EOF'
local   all  all                      trust
hostssl all  gridloop  127.0.0.1/32  scram-sha-256
hostssl all  gridloop  ::1/128       scram-sha-256
EOF

# --- the cluster: lib.sh's, with TLS on localhost ---------------------------------------------
PG_EXTRA_OPTS="-c listen_addresses=localhost -c ssl=on -c ssl_cert_file=$tls/server.pem -c ssl_key_file=$tls/server.key"
PG_EXTRA_OPTS+=" -c hba_file=$tls/pg_hba.conf -c password_encryption=scram-sha-256 -c log_connections=on"
export PG_EXTRA_OPTS
start_postgres
port=$PG_PORT
password=$(openssl rand -hex 16)
psql -q "$PG_ADMIN_URL" -v ON_ERROR_STOP=1 -v pw="$password" >/dev/null <<'SQL'
CREATE ROLE gridloop LOGIN PASSWORD :'pw';
CREATE DATABASE gridloop_tls OWNER gridloop;
SQL
printf '%s' "$password" >"$tls/database-password"
chmod 600 "$tls/database-password"
export GRIDLOOP_DATABASE_PASSWORD_FILE="$tls/database-password"
# status asks the brokers too; there is none here: a port nobody listens on.
export GRIDLOOP_KAFKA_BROKERS="127.0.0.1:$((port + 1))"
unset PGSSLMODE PGSSLROOTCERT PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE

url() {  # url SSLMODE [ROOTCERT [HOST]]
  local u="postgresql://gridloop@${3:-localhost}:$port/gridloop_tls?sslmode=$1"
  [ -n "${2:-}" ] && u+="&sslrootcert=$2"
  printf '%s' "$u"
}
# run_gridloopd OUT URL ARGS...: runs gridloopd with that database URL; its output (both streams)
# goes to OUT; returns its exit status.
run_gridloopd() {
  local out=$1 u=$2; shift 2
  local rc=0
  GRIDLOOP_DATABASE_URL="$u" timeout 60 "$bin/gridloopd" "$@" >"$out" 2>&1 || rc=$?
  return $rc
}
fail() { echo "test-pg-tls: FAIL: $*" >&2; exit 1; }
show() { sed 's/^/    | /' "$1" >&2; }

# --- (a) verify-full with the test CA ---------------------------------------------------------
good=$(url verify-full "$tls/ca.pem")
log "(a) sslmode=verify-full, sslrootcert = the test CA: $good"
for cmd in "migrate" "gaps list" "dlq list" "status --json"; do
  out="$GRIDLOOP_RUN_DIR/a.${cmd%% *}.out"
  t0=$(date +%s%N)
  # shellcheck disable=SC2086  # the command's words
  rc=0
  run_gridloopd "$out" "$good" $cmd || rc=$?
  [ "$rc" -eq 0 ] || { show "$out"; fail "gridloopd $cmd over verify-full TLS exited $rc"; }
  echo "    gridloopd $cmd: exit 0 ($(( ($(date +%s%N) - t0) / 1000000 )) ms)" >&2
done
show "$GRIDLOOP_RUN_DIR/a.migrate.out"
grep -q '"consumerGroup"' "$GRIDLOOP_RUN_DIR/a.status.out" || { show "$GRIDLOOP_RUN_DIR/a.status.out"; fail "status printed no JSON"; }
tables=$(psql -tAq "${PG_ADMIN_URL/\/postgres\?//gridloop_tls?}" -c \
  "SELECT count(*) FROM pg_tables WHERE tablename IN ('cases', 'consumer_offsets', 'outbox')")
[ "$tables" -eq 3 ] || fail "migrate over TLS did not create the schema ($tables of 3 tables)"
# Every TCP session of gridloopd was encrypted (log_connections: "... SSL enabled (protocol=...").
log_file="$GRIDLOOP_RUN_DIR/pg/server.log"
sessions=$(grep -c 'connection authorized: user=gridloop database=gridloop_tls application_name=gridloopd' "$log_file" || true)
encrypted=$(grep 'connection authorized: user=gridloop database=gridloop_tls application_name=gridloopd' "$log_file" | grep -c 'SSL enabled' || true)
[ "$sessions" -ge 4 ] && [ "$sessions" -eq "$encrypted" ] \
  || { grep 'connection authorized' "$log_file" >&2; fail "expected every gridloopd session encrypted: $encrypted of $sessions"; }
echo "    server log: $encrypted gridloopd sessions, all with $(grep -o 'SSL enabled (protocol=[^,]*' "$log_file" | sort -u | head -1 | sed 's/SSL enabled (//'), e.g.:" >&2
grep 'application_name=gridloopd' "$log_file" | grep 'SSL enabled' | head -1 | sed 's/^.*LOG: */    | /' >&2

# --- (b) verify-full with an unrelated CA -------------------------------------------------------
bad=$(url verify-full "$tls/other-ca.pem")
log "(b) sslmode=verify-full, sslrootcert = an unrelated CA: must be refused"
for cmd in "migrate" "gaps list"; do
  out="$GRIDLOOP_RUN_DIR/b.${cmd%% *}.out"
  rc=0
  # shellcheck disable=SC2086
  run_gridloopd "$out" "$bad" $cmd || rc=$?
  show "$out"
  [ "$rc" -ne 0 ] || fail "gridloopd $cmd with an unrelated CA exited 0"
  grep -q 'certificate verify failed' "$out" || fail "gridloopd $cmd exited $rc, but its message does not say 'certificate verify failed'"
  echo "    gridloopd $cmd: exit $rc, names the certificate problem" >&2
done

# --- (c) sslmode=disable -------------------------------------------------------------------------
plain=$(url disable)
log "(c) sslmode=disable: pg_hba.conf has no entry without TLS, must be refused"
out="$GRIDLOOP_RUN_DIR/c.migrate.out"
rc=0
run_gridloopd "$out" "$plain" migrate || rc=$?
show "$out"
[ "$rc" -ne 0 ] || fail "gridloopd migrate with sslmode=disable exited 0"
grep -q 'no pg_hba.conf entry for host' "$out" && grep -q 'no encryption' "$out" \
  || fail "gridloopd migrate exited $rc, but its message does not say 'no pg_hba.conf entry ... no encryption'"
echo "    gridloopd migrate: exit $rc, refused by pg_hba.conf" >&2

# --- (d) verify-full with the right CA, a host name the certificate does not name ---------------
# 127.0.0.2 is the loopback too, and the server listens on 127.0.0.1 only: connect to 127.0.0.1
# under a name the certificate lacks instead (hostaddr keeps the address, host is what is checked).
misnamed="$good&hostaddr=127.0.0.1"
misnamed=${misnamed/@localhost:/@gridloop-db.invalid:}
log "(d) sslmode=verify-full, the test CA, host name gridloop-db.invalid (not in the certificate): must be refused"
out="$GRIDLOOP_RUN_DIR/d.migrate.out"
rc=0
run_gridloopd "$out" "$misnamed" migrate || rc=$?
show "$out"
[ "$rc" -ne 0 ] || fail "gridloopd migrate with a host name not in the certificate exited 0"
grep -qE 'does not match host name|server certificate for .* does not match' "$out" \
  || fail "gridloopd migrate exited $rc, but its message does not say the certificate does not match the host name"
echo "    gridloopd migrate: exit $rc, names the host name mismatch" >&2

log "PASS: gridloopd connects to PostgreSQL with sslmode=verify-full and refuses an unknown CA, a wrong host name and a plain connection"
