#!/usr/bin/env bash
# The soak run: two gridloopd instances in one consumer group under a steady live feed of both
# platforms (20 orders a second, bursts of three times that for 30 s every 5 minutes, 2% of the
# messages damaged, 1% sent twice; a day of an order's life in 30 s, a policy in seconds and
# minutes, so that clocks fire all the time), sampled every minute: RSS, file descriptors,
# PostgreSQL connections, intake lag, outbox backlog, oldest due timer, table sizes, the p99 of
# due-to-published. Writes soak.csv and soak.html to OUT_DIR and fails if a series rises after
# the warm-up beyond its tolerance (scripts/long/soak.py; docs/SOAK.md).
#   scripts/long/soak.sh DURATION [OUT_DIR]     # DURATION: 10m, 2h, 900 (seconds)
#   SOAK_RATE=20 SOAK_DAY=30 SOAK_WARMUP=600 SOAK_SEED=1 scripts/long/soak.sh 2h /tmp/soak
. "$(dirname "$0")/../lib.sh"

case "${1:-}" in
  *h) seconds=$(( ${1%h} * 3600 )) ;;
  *m) seconds=$(( ${1%m} * 60 )) ;;
  [0-9]*) seconds=$1 ;;
  *) echo "usage: scripts/long/soak.sh DURATION [OUT_DIR]   (DURATION: 10m, 2h or seconds)" >&2; exit 2 ;;
esac
out=${2:-$GRIDLOOP_ROOT/.build/soak}
mkdir -p "$out"
out=$(cd "$out" && pwd)
rate=${SOAK_RATE:-20}
# Warm-up: the cache fills with the open cases and the tables with their first rows in the first
# minutes (an order lives up to about 5 minutes here); default 3 minutes, or a tenth of a long run.
warmup=${SOAK_WARMUP:-$(( seconds / 10 > 180 ? seconds / 10 : 180 ))}

ensure_packages
build_release
new_run_dir
# Its own copies: a build during the run must not replace the binaries under the instances.
mkdir -p "$GRIDLOOP_RUN_DIR/bin" && cp "$bin/gridloopd" "$bin/gridloop-broker" "$GRIDLOOP_RUN_DIR/bin/"
bin=$GRIDLOOP_RUN_DIR/bin
extra_pids=()
cleanup() {
  local rc=$?
  set +e  # every step of the clean-up runs, whatever failed
  # Every child, the instances included: a bare `wait` on one left running never returns.
  for p in "${extra_pids[@]}" ${PID_B:-} ${DAEMON_PID:-}; do kill "$p" 2>/dev/null; done
  for p in "${extra_pids[@]}" ${PID_B:-} ${DAEMON_PID:-}; do wait "$p" 2>/dev/null; done
  DAEMON_PID=
  cp "$GRIDLOOP_RUN_DIR"/daemon-*.log "$out/" || echo "soak: could not keep the instances' logs" >&2
  stop_all
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_postgres
start_broker "$bin/gridloop-broker" --partitions 6
export GRIDLOOP_POLICY_FILE="$GRIDLOOP_ROOT/scripts/long/soak-policy.yaml" GRIDLOOP_HOLD_WAIT=5s GRIDLOOP_LOG_LEVEL=notice
# The forecast's history is 90 days of real time, which the soak's compressed days never fill:
# its cap on handlings stands for the full window, and is reached within the warm-up.
export GRIDLOOP_FORECAST_HISTORY_MAX=${SOAK_FORECAST_HISTORY_MAX:-4000}
"$bin/gridloopd" migrate >/dev/null

port_a=$((30000 + RANDOM % 10000)); port_b=$((port_a + 1))
GRIDLOOP_HTTP_LISTEN=127.0.0.1:$port_a "$bin/gridloopd" run >"$GRIDLOOP_RUN_DIR/daemon-a.log" 2>&1 &
DAEMON_PID=$!
GRIDLOOP_HTTP_LISTEN=127.0.0.1:$port_b "$bin/gridloopd" run >"$GRIDLOOP_RUN_DIR/daemon-b.log" 2>&1 &
PID_B=$!
log "two instances: A pid $DAEMON_PID (:$port_a), B pid $PID_B (:$port_b); logs in $out at the end"

# What subscribers see: every supervision and escalation event with the time it was produced.
for topic in gridloop.supervision gridloop.escalations; do
  kcat -C -q -u -b "$GRIDLOOP_KAFKA_BROKERS" -t "$topic" -o end -f '%T\t%s\n' >"$GRIDLOOP_RUN_DIR/published.$topic" 2>/dev/null &
  extra_pids+=($!)
done
mkfifo "$GRIDLOOP_RUN_DIR/feed.12345" "$GRIDLOOP_RUN_DIR/feed.12319"
kcat -P -b "$GRIDLOOP_KAFKA_BROKERS" -t hotline.12345.workorders -K $'\t' -z none <"$GRIDLOOP_RUN_DIR/feed.12345" &
extra_pids+=($!)
kcat -P -b "$GRIDLOOP_KAFKA_BROKERS" -t hotline.12319.cases -K $'\t' -z none <"$GRIDLOOP_RUN_DIR/feed.12319" &
extra_pids+=($!)
python3 "$GRIDLOOP_ROOT/scripts/long/soak_feed.py" --rate "$rate" --seconds "$seconds" --seed "${SOAK_SEED:-1}" --day "${SOAK_DAY:-30}" \
  --out12345 "$GRIDLOOP_RUN_DIR/feed.12345" --out12319 "$GRIDLOOP_RUN_DIR/feed.12319" 2>"$out/feed.log" &
extra_pids+=($!)

log "soaking for $seconds s at $rate orders a second (samples every minute: $out/soak.csv)"
python3 "$GRIDLOOP_ROOT/scripts/long/soak.py" sample --seconds "$seconds" --csv "$out/soak.csv" \
  --pids "$DAEMON_PID,$PID_B" --metrics "127.0.0.1:$port_a,127.0.0.1:$port_b" --db "$GRIDLOOP_DATABASE_URL" \
  --published "$GRIDLOOP_RUN_DIR/published.gridloop.supervision,$GRIDLOOP_RUN_DIR/published.gridloop.escalations" \
  2> >(tee "$out/samples.log" | sed -n 's/^soak sample: /  /p' >&2)

for p in "$DAEMON_PID" "$PID_B"; do
  kill -0 "$p" 2>/dev/null || { echo "an instance died during the soak run" >&2; cat "$GRIDLOOP_RUN_DIR"/daemon-*.log | tail -40 >&2; exit 1; }
done
psql -q "$GRIDLOOP_DATABASE_URL" -c "
  SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM case_events) AS events,
         (SELECT count(*) FROM sla_decisions) AS decisions, (SELECT count(*) FROM dead_letters) AS dead_letters,
         (SELECT count(*) FROM outbox) AS outbox_unsent"
psql -q "$GRIDLOOP_DATABASE_URL" -c "SELECT status, count(*) AS open_cases FROM cases WHERE status NOT IN ('CLOSED', 'WITHDRAWN') GROUP BY 1 ORDER BY 2 DESC"
grep -hE '"level":"(error|critical)"|level=(error|critical)| error | critical ' "$GRIDLOOP_RUN_DIR"/daemon-*.log | head -5 || true
python3 "$GRIDLOOP_ROOT/scripts/long/soak.py" report --csv "$out/soak.csv" --html "$out/soak.html" --warmup "$warmup"
