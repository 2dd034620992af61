#!/usr/bin/env bash
# Scorecard benchmark: a city's month generated directly in SQL (CASES cases, 10 events each:
# dispatches, signs, suspensions, extensions, replies, callbacks (unsatisfied, unreachable),
# reopenings, returns redispatched elsewhere, withdrawals; overdue decisions with their
# escalations and warnings), then, in the same run:
#   0. the catch-up: the first `report scorecard` after the generation recomputes the facts of
#      every case (`scorecard_handlings`, queued by the triggers as the rows went in), which the
#      daemon's scorecard worker otherwise does as the events arrive; reported, not compared;
#   and best of RUNS of
#   1. one sequential scan of the event history (`SELECT count(*), max(event_time) FROM case_events`),
#   2. `gridloopd report scorecard --month 2026-11 --json` (the whole command: start, policy,
#      connection, the query, ranking, JSON),
# and the ratio 2 / 1; then the at-risk forecast's two uses over the same history.
# Usage: scripts/bench-scorecard.sh [CASES] [RUNS]   (defaults 300000, 3)
. "$(dirname "$0")/lib.sh"
CASES=${1:-300000}
RUNS=${2:-3}
ensure_packages
build_release

new_run_dir
trap stop_all EXIT
start_postgres
daemon=${GRIDLOOPD:-$bin/gridloopd}  # another build to compare: GRIDLOOPD=path
# No broker: the report never reaches one.
export GRIDLOOP_KAFKA_BROKERS=127.0.0.1:1
"$daemon" migrate >/dev/null
now_ms() { date +%s%3N; }

log "generating $CASES cases and $((CASES * 10)) events"
t=$(now_ms)
pg_psql -q -v ON_ERROR_STOP=1 "$GRIDLOOP_DATABASE_URL" <<SQL
-- Case i: accepted in November 2026, at an estate unit of 3,000 (300 communities, 30 streets).
CREATE TEMP TABLE g AS
SELECT i, '12345:BS' || i AS case_id,
       timestamptz '2026-11-01 00:00:00+08' + (i % 29) * interval '1 day' + (i % 50000) * interval '1 second' AS t0,
       'E' || (i % 3000) AS estate, 'C' || (i % 300) AS community, 'S' || (i % 30) AS street
FROM generate_series(1, $CASES) i;

INSERT INTO cases (case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_code,
                   category_name, accept_time, assigned_at, last_event_time, event_count, district_code)
SELECT case_id, '12345', 'BS' || i,
       CASE WHEN i % 50 = 7 THEN 'WITHDRAWN' WHEN i % 4 = 0 THEN 'REPLIED' ELSE 'CLOSED' END,
       'ESTATE', estate, estate || '物业服务中心', 'NORMAL', '0305', '物业管理/下水道堵塞', t0, t0, t0 + interval '5 days',
       10, '340111'
FROM g;

-- Ten events per case; the k-th is types[k], varied by i: a return redispatched to the community
-- (i % 10 = 1), an unsatisfied callback reopened and replied again (i % 4 = 0), a withdrawal (i % 50 = 7).
INSERT INTO case_events (case_id, event_no, event_key, type, event_time, level, unit_code, result, satisfaction,
                         topic, partition, "offset")
SELECT g.case_id, k, g.case_id || '#' || k,
       CASE WHEN i % 10 = 1 AND k = 2 THEN 'RETURN' WHEN i % 10 = 1 AND k = 3 THEN 'REDISPATCH'
            WHEN i % 50 = 7 AND k = 10 THEN 'WITHDRAW'
            WHEN i % 4 = 0 AND k = 9 THEN 'REOPEN' WHEN i % 4 = 0 AND k = 10 THEN 'REPLY'
            ELSE (ARRAY['DISPATCH', 'SIGN', 'SUSPEND', 'RESUME', 'EXTEND_APPLY', 'EXTEND_APPROVE', 'REPLY', 'VISIT',
                        'SUSPEND', 'RESUME'])[k] END,
       g.t0 + (k - 1) * interval '7 hours',
       CASE WHEN k = 1 THEN 'ESTATE' WHEN i % 10 = 1 AND k = 3 THEN 'COMMUNITY' END,
       CASE WHEN k = 1 THEN g.estate WHEN i % 10 = 1 AND k = 3 THEN g.community ELSE g.estate END,
       CASE WHEN k IN (7, 10) THEN (ARRAY['RESOLVED', 'RESOLVED', 'RESOLVED', 'EXPLAINED'])[1 + i % 4] END,
       CASE WHEN k = 8 THEN CASE WHEN i % 4 = 0 THEN 'UNSATISFIED' WHEN i % 20 = 1 THEN 'UNREACHABLE'
                                 WHEN i % 7 = 2 THEN 'BASICALLY_SATISFIED' ELSE 'SATISFIED' END END,
       'hotline.12345.workorders', i % 16, i * 10 + k
FROM g CROSS JOIN generate_series(1, 10) k;

-- A fifth of the cases go sign-overdue at their estate and climb to the street (the overdue
-- decision and its escalation); a third get a warning.
INSERT INTO sla_decisions (id, case_id, type, level, to_level, clock, decided_at, deadline, topic, unit_code,
                           to_unit_code, to_unit_name, resolved_by)
SELECT case_id || '/a1/SIGN/overdue', case_id, 'gridloop.case.supervision.overdue', 'ESTATE', NULL, 'SIGN',
       t0 + interval '2 hours', t0 + interval '2 hours', 'gridloop.supervision', estate, NULL, NULL, NULL
FROM g WHERE i % 5 = 2
UNION ALL
SELECT case_id || '/a1/SIGN/escalated', case_id, 'gridloop.case.escalated', 'ESTATE', 'COMMUNITY', 'SIGN_OVERDUE',
       t0 + interval '2 hours', t0 + interval '2 hours', 'gridloop.escalations', estate, community,
       community || '居委会', 'LEARNED'
FROM g WHERE i % 5 = 2
UNION ALL
SELECT case_id || '/a1/HANDLE/warning', case_id, 'gridloop.case.supervision.warning', 'ESTATE', NULL, 'HANDLE',
       t0 + interval '30 hours', t0 + interval '48 hours', 'gridloop.supervision', estate, NULL, NULL, NULL
FROM g WHERE i % 3 = 0;
ANALYZE cases; ANALYZE case_events; ANALYZE sla_decisions;
CHECKPOINT;
SQL
log "generated in $(( ($(now_ms) - t) / 1000 )) s: $(pg_psql -tAq "$GRIDLOOP_DATABASE_URL" -c \
  "SELECT (SELECT count(*) FROM cases) || ' cases, ' || (SELECT count(*) FROM case_events) || ' events, ' ||
          (SELECT count(*) FROM sla_decisions) || ' decisions'")"

best() {  # best of RUNS wall-clock milliseconds of "$@" (output discarded)
  local b="" s e
  for _ in $(seq "$RUNS"); do
    s=$(now_ms)
    "$@" >/dev/null || { echo "failed: $*" >&2; exit 1; }
    e=$(( $(now_ms) - s ))
    if [ -z "$b" ] || [ "$e" -lt "$b" ]; then b=$e; fi
  done
  echo "$b"
}
t=$(now_ms)
"$daemon" report scorecard --month 2026-11 --json >/dev/null
catchup_ms=$(( $(now_ms) - t ))
scan_ms=$(best pg_psql -tAq "$GRIDLOOP_DATABASE_URL" -c "SELECT count(*), max(event_time) FROM case_events")
card_ms=$(best "$daemon" report scorecard --month 2026-11 --json)
rows=$("$daemon" report scorecard --month 2026-11 --csv | tail -n +2 | wc -l)
echo "cases $CASES   events $((CASES * 10))   scorecard rows $rows"
echo "catch-up: facts of every case   $catchup_ms ms (once; the daemon's scorecard worker does it as events arrive)"
echo "sequential scan of case_events   $scan_ms ms"
echo "report scorecard --month         $card_ms ms"
echo "scorecard / scan                 $(awk -v a="$card_ms" -v b="$scan_ms" 'BEGIN { printf "%.2f", a / b }') x"
# The at-risk forecast over the same history (docs/FORECAST.md): the daemon's forecast thread
# makes the first every minute (the generated cases have no open clocks: it is the reading and
# estimating of the 90 days' handlings); the second is one instant of the backtest.
fc_ms=$(best "$daemon" forecast --within 1wd --json)
fa_ms=$(best "$daemon" forecast --at 2026-11-20T08:30:00+08:00 --within 8h --json)
echo "forecast --within 1wd (the gauge) $fc_ms ms"
echo "forecast --at (one instant)       $fa_ms ms"

