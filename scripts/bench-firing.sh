#!/usr/bin/env bash
# SLA firing benchmark. With OPEN open cases in PostgreSQL (seeded directly: cases and their
# clocks, spread over the 12345 topic's partitions), measures in one run
#   1. restart to ready: gridloopd started (after a graceful stop) until its partitions are assigned,
#      split into the group coordinator's part (joining the group until the assignment: on
#      librdkafka's mock cluster, a group whose last member left waits session.timeout.ms - 1 s,
#      an empty one 3 s; rdkafka_mock_cgrp.c) and gridloopd's own,
#   2. burst: BURST sign clocks at ESTATE due at the same instant T0; the time from T0 until
#      every resulting event (overdue + escalation, 2 per clock) is published to Kafka,
#   3. steady state: STEADY clocks due evenly over 20 s; p99 of (publication - due instant),
#   (publication: the Kafka timestamp of the event as a consumer of the outbound topics reads it;
#   the producer stamps it when the relay hands the event over)
#   4. gridloopd's peak RSS (VmHWM),
#   5. a naive baseline: one due clock per transaction (scan, mark, outbox row; one statement
#      each, no Kafka, no clock arithmetic: a generous baseline), over NAIVE clocks, and the
#      burst time it implies.
# Usage: scripts/bench-firing.sh [OPEN] [BURST] [STEADY] [NAIVE]
. "$(dirname "$0")/lib.sh"
OPEN=${1:-1000000}
BURST=${2:-100000}
STEADY=${3:-20000}
NAIVE=${4:-3000}
PARTITIONS=8
ensure_packages
build_release

new_run_dir
KCAT_PIDS=()
stop_bench() { local rc=$?; set +e; [ ${#KCAT_PIDS[@]} -gt 0 ] && kill "${KCAT_PIDS[@]}" 2>/dev/null; stop_all; exit $rc; }
trap stop_bench EXIT
start_postgres
start_broker "$bin/gridloop-broker" --partitions "$PARTITIONS"
# Consumers of the two outbound topics, from the start: each event's key (the case) and Kafka
# timestamp. They run throughout, as the development broker keeps only ~5 MB per partition.
for topic in gridloop.supervision gridloop.escalations; do
  kcat -C -q -u -b "$GRIDLOOP_KAFKA_BROKERS" -t "$topic" -o beginning -f '%k %T\n' >"$GRIDLOOP_RUN_DIR/published.$topic" 2>/dev/null &
  KCAT_PIDS+=($!)
done
daemon=${GRIDLOOPD:-$bin/gridloopd}  # another build to compare: GRIDLOOPD=path
"$daemon" migrate >/dev/null
q() { pg_psql -tAq "$GRIDLOOP_DATABASE_URL" -c "$1"; }
now_ms() { date +%s%3N; }

log "seeding $OPEN open cases with their clocks"
t=$(now_ms)
far=$(( t + 30 * 86400 * 1000 ))
psql -q "$GRIDLOOP_DATABASE_URL" <<SQL
INSERT INTO cases (case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_code,
                   category_name, accept_time, assigned_at, last_event_time, event_count, district_code)
SELECT '12345:BN' || i, '12345', 'BN' || i, 'DISPATCHED', 'ESTATE', 'E' || (i % 500), '物业服务中心', 'NORMAL', '0305',
       '物业管理/下水道堵塞', to_timestamp($t / 1000.0), to_timestamp($t / 1000.0), to_timestamp($t / 1000.0), 1, '340111'
FROM generate_series(1, $OPEN) i;
INSERT INTO case_clocks (case_id, topic, partition, level, next_due, clock)
SELECT '12345:BN' || i, 'hotline.12345.workorders', i % $PARTITIONS, 'ESTATE', to_timestamp($far / 1000.0),
       jsonb_build_object('caseId', '12345:BN' || i, 'topic', 'hotline.12345.workorders', 'partition', i % $PARTITIONS,
         'level', 'ESTATE', 'assignment', 1, 'assignedAt', $t, 'platformAssigned', true,
         'sign', jsonb_build_object('kind', 'SIGN', 'limit', '2wh', 'stage', 0, 'deadline', $far, 'warningAt', $far, 'urges', 0),
         'handle', jsonb_build_object('kind', 'HANDLE', 'limit', '2wd', 'stage', 0, 'deadline', $far, 'warningAt', $far, 'urges', 0),
         'suspensions', '[]'::jsonb, 'escalations', 0, 'awaitingRedispatch', false, 'replied', false, 'closed', false)
FROM generate_series(1, $OPEN) i;
ANALYZE cases; ANALYZE case_clocks;
-- As on a server that has run a while: a fresh cluster writes each new 16 MB WAL segment full
-- of zeroes before using it (about 2 s of the burst here); after this checkpoint the seeding's
-- segments are recycled instead. Pages first written after it still cost full-page images.
CHECKPOINT;
SQL
log "seeded in $(( ($(now_ms) - t) / 1000 )) s"

start_daemon() {
  GRIDLOOP_LOG_LEVEL=${BENCH_LOG_LEVEL:-info} "$daemon" run >>"$GRIDLOOP_RUN_DIR/gridloopd.log" 2>&1 &
  DAEMON_PID=$!
}
wait_ready() {  # prints ms from $1 until the log has $2 "partitions assigned" lines
  while [ "$(grep -c 'partitions assigned' "$GRIDLOOP_RUN_DIR/gridloopd.log")" -lt "$2" ]; do
    kill -0 "$DAEMON_PID" || { tail "$GRIDLOOP_RUN_DIR/gridloopd.log" >&2; exit 1; }
    sleep 0.02
  done
  echo $(( $(now_ms) - $1 ))
}

log "1/5 restart to ready"
s=$(now_ms); start_daemon; first_ready=$(wait_ready "$s" 1)
sleep 2
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true
s=$(now_ms); start_daemon; ready=$(wait_ready "$s" 2)
# Of which the group coordinator's part: from joining the group to the assignment.
group_wait=$(grep 'partitions assigned' "$GRIDLOOP_RUN_DIR/gridloopd.log" | sed -n 2p | sed 's/.*group_wait_ms=\([0-9]*\).*/\1/')
first_wait=$(grep 'partitions assigned' "$GRIDLOOP_RUN_DIR/gridloopd.log" | sed -n 1p | sed 's/.*group_wait_ms=\([0-9]*\).*/\1/')
sleep 3  # the intake has caught up with its (empty) partitions: its watermark is the wall clock

# Waits until at least $1 events of the seeded cases have been read from the outbound topics.
wait_published() {
  while :; do
    n=$(cat "$GRIDLOOP_RUN_DIR"/published.* | grep -c '^12345:BN' || true)
    [ "$n" -ge "$1" ] && break
    kill -0 "$DAEMON_PID" || { tail "$GRIDLOOP_RUN_DIR/gridloopd.log" >&2; exit 1; }
    sleep 0.5
  done
}

# CPU time so far (clock ticks) of gridloopd and of each PostgreSQL process, as "pid ticks" lines
# (gridloopd's pid first) in file $1.
cpu_snapshot() {
  { awk '{print $1, $14 + $15}' "/proc/$DAEMON_PID/stat"
    cat /proc/[0-9]*/stat 2>/dev/null | awk '$2 == "(postgres)" {print $1, $14 + $15}'; } >"$1"
}
# Milliseconds of CPU between two snapshots, as "gridloopd postgres": PostgreSQL counts the
# processes alive at both (its server processes and gridloopd's connections, not a short-lived
# autovacuum worker).
cpu_between() {
  awk -v hz="$(getconf CLK_TCK)" -v d="$DAEMON_PID" 'NR == FNR {t[$1] = $2; next}
    ($1 in t) {if ($1 == d) g = $2 - t[$1]; else p += $2 - t[$1]}
    END {printf "%d %d", g * 1000 / hz, p * 1000 / hz}' "$1" "$2"
}
wal_stats() { q "SELECT wal_records || ' records, ' || wal_fpi || ' full pages, ' || pg_size_pretty(wal_bytes) || ', checkpoints ' || (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) FROM pg_stat_wal"; }
log "2/5 burst: $BURST clocks due at the same instant"
log "WAL so far: $(wal_stats)"
# The clocks become due at t0; the UPDATE that makes them so must have committed by then, or
# the burst would be timed from an instant at which gridloopd could not yet see them: then it
# is timed from the commit instead, and the script says so.
t0=$(( $(now_ms) + 5000 ))
q "UPDATE case_clocks SET next_due = to_timestamp($t0 / 1000.0),
     clock = jsonb_set(jsonb_set(clock::jsonb, '{sign,deadline}', to_jsonb($t0::bigint)), '{sign,stage}', '1')
   WHERE case_id IN (SELECT '12345:BN' || i FROM generate_series(1, $BURST) i)" >/dev/null
committed=$(now_ms)
log "burst's clocks committed $(( t0 - committed )) ms before they fall due"
burst_start=$(( committed > t0 ? committed : t0 ))
cpu_snapshot "$GRIDLOOP_RUN_DIR/cpu.0"
want=$(( BURST * 2 ))
wait_published "$want"
cpu_snapshot "$GRIDLOOP_RUN_DIR/cpu.1"
read -r cpu_d cpu_p <<<"$(cpu_between "$GRIDLOOP_RUN_DIR/cpu.0" "$GRIDLOOP_RUN_DIR/cpu.1")"
# The events read so far, as (case number, Kafka timestamp).
load_published() {
  q "SET client_min_messages = warning; CREATE TABLE IF NOT EXISTS bench_published (case_id text, ts bigint); TRUNCATE bench_published" >/dev/null
  cat "$GRIDLOOP_RUN_DIR"/published.* | grep '^12345:BN' | pg_psql -q "$GRIDLOOP_DATABASE_URL" \
    -c "\\copy bench_published FROM STDIN (FORMAT text, DELIMITER ' ')"
}
log "WAL after the burst: $(wal_stats)"
load_published
burst=$(q "SELECT max(ts) - $burst_start FROM bench_published WHERE substr(case_id, 9)::int <= $BURST")

log "3/5 steady state: $STEADY clocks due evenly over 20 s"
t1=$(( $(now_ms) + 3000 ))
q "UPDATE case_clocks c SET next_due = to_timestamp(d / 1000.0),
     clock = jsonb_set(jsonb_set(clock::jsonb, '{sign,deadline}', to_jsonb(d)), '{sign,stage}', '1')
   FROM (SELECT '12345:BN' || i AS id, ($t1 + (i - $BURST - 1) * 20000 / $STEADY)::bigint AS d
         FROM generate_series($BURST + 1, $BURST + $STEADY) i) s WHERE c.case_id = s.id" >/dev/null
log "steady clocks committed $(( t1 - $(now_ms) )) ms before the first falls due"
want=$(( want + STEADY * 2 ))
wait_published "$want"
load_published
p99=$(q "SELECT round(percentile_cont(0.99) WITHIN GROUP (ORDER BY p.ts - extract(epoch from d.due) * 1000))
         FROM bench_published p JOIN (SELECT case_id, min(decided_at) AS due FROM sla_decisions GROUP BY case_id) d USING (case_id)
         WHERE substr(p.case_id, 9)::int BETWEEN $BURST + 1 AND $BURST + $STEADY")
rss=$(awk '/VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=

log "4/5 naive baseline: one clock per transaction, $NAIVE clocks"
# The naive firer scans by next_due alone: give it its own index (a generous baseline).
q "CREATE INDEX IF NOT EXISTS naive_due ON case_clocks (next_due) WHERE next_due IS NOT NULL" >/dev/null
lo=$(( BURST + STEADY + 1 )); hi=$(( BURST + STEADY + NAIVE ))
q "UPDATE case_clocks SET next_due = now() - interval '1 s'
   WHERE case_id IN (SELECT '12345:BN' || i FROM generate_series($lo, $hi) i)" >/dev/null
for _ in $(seq 1 "$NAIVE"); do
  echo "WITH due AS (SELECT case_id FROM case_clocks WHERE next_due <= now() ORDER BY next_due LIMIT 1 FOR UPDATE SKIP LOCKED),
  fired AS (UPDATE case_clocks c SET next_due = NULL FROM due WHERE c.case_id = due.case_id RETURNING c.case_id)
  INSERT INTO outbox (id, topic, payload, msg_header_names, msg_header_values) SELECT 'naive/' || case_id, 'gridloop.supervision', convert_to(case_id, 'UTF8'), '{}', '{}' FROM fired;"
done > "$GRIDLOOP_RUN_DIR/naive.sql"
s=$(now_ms)
psql -q "$GRIDLOOP_DATABASE_URL" -f "$GRIDLOOP_RUN_DIR/naive.sql" >/dev/null
naive_ms=$(( $(now_ms) - s ))
fired=$(q "SELECT count(*) FROM outbox WHERE id LIKE 'naive/%'")

naive_rate=$(awk -v n="$fired" -v ms="$naive_ms" 'BEGIN { printf "%.0f", n * 1000 / ms }')
naive_burst=$(awk -v b="$BURST" -v r="$naive_rate" 'BEGIN { printf "%.0f", b * 1000 / r }')
echo
echo "open cases                         $OPEN"
echo "restart to ready (first start)     $first_ready ms   (group coordinator $first_wait ms, gridloopd $(( first_ready - first_wait )) ms)"
echo "restart to ready (after SIGTERM)   $ready ms   (group coordinator $group_wait ms, gridloopd $(( ready - group_wait )) ms)   target ≤ 5000 ms"
echo "burst: $BURST clocks fired, $(( BURST * 2 )) events published   $burst ms   target ≤ 10000 ms"
echo "  CPU from the commit until all were read: gridloopd $cpu_d ms, PostgreSQL $cpu_p ms"
echo "steady state p99 due → published   $p99 ms              target ≤ 1000 ms"
echo "peak RSS (VmHWM)                   $(( rss / 1024 )) MB   target ≤ 200 MB"
echo "naive: $fired clocks, one per transaction, $naive_ms ms = $naive_rate clocks/s"
echo "naive burst of $BURST (extrapolated) $naive_burst ms   gridloopd is $(awk -v a="$naive_burst" -v b="$burst" 'BEGIN { printf "%.1f", a / b }')x faster"
