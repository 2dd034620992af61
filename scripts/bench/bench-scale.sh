#!/usr/bin/env bash
# Memory scale benchmark: gridloopd's peak RSS (VmHWM) with N open cases and every analytics
# worker on (scorecard worker, at-risk gauge, morning digest), for each N of SIZES.
#
# Why: the daemon's memory must be bounded by its configuration (cache sizes, pages, the
# forecast's historyMaxHandlings), not by the number of open cases; target ≤ 200 MB with
# 1,000,000 open cases, and about the same figure at every size ("level": the ratio of the
# largest size's RSS to the smallest's close to 1).
#
# For each N, on a fresh database scale_N of one PostgreSQL cluster (one development broker,
# 8 partitions, a consumer group of its own):
#   - N open cases and their clocks, seeded in SQL as bench-firing.sh does, every sign deadline
#     (its warningAt, and the clock's next_due) spread over the next 2 to 6 hours: open, not due
#     during the run, and inside the at-risk gauge's window (to the end of the working day in
#     Asia/Shanghai, so at least the rest of today; the spread is squeezed to end before
#     midnight there, and the script warns when under 30 minutes of today remain);
#   - a history for the forecast: min(N, 200000) handlings in scorecard_handlings (level ESTATE,
#     units E0..E499 like the open cases, begun within the last 60 days, most signed, replied
#     to and ended), on closed cases of their own (the forecast joins `cases`; a queued case's
#     handlings are recomputed from its events, which the seeded open cases have not);
#   - work for the scorecard worker: min(N, 20000) open cases queued in scorecard_dirty, each
#     with its DISPATCH event so that the recomputation has a timeline to read.
# Then gridloopd runs (GRIDLOOP_HTTP_LISTEN on a free local port) until /metrics shows
# gridloop_analytics_rounds_total{task="gauge"} ≥ 1 and scorecard_dirty is empty (at most
# BENCH_SCALE_TIMEOUT s, default 600; it fails if gridloopd exits), its VmHWM is read, it is
# stopped (SIGTERM) and the database dropped. It prints a table (open cases, history handlings,
# queued cases, seconds from start until the first gauge round was counted and how long that
# round took (gridloop_analytics_round_seconds), peak RSS MB, and a note when the wait timed
# out, a round failed or clocks fell due) and the ratio of the largest size's peak RSS to the
# smallest's.
#
# Usage: scripts/bench/bench-scale.sh [SIZES...]   (default 10000 100000 1000000)
# GRIDLOOPD=path runs another build (an older one ignores the GRIDLOOP_ANALYTICS_* switches and
# may not count rounds: then the wait ends at the timeout); GRIDLOOP_BIN_DIR=dir takes gridloopd
# and gridloop-broker from dir instead of building.
. "$(dirname "$0")/../lib.sh"
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(10000 100000 1000000)
for n in "${SIZES[@]}"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [SIZES...]: '$n' is not a positive number of cases" >&2; exit 2; }
done
PARTITIONS=8
TIMEOUT=${BENCH_SCALE_TIMEOUT:-600}
ensure_packages
if [ -n "${GRIDLOOP_BIN_DIR:-}" ]; then bin=$GRIDLOOP_BIN_DIR; else build_release; fi

new_run_dir
trap stop_all EXIT
start_postgres
start_broker "$bin/gridloop-broker" --partitions "$PARTITIONS"
daemon=${GRIDLOOPD:-$bin/gridloopd}  # another build to compare: GRIDLOOPD=path
now_ms() { date +%s%3N; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# The value of the first sample of metric family $1 whose labels contain $2, from /metrics text
# on stdin; 0 when there is none.
metric() {
  awk -v name="$1" -v want="$2" 'index($0, name "{") == 1 && index($0, want) {
      sub(/^[^}]*\} */, ""); split($0, f, " "); v = f[1]; found = 1; exit }
    END { print found ? v : 0 }'
}

ROWS=()
measure() {
  local n=$1 db="scale_$1" url hist queued t far lo hi mid port logfile start first_gauge="" gauge_s="" rounds metrics left
  local rss at_risk fired note=""
  hist=$(( n < 200000 ? n : 200000 ))
  queued=$(( n < 20000 ? n : 20000 ))
  psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE $db" >/dev/null
  url="${GRIDLOOP_DATABASE_URL/\/gridloop\?//$db?}"
  GRIDLOOP_DATABASE_URL=$url "$daemon" migrate >/dev/null

  t=$(now_ms)
  far=$(( t + 30 * 86400 * 1000 ))
  hi=$(( t + 6 * 3600 * 1000 ))
  mid=$(TZ=Asia/Shanghai date -d 'tomorrow 00:00' +%s%3N)
  if [ $(( mid - 10 * 60 * 1000 )) -lt "$hi" ]; then hi=$(( mid - 10 * 60 * 1000 )); fi
  if [ $(( hi - t )) -lt $(( 30 * 60 * 1000 )) ]; then
    log "WARNING: under 30 minutes of today remain in Asia/Shanghai: the deadlines (2 to 6 hours ahead) may lie outside the gauge's window"
    hi=$(( t + 6 * 3600 * 1000 )); lo=$(( t + 2 * 3600 * 1000 ))
  else
    lo=$(( t + 2 * 3600 * 1000 ))
    if [ $(( t + (hi - t) / 2 )) -lt "$lo" ]; then lo=$(( t + (hi - t) / 2 )); fi
  fi
  log "size $n: seeding $n open cases (sign deadlines $(( (lo - t) / 60000 ))–$(( (hi - t) / 60000 )) min ahead), $hist history handlings, $queued queued cases"
  psql -q -v ON_ERROR_STOP=1 "$url" <<SQL
$(open_cases_sql "$n" "$t" "$lo + ((i::bigint * 7919) % $n) * ($hi - $lo) / $n" "$far" "$PARTITIONS")
-- The history: closed cases of their own, one handling each.
CREATE TEMP TABLE h AS
SELECT j, began, began + ((j % 240) + 5) * 60000::bigint AS signed,
       began + ((j % 240) + 5) * 60000::bigint + ((j % 120) + 1) * 3600000::bigint AS replied,
       began + ((j % 240) + 5) * 60000::bigint + ((j % 120) + 1) * 3600000::bigint + ((j % 48) + 1) * 3600000::bigint AS ended
FROM (SELECT j, $t - 3600000 - (j::bigint * 7919 * 1000) % (59 * 86400000::bigint) AS began
      FROM generate_series(1, $hist) j) s;
INSERT INTO cases (case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_code,
                   category_name, accept_time, assigned_at, signed_at, replied_at, closed_at, last_event_time,
                   event_count, district_code)
SELECT '12345:BH' || j, '12345', 'BH' || j, CASE WHEN j % 10 <> 0 THEN 'CLOSED' WHEN j % 20 <> 0 THEN 'SIGNED' ELSE 'DISPATCHED' END,
       'ESTATE', 'E' || (j % 500), '物业服务中心', 'NORMAL', '0305', '物业管理/下水道堵塞',
       to_timestamp(began / 1000.0), to_timestamp(began / 1000.0),
       CASE WHEN j % 20 <> 0 THEN to_timestamp(signed / 1000.0) END,
       CASE WHEN j % 10 <> 0 THEN to_timestamp(replied / 1000.0) END,
       CASE WHEN j % 10 <> 0 THEN to_timestamp(ended / 1000.0) END,
       to_timestamp(greatest(began, CASE WHEN j % 10 <> 0 THEN ended ELSE began END) / 1000.0), 4, '340111'
FROM h;
INSERT INTO scorecard_handlings (case_id, began_at, level, unit_code, qr, evaluated, returned, returned_elsewhere,
                                 responded, response_base, on_time, on_time_base, overdue, escalated_away,
                                 resolution_base, resolved, callbacks, satisfied, replies, reopened,
                                 signed_at, replied_at, ended_at)
SELECT '12345:BH' || j, to_timestamp(began / 1000.0), 'ESTATE', 'E' || (j % 500), false, 1, 0, 0,
       (j % 20 <> 0)::int, 1, (j % 10 <> 0)::int, 1, (j % 7 = 0)::int, 0,
       (j % 10 <> 0)::int, (j % 10 <> 0)::int, (j % 10 <> 0)::int, (j % 10 <> 0 AND j % 9 <> 0)::int, (j % 10 <> 0)::int, 0,
       CASE WHEN j % 20 <> 0 THEN to_timestamp(signed / 1000.0) END,
       CASE WHEN j % 10 <> 0 THEN to_timestamp(replied / 1000.0) END,
       CASE WHEN j % 10 <> 0 THEN to_timestamp(ended / 1000.0) END
FROM h;
-- The scorecard worker's work: open cases with their DISPATCH event (the statement trigger
-- queues them), and queued in any case.
INSERT INTO case_events (case_id, event_no, event_key, type, event_time, level, unit_code, topic, partition, "offset")
SELECT '12345:BN' || i, 1, '12345:BN' || i || '#dispatch', 'DISPATCH', to_timestamp($t / 1000.0), 'ESTATE', 'E' || (i % 500),
       'hotline.12345.workorders', i % $PARTITIONS, i
FROM generate_series(1, $queued) i;
INSERT INTO scorecard_dirty (case_id) SELECT '12345:BN' || i FROM generate_series(1, $queued) i ON CONFLICT (case_id) DO NOTHING;
ANALYZE;
CHECKPOINT;
SQL
  log "size $n: seeded in $(( ($(now_ms) - t) / 1000 )) s"

  port=$(free_port)
  logfile="$GRIDLOOP_RUN_DIR/gridloopd-$n.log"
  start=$(now_ms)
  env GRIDLOOP_DATABASE_URL="$url" GRIDLOOP_CONSUMER_GROUP="bench-scale-$n" GRIDLOOP_HTTP_LISTEN="127.0.0.1:$port" \
    GRIDLOOP_ANALYTICS_SCORECARD=true GRIDLOOP_ANALYTICS_GAUGE=true GRIDLOOP_ANALYTICS_DIGEST=true \
    GRIDLOOP_LOG_LEVEL="${BENCH_LOG_LEVEL:-info}" "$daemon" run >>"$logfile" 2>&1 &
  DAEMON_PID=$!
  # One psql session for the queue's count, asked once a second.
  coproc WATCH { pg_psql -tAq "$url" 2>&1; }
  rounds=0
  while :; do
    kill -0 "$DAEMON_PID" 2>/dev/null || {
      tail -n 30 "$logfile" >&2; echo "gridloopd exited while measuring $n open cases (log above)" >&2; exit 1; }
    metrics=$(curl -fsS --max-time 5 "http://127.0.0.1:$port/metrics" 2>/dev/null || true)
    rounds=$(metric gridloop_analytics_rounds_total 'task="gauge"' <<<"$metrics")
    if awk -v r="$rounds" 'BEGIN { exit !(r >= 1) }'; then
      if [ -z "$first_gauge" ]; then
        first_gauge=$(( $(now_ms) - start ))
        # The last round's duration: the first one's, read before the second (a minute later).
        gauge_s=$(metric gridloop_analytics_round_seconds 'task="gauge"' <<<"$metrics")
      fi
      echo "SELECT count(*) FROM scorecard_dirty;" >&"${WATCH[1]}"
      read -r left <&"${WATCH[0]}"
      [ "$left" = 0 ] && break
    fi
    if [ $(( $(now_ms) - start )) -gt $(( TIMEOUT * 1000 )) ]; then
      echo "SELECT count(*) FROM scorecard_dirty;" >&"${WATCH[1]}"
      read -r left <&"${WATCH[0]}"
      note="not done in $TIMEOUT s: gauge rounds $rounds, $left cases still queued"
      log "size $n: $note"
      break
    fi
    sleep 0.5
  done
  rss=$(awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status")
  at_risk=$(metric gridloop_cases_at_risk 'level="ESTATE"' <<<"$metrics")
  eval "exec ${WATCH[1]}>&-"; wait "$WATCH_PID" 2>/dev/null || true
  kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID" || true; DAEMON_PID=
  fired=$(pg_psql -tAq "$url" -c "SELECT count(*) FROM sla_decisions")
  log "size $n: scorecard_handlings now $(pg_psql -tAq "$url" -c "SELECT count(*) FROM scorecard_handlings") rows (the history and the recomputed queued cases)"
  if [ "$fired" != 0 ]; then
    log "size $n: WARNING: $fired SLA decisions were taken during the run (clocks fell due)"
    note+="${note:+; }$fired clocks fell due"
  fi
  # A failed round counts as a round too: say so.
  if grep -q 'analytics: gauge round failed' "$logfile"; then
    log "size $n: WARNING: a gauge round failed: $(grep 'analytics: gauge round failed' "$logfile" | head -n 1)"
    note+="${note:+; }a gauge round FAILED (see the log)"
  fi
  log "size $n: peak RSS $(( rss / 1024 )) MB, first gauge round counted ${first_gauge:-?} ms after start (it took ${gauge_s:-?} s), expected breaches (ESTATE) $at_risk"
  psql -q "$PG_ADMIN_URL" -c "DROP DATABASE $db WITH (FORCE)" >/dev/null
  local gauge_at="-" gauge_took="-"
  [ -z "$first_gauge" ] || gauge_at=$(awk -v ms="$first_gauge" 'BEGIN { printf "%.1f s", ms / 1000 }')
  [ -z "$gauge_s" ] || gauge_took=$(awk -v s="$gauge_s" 'BEGIN { printf "%.2f s", s }')
  ROWS+=("$(printf '%12s %18s %8s %16s %14s %12s%s' "$n" "$hist" "$queued" "$gauge_at" "$gauge_took" "$(( rss / 1024 ))" "${note:+   ($note)}")")
  RSS_OF[$n]=$rss
}

declare -A RSS_OF=()
for n in "${SIZES[@]}"; do measure "$n"; done

echo
printf '%12s %18s %8s %16s %14s %12s\n' "open cases" "history handlings" "queued" "first gauge at" "it took" "peak RSS MB"
for r in "${ROWS[@]}"; do echo "$r"; done
small=; large=
for n in "${SIZES[@]}"; do
  if [ -z "$small" ] || [ "$n" -lt "$small" ]; then small=$n; fi
  if [ -z "$large" ] || [ "$n" -gt "$large" ]; then large=$n; fi
done
if [ "$small" != "$large" ]; then
  echo "peak RSS at $large ÷ at $small open cases: $(awk -v a="${RSS_OF[$large]}" -v b="${RSS_OF[$small]}" 'BEGIN { printf "%.2f", a / b }')   (level: close to 1; target ≤ 200 MB at 1000000)"
fi
