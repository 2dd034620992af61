#!/usr/bin/env bash
# SLA firing benchmark. With OPEN open cases in PostgreSQL (seeded directly: cases and their
# clocks, spread over the 12345 topic's partitions), measures in one run
#   1. restart to ready: gridloopd started (after a graceful stop) until its partitions are assigned,
#      split into the group coordinator's part (joining the group until the assignment: on
#      librdkafka's mock cluster, a group whose last member left waits session.timeout.ms - 1 s,
#      an empty one 3 s; rdkafka_mock_cgrp.c) and gridloopd's own,
#   2. burst, twice (BENCH_ANALYTICS=both, the default), on disjoint cases: once with the
#      analytics on (the daemon's defaults: scorecard worker, at-risk gauge, morning digest),
#      then, after a restart (SIGTERM, start, ready), once with them off
#      (GRIDLOOP_ANALYTICS_SCORECARD=false GRIDLOOP_ANALYTICS_GAUGE=false
#      GRIDLOOP_ANALYTICS_DIGEST=false); BENCH_ANALYTICS=on or off runs only that one. Each burst:
#      BURST sign clocks at ESTATE due at the same instant T0, after a CHECKPOINT (so both start
#      from the same full-page-image state); the time from T0 until every resulting event
#      (overdue + escalation, 2 per clock) is published to Kafka; the CPU of gridloopd and of
#      PostgreSQL over it; the WAL it wrote (pg_current_wal_insert_lsn differences), in all and
#      per fired clock; gridloopd's peak RSS (VmHWM) at its end. After the analytics-on burst,
#      until scorecard_dirty is empty again (at most BENCH_DRAIN_TIMEOUT s, default 300): the
#      time and the WAL of that deferred scorecard recomputation, per fired clock,
#   3. steady state, with the first burst's daemon: STEADY clocks due evenly over 20 s; p99 of
#      (publication - due instant),
#   (publication: the Kafka timestamp of the event as a consumer of the outbound topics reads it;
#   the producer stamps it when the relay hands the event over)
#   4. gridloopd's peak RSS (VmHWM) over each daemon's whole run (the highest is printed),
#   5. a naive baseline: one due clock per transaction (scan, mark, outbox row; one statement
#      each, no Kafka, no clock arithmetic: a generous baseline), over NAIVE clocks, and the
#      burst time it implies.
# Cases used: the first burst 1..BURST, steady BURST+1..BURST+STEADY, the second burst the next
# BURST, the naive baseline the next NAIVE; OPEN must hold them all. The analytics-off burst runs
# second (its decisions queue cases for the scorecard that nobody recomputes, and an "on" daemon
# after it would), so it meets a database that has had one burst more.
# Usage: scripts/bench/bench-firing.sh [OPEN] [BURST] [STEADY] [NAIVE]
# GRIDLOOPD=path runs another build (an older one ignores the GRIDLOOP_ANALYTICS_* switches);
# GRIDLOOP_BIN_DIR=dir takes gridloopd and gridloop-broker from dir instead of building.
. "$(dirname "$0")/../lib.sh"
OPEN=${1:-1000000}
BURST=${2:-100000}
STEADY=${3:-20000}
NAIVE=${4:-3000}
PARTITIONS=8
case ${BENCH_ANALYTICS:-both} in
  on) MODES=(on) ;;
  off) MODES=(off) ;;
  both) MODES=(on off) ;;
  *) echo "BENCH_ANALYTICS must be on, off or both (not '$BENCH_ANALYTICS')" >&2; exit 2 ;;
esac
DRAIN_TIMEOUT=${BENCH_DRAIN_TIMEOUT:-300}
# The cases of each part: bursts (in MODES' order) at BURST_LO[i]..BURST_LO[i]+BURST-1.
BURST_LO=(1 $(( BURST + STEADY + 1 )))
NAIVE_LO=$(( BURST * ${#MODES[@]} + STEADY + 1 ))
need=$(( NAIVE_LO + NAIVE - 1 ))
if [ "$OPEN" -lt "$need" ]; then
  echo "OPEN ($OPEN) is too small: ${#MODES[@]} burst(s) of $BURST, $STEADY steady and $NAIVE naive clocks need $need open cases" \
    "(BENCH_ANALYTICS=${BENCH_ANALYTICS:-both}; on or off alone needs one burst less)" >&2
  exit 2
fi
ensure_packages
if [ -n "${GRIDLOOP_BIN_DIR:-}" ]; then bin=$GRIDLOOP_BIN_DIR; else build_release; fi

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
{ open_cases_sql "$OPEN" "$t" "$far" "$far" "$PARTITIONS"; cat <<SQL
ANALYZE cases; ANALYZE case_clocks;
-- As on a server that has run a while: a fresh cluster writes each new 16 MB WAL segment full
-- of zeroes before using it (about 2 s of the burst here); after this checkpoint the seeding's
-- segments are recycled instead. Pages first written after it still cost full-page images.
CHECKPOINT;
SQL
} | psql -q "$GRIDLOOP_DATABASE_URL"
log "seeded in $(( ($(now_ms) - t) / 1000 )) s"

# Starts gridloopd with the analytics on (the daemon's defaults, as the environment has them) or
# off ($1).
start_daemon() {
  local switches=()
  [ "$1" = off ] && switches=(GRIDLOOP_ANALYTICS_SCORECARD=false GRIDLOOP_ANALYTICS_GAUGE=false GRIDLOOP_ANALYTICS_DIGEST=false)
  env "${switches[@]}" GRIDLOOP_LOG_LEVEL="${BENCH_LOG_LEVEL:-info}" "$daemon" run >>"$GRIDLOOP_RUN_DIR/gridloopd.log" 2>&1 &
  DAEMON_PID=$!
}
stop_daemon() { kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=; }
: >>"$GRIDLOOP_RUN_DIR/gridloopd.log"
wait_ready() {  # prints ms from $1 until the log has $2 "partitions assigned" lines
  local n
  while :; do
    n=$(grep -c 'partitions assigned' "$GRIDLOOP_RUN_DIR/gridloopd.log" || true)
    [ "${n:-0}" -ge "$2" ] && break
    kill -0 "$DAEMON_PID" || { tail "$GRIDLOOP_RUN_DIR/gridloopd.log" >&2; exit 1; }
    sleep 0.02
  done
  echo $(( $(now_ms) - $1 ))
}
group_wait_of() {  # the group_wait_ms of the $1th "partitions assigned" line
  grep 'partitions assigned' "$GRIDLOOP_RUN_DIR/gridloopd.log" | sed -n "${1}p" | sed 's/.*group_wait_ms=\([0-9]*\).*/\1/'
}
rss_kb() { awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status"; }

log "1/5 restart to ready (analytics ${MODES[0]})"
s=$(now_ms); start_daemon "${MODES[0]}"; first_ready=$(wait_ready "$s" 1)
sleep 2
stop_daemon
s=$(now_ms); start_daemon "${MODES[0]}"; ready=$(wait_ready "$s" 2)
starts=2
# Of which the group coordinator's part: from joining the group to the assignment.
group_wait=$(group_wait_of 2)
first_wait=$(group_wait_of 1)
sleep 3  # the intake has caught up with its (empty) partitions: its watermark is the wall clock

# Waits until at least $1 events of the seeded cases have been read from the outbound topics.
wait_published() {
  local n
  while :; do
    n=$(cat "$GRIDLOOP_RUN_DIR"/published.* | grep -c '^12345:BN' || true)
    [ "${n:-0}" -ge "$1" ] && break
    kill -0 "$DAEMON_PID" || { tail "$GRIDLOOP_RUN_DIR/gridloopd.log" >&2; exit 1; }
    sleep 0.5
  done
}

# CPU time so far (clock ticks) of gridloopd and of each PostgreSQL process, as "pid ticks" lines
# (gridloopd's pid first) in file $1. A process may exit between the glob and its read: cat
# then fails on that file (and says so, hidden), the others are read all the same.
cpu_snapshot() {
  { awk '{print $1, $14 + $15}' "/proc/$DAEMON_PID/stat"
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk '$2 == "(postgres)" {print $1, $14 + $15}'; } >"$1"
}
# Milliseconds of CPU between two snapshots, as "gridloopd postgres": PostgreSQL counts the
# processes alive at both (its server processes and gridloopd's connections, not a short-lived
# autovacuum worker).
cpu_between() {
  awk -v hz="$(getconf CLK_TCK)" -v d="$DAEMON_PID" 'NR == FNR {t[$1] = $2; next}
    ($1 in t) {if ($1 == d) g = $2 - t[$1]; else p += $2 - t[$1]}
    END {printf "%d %d", g * 1000 / hz, p * 1000 / hz}' "$1" "$2"
}
# gridloopd's CPU by thread (its threads are named: intake, intake-commit, relay, analytics, ...)
# in file $1, as "name ticks" lines; librdkafka's threads (rdk:*) together. With the pid and
# the name made one field, utime and stime are fields 13 and 14.
thread_snapshot() {
  { cat /proc/"$DAEMON_PID"/task/[0-9]*/stat 2>/dev/null || true; } \
    | sed 's/^[0-9]* (\([^)]*\)) /\1 /' | awk '{n = $1; if (n ~ /^rdk:/) n = "librdkafka"; t[n] += $13 + $14} END {for (n in t) print n, t[n]}' >"$1"
}
# Milliseconds of CPU of each thread between two thread snapshots, "name=ms" sorted by ms.
threads_between() {
  awk -v hz="$(getconf CLK_TCK)" 'NR == FNR {t[$1] = $2; next} {d = $2 - t[$1]; if (d > 0) printf "%s %d\n", $1, d * 1000 / hz}' "$1" "$2" \
    | sort -k2 -rn | awk '{printf "%s%s=%d", (NR > 1 ? " " : ""), $1, $2}'
}
wal_stats() { q "SELECT wal_records || ' records, ' || wal_fpi || ' full pages, ' || pg_size_pretty(wal_bytes) || ', checkpoints ' || (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) FROM pg_stat_wal"; }
wal_lsn() { q "SELECT pg_current_wal_insert_lsn()"; }
wal_between() { q "SELECT pg_wal_lsn_diff('$2', '$1')::bigint"; }
# The events read so far, as (case number, Kafka timestamp); complete lines only (a consumer
# may be writing the last one). Unlogged: the script's own table writes no WAL into the figures.
load_published() {
  q "SET client_min_messages = warning; CREATE UNLOGGED TABLE IF NOT EXISTS bench_published (case_id text, ts bigint); TRUNCATE bench_published" >/dev/null
  awk '/^12345:BN/ && NF == 2 && length($2) == 13 && $2 ~ /^[0-9]+$/' "$GRIDLOOP_RUN_DIR"/published.* \
    | pg_psql -q "$GRIDLOOP_DATABASE_URL" -c "\\copy bench_published FROM STDIN (FORMAT text, DELIMITER ' ')"
}

# What the WAL from LSN $1 to $2 was written for: pg_waldump's records, their total length (full
# page images included) summed by the relation of their first block (table or index name; "-"
# for records of no relation: commits, ...), the largest first, with the share of full-page
# images. Read before the next CHECKPOINT recycles the segments.
wal_by_relation() {
  local names="$GRIDLOOP_RUN_DIR/relnames"
  q "SELECT relfilenode, relname FROM pg_class WHERE relfilenode <> 0" | tr '|' ' ' >"$names"
  as_pg "$(pg_bin)/pg_waldump" -p "$PG_DATA/pg_wal" -s "$1" -e "$2" 2>/dev/null \
    | awk -v names="$names" -v n="$BURST" '
      BEGIN { while ((getline line < names) > 0) { split(line, f, " "); rel[f[1]] = f[2] } }
      {
        match($0, /len \(rec\/tot\): *[0-9]+\/ *[0-9]+/); split(substr($0, RSTART, RLENGTH), l, "/"); tot = l[3] + 0
        r = "-"
        if (match($0, /rel [0-9]+\/[0-9]+\/[0-9]+/)) { split(substr($0, RSTART + 4, RLENGTH - 4), id, "/"); r = (id[3] in rel) ? rel[id[3]] : id[3] }
        bytes[r] += tot; all += tot
        if ($0 ~ /FPW|FPI/) fpi[r] += tot
      }
      END { for (r in bytes) printf "%12d %7.0f %5.1f%% %5.0f%%  %s\n", bytes[r], bytes[r] / n, 100 * bytes[r] / all, 100 * fpi[r] / bytes[r], r }' \
    | sort -rn | head -14 | awk 'BEGIN { printf "%12s %7s %6s %5s  %s\n", "bytes", "a clock", "share", "FPI", "relation" } { print }'
}

# Figures of each burst, by mode (on, off).
declare -A B_THREADS=() B_RANGE=() B_MS=() B_CPU_D=() B_CPU_P=() B_WAL=() B_RSS=() DRAIN_MS=() DRAIN_WAL=() DRAIN_NOTE=() RSS_RUN=()
want=0
# Burst $2 (the mode of the running daemon) on the cases $3..$3+BURST-1; $1 names the step.
run_burst() {
  local step=$1 mode=$2 lo=$3 hi=$(( $3 + BURST - 1 )) t0 committed burst_start cpu_d cpu_p lsn0 lsn1 lsn2 left waited
  log "$step burst (analytics $mode): $BURST clocks due at the same instant (cases $lo..$hi)"
  q "CHECKPOINT" >/dev/null
  log "WAL so far: $(wal_stats)"
  # The clocks become due at t0; the UPDATE that makes them so must have committed by then, or
  # the burst would be timed from an instant at which gridloopd could not yet see them: then it
  # is timed from the commit instead, and the script says so.
  t0=$(( $(now_ms) + 5000 ))
  q "UPDATE case_clocks SET next_due = to_timestamp($t0 / 1000.0),
       clock = jsonb_set(jsonb_set(clock::jsonb, '{sign,deadline}', to_jsonb($t0::bigint)), '{sign,stage}', '1')
     WHERE case_id IN (SELECT '12345:BN' || i FROM generate_series($lo, $hi) i)" >/dev/null
  committed=$(now_ms)
  log "burst's clocks committed $(( t0 - committed )) ms before they fall due"
  burst_start=$(( committed > t0 ? committed : t0 ))
  cpu_snapshot "$GRIDLOOP_RUN_DIR/cpu.$mode.0"
  thread_snapshot "$GRIDLOOP_RUN_DIR/threads.$mode.0"
  lsn0=$(wal_lsn)
  want=$(( want + BURST * 2 ))
  wait_published "$want"
  cpu_snapshot "$GRIDLOOP_RUN_DIR/cpu.$mode.1"
  thread_snapshot "$GRIDLOOP_RUN_DIR/threads.$mode.1"
  B_THREADS[$mode]=$(threads_between "$GRIDLOOP_RUN_DIR/threads.$mode.0" "$GRIDLOOP_RUN_DIR/threads.$mode.1")
  lsn1=$(wal_lsn)
  read -r cpu_d cpu_p <<<"$(cpu_between "$GRIDLOOP_RUN_DIR/cpu.$mode.0" "$GRIDLOOP_RUN_DIR/cpu.$mode.1")"
  B_RSS[$mode]=$(rss_kb)
  log "WAL after the burst: $(wal_stats)"
  load_published
  B_RANGE[$mode]="$lo..$hi"
  B_MS[$mode]=$(q "SELECT max(ts) - $burst_start FROM bench_published WHERE substr(case_id, 9)::int BETWEEN $lo AND $hi")
  B_CPU_D[$mode]=$cpu_d
  B_CPU_P[$mode]=$cpu_p
  B_WAL[$mode]=$(wal_between "$lsn0" "$lsn1")
  wal_by_relation "$lsn0" "$lsn1" >"$GRIDLOOP_RUN_DIR/wal.$mode.burst"
  [ "$mode" = on ] || return 0
  # The scorecard recomputation the burst's decisions queued, left for after it.
  log "$step (analytics on): until scorecard_dirty is empty (at most $DRAIN_TIMEOUT s)"
  waited=0
  while :; do
    left=$(q "SELECT count(*) FROM scorecard_dirty")
    [ "$left" = 0 ] && break
    if [ "$waited" -ge "$DRAIN_TIMEOUT" ]; then
      DRAIN_NOTE[$mode]="did not drain in $DRAIN_TIMEOUT s: $left cases still queued"
      log "${DRAIN_NOTE[$mode]}"
      break
    fi
    kill -0 "$DAEMON_PID" || { tail "$GRIDLOOP_RUN_DIR/gridloopd.log" >&2; exit 1; }
    sleep 1; waited=$(( waited + 1 ))
  done
  lsn2=$(wal_lsn)
  DRAIN_MS[$mode]=$(( $(now_ms) - burst_start - ${B_MS[$mode]} ))
  DRAIN_WAL[$mode]=$(wal_between "$lsn1" "$lsn2")
  wal_by_relation "$lsn1" "$lsn2" >"$GRIDLOOP_RUN_DIR/wal.$mode.drain"
  log "WAL once drained: $(wal_stats)"
}

run_burst "2/5" "${MODES[0]}" "${BURST_LO[0]}"

log "3/5 steady state (analytics ${MODES[0]}): $STEADY clocks due evenly over 20 s"
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
RSS_RUN[${MODES[0]}]=$(rss_kb)
stop_daemon

if [ ${#MODES[@]} -gt 1 ]; then
  log "2/5 again: restart with the analytics ${MODES[1]}"
  s=$(now_ms); start_daemon "${MODES[1]}"; starts=$(( starts + 1 )); again_ready=$(wait_ready "$s" "$starts")
  log "ready in $again_ready ms (group coordinator $(group_wait_of "$starts") ms)"
  sleep 3
  run_burst "2/5 (second)" "${MODES[1]}" "${BURST_LO[1]}"
  RSS_RUN[${MODES[1]}]=$(rss_kb)
  stop_daemon
fi

log "4/5 naive baseline: one clock per transaction, $NAIVE clocks"
# The naive firer scans by next_due alone: give it its own index (a generous baseline).
q "CREATE INDEX IF NOT EXISTS naive_due ON case_clocks (next_due) WHERE next_due IS NOT NULL" >/dev/null
lo=$NAIVE_LO; hi=$(( NAIVE_LO + NAIVE - 1 ))
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

# The summary: the figures of the analytics off and on side by side ("-": not measured).
fig() { [ -n "${1:-}" ] && echo "$1 $2" || echo "-"; }
mb() { [ -n "${1:-}" ] && awk -v b="$1" -v d="$2" 'BEGIN { printf "%.0f MB", b / d }' || echo "-"; }
per_clock() { [ -n "${1:-}" ] && awk -v b="$1" -v n="$BURST" 'BEGIN { printf "%.0f bytes", b / n }' || echo "-"; }
ratio() { [ -n "${1:-}" ] && [ -n "${2:-}" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }' || echo ""; }
row() { printf '  %-42s %14s %14s %8s%s\n' "$1" "$2" "$3" "$4" "${5:+   $5}"; }
faster() { awk -v a="$naive_burst" -v b="$1" 'BEGIN { printf "%.1fx", a / b }'; }
peak=0
for m in "${MODES[@]}"; do [ "${RSS_RUN[$m]}" -gt "$peak" ] && peak=${RSS_RUN[$m]}; done
echo
echo "open cases                         $OPEN"
echo "restart to ready (first start)     $first_ready ms   (group coordinator $first_wait ms, gridloopd $(( first_ready - first_wait )) ms)"
echo "restart to ready (after SIGTERM)   $ready ms   (group coordinator $group_wait ms, gridloopd $(( ready - group_wait )) ms)   target ≤ 5000 ms"
echo "burst: $BURST clocks fired, $(( BURST * 2 )) events published (cases: analytics on ${B_RANGE[on]:--}, off ${B_RANGE[off]:--})"
row "" "analytics off" "analytics on" "on/off"
row "burst time (due instant → last published)" "$(fig "${B_MS[off]:-}" ms)" "$(fig "${B_MS[on]:-}" ms)" "$(ratio "${B_MS[on]:-}" "${B_MS[off]:-}")" "target ≤ 10000 ms"
echo "  CPU from the commit until all were read:"
row "  gridloopd" "$(fig "${B_CPU_D[off]:-}" ms)" "$(fig "${B_CPU_D[on]:-}" ms)" "$(ratio "${B_CPU_D[on]:-}" "${B_CPU_D[off]:-}")"
row "  PostgreSQL" "$(fig "${B_CPU_P[off]:-}" ms)" "$(fig "${B_CPU_P[on]:-}" ms)" "$(ratio "${B_CPU_P[on]:-}" "${B_CPU_P[off]:-}")"
cpu_sum() { if [ -n "${1:-}" ]; then echo $(( $1 + $2 )); fi; }
row "  both" "$(fig "$(cpu_sum "${B_CPU_D[off]:-}" "${B_CPU_P[off]:-}")" ms)" "$(fig "$(cpu_sum "${B_CPU_D[on]:-}" "${B_CPU_P[on]:-}")" ms)" \
  "$(ratio "$(cpu_sum "${B_CPU_D[on]:-}" "${B_CPU_P[on]:-}")" "$(cpu_sum "${B_CPU_D[off]:-}" "${B_CPU_P[off]:-}")")"
for m in off on; do
  [ -n "${B_THREADS[$m]:-}" ] && echo "    gridloopd by thread, analytics $m (ms): ${B_THREADS[$m]}"
done
row "WAL written by the burst" "$(mb "${B_WAL[off]:-}" 1048576)" "$(mb "${B_WAL[on]:-}" 1048576)" "$(ratio "${B_WAL[on]:-}" "${B_WAL[off]:-}")"
row "  per fired clock" "$(per_clock "${B_WAL[off]:-}")" "$(per_clock "${B_WAL[on]:-}")" ""
row "peak RSS (VmHWM) at the burst's end" "$(mb "${B_RSS[off]:-}" 1024)" "$(mb "${B_RSS[on]:-}" 1024)" ""
if [ -n "${DRAIN_MS[on]:-}" ]; then
  row "then until scorecard_dirty was empty" "" "$(fig "${DRAIN_MS[on]}" ms)" "" "${DRAIN_NOTE[on]:-}"
  row "  WAL of it (the deferred scorecard work)" "" "$(mb "${DRAIN_WAL[on]}" 1048576)" ""
  row "    per fired clock" "" "$(per_clock "${DRAIN_WAL[on]}")" ""
fi
for f in "$GRIDLOOP_RUN_DIR"/wal.*; do
  [ -s "$f" ] || continue
  case $f in
    *.on.burst) echo "  WAL of the burst by relation (analytics on):" ;;
    *.off.burst) echo "  WAL of the burst by relation (analytics off):" ;;
    *.on.drain) echo "  WAL of the deferred scorecard work by relation:" ;;
  esac
  sed 's/^/    /' "$f"
done
echo "steady state p99 due → published   $p99 ms (analytics ${MODES[0]})   target ≤ 1000 ms"
echo "peak RSS (VmHWM)                   $(mb "$peak" 1024)   target ≤ 200 MB   (the highest of the daemons' whole runs)"
echo "naive: $fired clocks, one per transaction, $naive_ms ms = $naive_rate clocks/s"
faster_line="naive burst of $BURST (extrapolated) $naive_burst ms   gridloopd is"
for m in "${MODES[@]}"; do faster_line+=" $(faster "${B_MS[$m]}") faster (analytics $m)"; done
echo "$faster_line"
