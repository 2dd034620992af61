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
# Usage: scripts/bench/bench-scorecard.sh [CASES] [RUNS]   (defaults 300000, 3)
. "$(dirname "$0")/../lib.sh"
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
pg_psql -q -v ON_ERROR_STOP=1 -v cases="$CASES" -f "$GRIDLOOP_ROOT/scripts/gen/gen_city_month.sql" "$GRIDLOOP_DATABASE_URL"
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
# The at-risk forecast over the same history (docs/FORECAST.md): the daemon's gauge (in the
# instance holding the analytics lease) makes the first every minute (the generated cases have no open clocks: it is the reading and
# estimating of the 90 days' handlings); the second is one instant of the backtest.
fc_ms=$(best "$daemon" forecast --within 1wd --json)
fa_ms=$(best "$daemon" forecast --at 2026-11-20T08:30:00+08:00 --within 8h --json)
echo "forecast --within 1wd (the gauge) $fc_ms ms"
echo "forecast --at (one instant)       $fa_ms ms"

