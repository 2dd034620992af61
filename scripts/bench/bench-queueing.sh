#!/usr/bin/env bash
# How the scorecard's queue is fed, measured (docs/BENCHMARKS.md, "Queueing the scorecard"):
# the statement triggers on sla_decisions (migration 012: each INSERT statement queues the
# distinct cases of its rows in scorecard_dirty), against the batch queueing its cases itself
# (the trigger disabled, one INSERT ... ON CONFLICT of the batch's case ids in the same
# transaction), against no queueing at all (the floor: what the queue costs in all).
#
# The load is the firing's: CASES clocks fire, each an overdue and an escalation decision (two
# rows of sla_decisions), committed PAGE clocks a transaction as the firing commits its pages;
# all in one psql session on a fresh cluster, so what is timed is the server's work. The three
# ways take turns, ROUNDS times, each on new case ids and an empty queue after a CHECKPOINT.
# Prints each run's time and WAL, then the means and the ratios to the floor.
# Usage: scripts/bench/bench-queueing.sh [CASES] [PAGE] [ROUNDS]   (defaults 100000, 1000, 3)
. "$(dirname "$0")/../lib.sh"
CASES=${1:-100000}
PAGE=${2:-1000}
ROUNDS=${3:-3}
ensure_packages
if [ -n "${GRIDLOOP_BIN_DIR:-}" ]; then bin=$GRIDLOOP_BIN_DIR; else build_release; fi
new_run_dir
trap stop_all EXIT
start_postgres
"$bin/gridloopd" migrate >/dev/null
q() { pg_psql -tAq "$GRIDLOOP_DATABASE_URL" -c "$1"; }
now_ms() { date +%s%3N; }

# The SQL of one run: way $1 (trigger, batch, none), ids tagged $2.
run_sql() {
  local way=$1 tag=$2 p lo hi
  if [ "$way" = trigger ]; then
    echo "ALTER TABLE sla_decisions ENABLE TRIGGER sla_decisions_scorecard;"
  else
    echo "ALTER TABLE sla_decisions DISABLE TRIGGER sla_decisions_scorecard;"
  fi
  for ((p = 0; p < CASES / PAGE; p++)); do
    lo=$(( p * PAGE + 1 )); hi=$(( (p + 1) * PAGE ))
    echo "BEGIN;"
    echo "INSERT INTO sla_decisions (id, case_id, type, level, to_level, clock, decided_at, deadline, topic)
      SELECT '$tag/' || i || '/' || t, '12345:$tag' || i, t, 'ESTATE',
             CASE WHEN t = 'gridloop.case.escalated' THEN 'COMMUNITY' END,
             CASE WHEN t = 'gridloop.case.escalated' THEN 'SIGN_OVERDUE' ELSE 'SIGN' END, now(), now(),
             CASE WHEN t = 'gridloop.case.escalated' THEN 'gridloop.escalations' ELSE 'gridloop.supervision' END
      FROM generate_series($lo, $hi) i,
           unnest(ARRAY['gridloop.case.supervision.overdue', 'gridloop.case.escalated']) t;"
    if [ "$way" = batch ]; then
      echo "INSERT INTO scorecard_dirty (case_id) SELECT '12345:$tag' || i FROM generate_series($lo, $hi) i ORDER BY 1
            ON CONFLICT (case_id) DO UPDATE SET writes = scorecard_dirty.writes + 1;"
    fi
    echo "COMMIT;"
  done
  echo "ALTER TABLE sla_decisions ENABLE TRIGGER sla_decisions_scorecard;"
}

declare -A MS=() WAL=()
ways=(trigger batch none)
log "$ROUNDS rounds of $CASES fired clocks ($(( CASES * 2 )) decisions), $PAGE clocks a transaction, each way in turn"
for ((r = 1; r <= ROUNDS; r++)); do
  for way in "${ways[@]}"; do
    tag="Q$r${way:0:1}"
    run_sql "$way" "$tag" >"$GRIDLOOP_RUN_DIR/run.sql"
    q "TRUNCATE scorecard_dirty; CHECKPOINT" >/dev/null
    lsn0=$(q "SELECT pg_current_wal_insert_lsn()")
    s=$(now_ms)
    pg_psql -q -v ON_ERROR_STOP=1 "$GRIDLOOP_DATABASE_URL" -f "$GRIDLOOP_RUN_DIR/run.sql" >/dev/null
    ms=$(( $(now_ms) - s ))
    wal=$(q "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$lsn0')::bigint")
    queued=$(q "SELECT count(*) FROM scorecard_dirty")
    printf '  round %d  %-8s %7d ms  %6.1f MB WAL  %5.0f bytes a clock  %6d cases queued\n' \
      "$r" "$way" "$ms" "$(awk -v w="$wal" 'BEGIN { print w / 1048576 }')" "$(awk -v w="$wal" -v n="$CASES" 'BEGIN { print w / n }')" "$queued"
    MS[$way]=$(( ${MS[$way]:-0} + ms ))
    WAL[$way]=$(( ${WAL[$way]:-0} + wal ))
  done
done
echo
printf '  %-8s %10s %10s %18s %14s\n' way "mean ms" "÷ none" "WAL bytes a clock" "÷ none"
for way in "${ways[@]}"; do
  printf '  %-8s %10.0f %10.2f %18.0f %14.2f\n' "$way" "$(awk -v t="${MS[$way]}" -v r="$ROUNDS" 'BEGIN { print t / r }')" \
    "$(awk -v a="${MS[$way]}" -v b="${MS[none]}" 'BEGIN { print a / b }')" \
    "$(awk -v w="${WAL[$way]}" -v n="$CASES" -v r="$ROUNDS" 'BEGIN { print w / n / r }')" \
    "$(awk -v a="${WAL[$way]}" -v b="${WAL[none]}" 'BEGIN { print a / b }')"
done
