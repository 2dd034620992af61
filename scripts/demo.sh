#!/usr/bin/env bash
# The newcomer's first command: install what is missing, build, start a private PostgreSQL
# cluster and the development broker, migrate, run gridloopd, feed both platforms' sample
# feeds, and show what became of them. Ctrl-C stops everything.
#   scripts/demo.sh          # keeps the daemon running, its log on the terminal
#   scripts/demo.sh --once   # show the result and stop
. "$(dirname "$0")/lib.sh"
once=false
[ "${1:-}" = "--once" ] && once=true

ensure_packages
cd "$GRIDLOOP_ROOT"
log "building (debug)"
swift build --product gridloopd
swift build --product gridloop-broker
bin=$(swift build --show-bin-path)

new_run_dir
trap stop_all EXIT
trap 'exit 130' INT TERM
start_postgres
start_broker "$bin/gridloop-broker" --partitions 4
export GRIDLOOP_HOLD_WAIT=${GRIDLOOP_HOLD_WAIT:-5s}

log "migrating"
"$bin/gridloopd" migrate
log "starting gridloopd (log: $GRIDLOOP_RUN_DIR/gridloopd.log)"
"$bin/gridloopd" run >"$GRIDLOOP_RUN_DIR/gridloopd.log" 2>&1 &
DAEMON_PID=$!

log "feeding the sample feeds"
produce_file hotline.12345.workorders Tests/GridloopCoreTests/Fixtures/12345-sample.kafka
produce_file hotline.12319.cases Tests/GridloopCoreTests/Fixtures/12319-sample.kafka
total=$(( $(wc -l < Tests/GridloopCoreTests/Fixtures/12345-sample.kafka) + $(wc -l < Tests/GridloopCoreTests/Fixtures/12319-sample.kafka) ))

log "waiting until all $total messages are committed and no event is held"
for _ in $(seq 1 600); do
  done_count=$(psql -tAq "$GRIDLOOP_DATABASE_URL" -c \
    "SELECT coalesce(sum(next_offset),0) FROM consumer_offsets WHERE next_offset >= 0" 2>/dev/null || echo 0)
  held=$(psql -tAq "$GRIDLOOP_DATABASE_URL" -c "SELECT count(*) FROM held_events" 2>/dev/null || echo 1)
  [ "$done_count" -ge "$total" ] && [ "$held" -eq 0 ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$GRIDLOOP_RUN_DIR/gridloopd.log"; exit 1; }
  sleep 0.2
done

log "cases by status and level"
psql -q "$GRIDLOOP_DATABASE_URL" -c "
  SELECT source, status, level, count(*) AS cases FROM cases GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
psql -q "$GRIDLOOP_DATABASE_URL" -c "
  SELECT (SELECT count(*) FROM case_events) AS events_applied,
         (SELECT count(*) FROM dead_letters) AS dead_letters,
         (SELECT count(*) FROM skipped_messages) AS skipped,
         (SELECT count(*) FROM outbox) AS outbox_unsent"
log "SLA decisions (supervision and escalation events; built-in policy, event time)"
for _ in $(seq 1 50); do
  unsent=$(psql -tAq "$GRIDLOOP_DATABASE_URL" -c "SELECT count(*) FROM outbox" 2>/dev/null || echo 1)
  [ "$unsent" -eq 0 ] && break
  sleep 0.2
done
psql -q "$GRIDLOOP_DATABASE_URL" -c "
  SELECT type, level, coalesce(to_level, '') AS to_level, count(*) AS events
  FROM sla_decisions GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
psql -q "$GRIDLOOP_DATABASE_URL" -c "
  SELECT (SELECT count(*) FROM sla_decisions d WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = d.id)) AS events_published,
         (SELECT count(*) FROM outbox) AS outbox_unsent"
log "dead letters"
"$bin/gridloopd" dlq list --limit 20
first=$(psql -tAq "$GRIDLOOP_DATABASE_URL" -c "SELECT case_id FROM cases ORDER BY event_count DESC, case_id LIMIT 1")
log "one case: gridloopd case show $first"
"$bin/gridloopd" case show "$first"
log "gridloopd status"
"$bin/gridloopd" status
report="${TMPDIR:-/tmp}/gridloop-721.html"
log "gridloopd report 721 (the sample feeds' days; HTML page: $report)"
"$bin/gridloopd" report 721 --from 2026-11-20 --to 2026-12-31 --by street --html "$report"
log "health and a few metrics from http://127.0.0.1:9464"
python3 - <<'PY'
import urllib.request, urllib.error
base = "http://127.0.0.1:9464"
for path in ("/healthz", "/readyz"):
    try:
        with urllib.request.urlopen(base + path, timeout=5) as r: print(f"  {path}: {r.status} {r.read().decode().strip()}")
    except urllib.error.HTTPError as e: print(f"  {path}: {e.code} {e.read().decode().strip()}")
    except OSError as e: print(f"  {path}: {e}")
try:
    text = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    for line in text.splitlines():
        if line.startswith(("gridloop_intake_messages_total", "gridloop_escalations_total", "gridloop_unit_resolutions_total", "gridloop_outbox_published_total")): print("  " + line)
except OSError as e: print(f"  /metrics: {e}")
PY

scorecard="${TMPDIR:-/tmp}/gridloop-scorecard.html"
log "gridloopd report scorecard: the demo month's estate units (评议; every level on the page: $scorecard)"
"$bin/gridloopd" report scorecard --month 2026-11 --html "$scorecard" >/dev/null
"$bin/gridloopd" report scorecard --month 2026-11 --level ESTATE

if $once; then exit 0; fi
log "gridloopd is running; its log follows. Ctrl-C stops the daemon, the broker and PostgreSQL."
echo "   (in another terminal: GRIDLOOP_DATABASE_URL='$GRIDLOOP_DATABASE_URL' $bin/gridloopd case show $first)"
tail -f "$GRIDLOOP_RUN_DIR/gridloopd.log" &
wait "$DAEMON_PID"
