#!/usr/bin/env bash
# The at-risk forecast's backtest (docs/FORECAST.md): a generated history of UNITS estate units
# with different habits (July to October 2026, on the official calendars; see
# scripts/check/backtest_forecast.py), loaded into a fresh database; `gridloopd forecast --at T
# --within 8h --json` at 08:30 and 14:00 of every working day of September and October, from
# the history as it stood then; what then happened to each clock; the Brier score and a
# calibration table against two baselines computed in the same run. Fails unless the forecast
# beats both.
#   Usage: scripts/check/backtest-forecast.sh [UNITS] [SEED]   (defaults 40, 7)
. "$(dirname "$0")/../lib.sh"
UNITS=${1:-40}
SEED=${2:-7}
ensure_packages
if [ -n "${GRIDLOOP_BIN_DIR:-}" ]; then bin=$GRIDLOOP_BIN_DIR; else build_release; fi
daemon=${GRIDLOOPD:-$bin/gridloopd}

new_run_dir
trap stop_all EXIT
start_postgres
export GRIDLOOP_KAFKA_BROKERS=127.0.0.1:1  # no broker: the forecast never reaches one
"$daemon" migrate >/dev/null

work="$GRIDLOOP_RUN_DIR/backtest"
mkdir -p "$work/forecasts"
log "generating the history ($UNITS units, seed $SEED)"
python3 scripts/check/backtest_forecast.py generate --seed "$SEED" --units "$UNITS" --out "$work"
pg_psql -q -v ON_ERROR_STOP=1 "$GRIDLOOP_DATABASE_URL" <<SQL
\copy cases (case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_code, category_name, accept_time, assigned_at, last_event_time, event_count, district_code) FROM '$work/cases.tsv'
\copy case_events (case_id, event_no, event_key, type, event_time, level, unit_code, result, satisfaction, topic, partition, "offset") FROM '$work/events.tsv'
ANALYZE;
SQL

n=$(wc -l < "$work/instants.txt")
log "forecasting at $n instants"
while read -r at; do
  "$daemon" forecast --at "$at" --within 8h --json > "$work/forecasts/$at.json"
done < "$work/instants.txt"

# What happened: every handling's start, first sign, first reply and end (epoch ms).
pg_psql -q -v ON_ERROR_STOP=1 "$GRIDLOOP_DATABASE_URL" -c "\copy (SELECT case_id,
    (extract(epoch FROM began_at) * 1000)::bigint, (extract(epoch FROM signed_at) * 1000)::bigint,
    (extract(epoch FROM replied_at) * 1000)::bigint, (extract(epoch FROM ended_at) * 1000)::bigint
  FROM scorecard_handlings) TO '$work/handlings.csv' CSV"
python3 scripts/check/backtest_forecast.py score --handlings "$work/handlings.csv" --forecasts "$work/forecasts" \
  --habits "$work/habits.tsv"
