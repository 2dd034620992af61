#!/usr/bin/env bash
# The rolling upgrade, tested: two instances of the previous version (built here from the commit
# PREVIOUS of this repository's history) run in one consumer group under a live feed of both
# platforms, with a policy in seconds so that clocks fire all the time. The new build migrates
# the schema while they run (expand), then replaces one instance and, later, the other
# (SIGTERM, as `systemctl stop` does; the new one started in its place). At the end:
#   - every message fed is applied exactly once (no damaged or repeated messages are fed);
#   - every decision (warning, overdue, urge, escalation, resolution) is on its topic exactly
#     once, or still in the outbox; nothing is on a topic that was not decided;
#   - decisions were published in every phase (old+old, new+old, new+new);
#   - no clock is left due and unfired.
#   scripts/long/rolling-upgrade.sh [PREVIOUS]     # default: the commit named below
. "$(dirname "$0")/../lib.sh"
# The version before 0.29.0 (0.28.0, adbfa6a): what runs in production when 0.29.0 is rolled out;
# its instances run beside the new ones while migrations 017 (the scorecard's queue made
# unlogged) and 018 (sla_decisions' new columns, which it does not write: the new ones read
# its rows through `clock`) are applied. Name the commit of the release before when releasing
# the next one (0.19.0 was deb6bc2, 0.27.0 2fcbe60).
PREVIOUS=${1:-adbfa6a}
FEED_SECONDS=${ROLLING_FEED_SECONDS:-150}

ensure_packages
cd "$GRIDLOOP_ROOT"
build_release
new=$bin
# The previous version, from the repository's history, built once per commit (kept under .build).
prev_dir="$GRIDLOOP_ROOT/.build/previous/$(git rev-parse --short "$PREVIOUS")"
if [ ! -f "$prev_dir/src/Package.swift" ]; then
  mkdir -p "$prev_dir/src"
  git archive "$PREVIOUS" | tar -x -C "$prev_dir/src"
fi
log "building the previous version ($PREVIOUS, release)"
swift build -c release --static-swift-stdlib --product gridloopd --package-path "$prev_dir/src" \
  --scratch-path "$prev_dir/build" >/dev/null
old=$prev_dir/build/release/gridloopd

new_run_dir
pids=()
cleanup() {
  local rc=$?
  set +e  # every step of the clean-up runs, whatever failed
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  # Only these: a bare `wait` would wait for the broker too, which stop_all stops after.
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [ $rc -ne 0 ]; then tail -n 20 "$GRIDLOOP_RUN_DIR"/instance-*.log >&2 2>/dev/null; fi
  stop_all
  exit $rc
}
trap cleanup EXIT
start_postgres
start_broker "$new/gridloop-broker" --partitions 6
export GRIDLOOP_POLICY_FILE="$GRIDLOOP_ROOT/scripts/long/soak-policy.yaml" GRIDLOOP_HOLD_WAIT=5s GRIDLOOP_LOG_LEVEL=info
"$old" migrate >/dev/null

port=$((30000 + RANDOM % 10000))
# start_instance NAME BINARY: starts it on its own port; sets the variable NAME to its pid.
start_instance() {
  port=$((port + 1))
  GRIDLOOP_HTTP_LISTEN=127.0.0.1:$port "$2" run >"$GRIDLOOP_RUN_DIR/instance-$1.log" 2>&1 &
  pids+=($!)
  printf -v "$1" '%s' $!
  log "instance $1: $("$2" --version 2>/dev/null || echo previous) pid $! (:$port)"
}
# stop_instance PID NAME: SIGTERM, and its exit status must be 0 (a clean leave of the group).
stop_instance() {
  kill -TERM "$1"
  local rc=0
  wait "$1" || rc=$?
  [ "$rc" -eq 0 ] || { echo "instance $2 exited $rc on SIGTERM" >&2; exit 1; }
}
wait_assigned() {
  for _ in $(seq 1 600); do
    grep -q "partitions assigned" "$GRIDLOOP_RUN_DIR/instance-$1.log" && return 0
    sleep 0.1
  done
  echo "instance $1 was never assigned partitions" >&2; exit 1
}
phase_mark() { date +%s%3N >"$GRIDLOOP_RUN_DIR/phase.$1"; }

start_instance a_old "$old"
start_instance b_old "$old"
for topic in gridloop.supervision gridloop.escalations gridloop.outcomes; do
  kcat -C -q -u -b "$GRIDLOOP_KAFKA_BROKERS" -t "$topic" -o beginning -f '%T\t%s\n' >"$GRIDLOOP_RUN_DIR/published.$topic" 2>/dev/null &
  pids+=($!)
done
mkfifo "$GRIDLOOP_RUN_DIR/feed.12345" "$GRIDLOOP_RUN_DIR/feed.12319"
kcat -P -b "$GRIDLOOP_KAFKA_BROKERS" -t hotline.12345.workorders -K $'\t' -z none <"$GRIDLOOP_RUN_DIR/feed.12345" &
producer_a=$!
kcat -P -b "$GRIDLOOP_KAFKA_BROKERS" -t hotline.12319.cases -K $'\t' -z none <"$GRIDLOOP_RUN_DIR/feed.12319" &
producer_b=$!
python3 scripts/long/soak_feed.py --rate 10 --seconds "$FEED_SECONDS" --malformed 0 --resend 0 --burst-every 0 \
  --out12345 "$GRIDLOOP_RUN_DIR/feed.12345" --out12319 "$GRIDLOOP_RUN_DIR/feed.12319" 2>"$GRIDLOOP_RUN_DIR/feed.log" &
feeder=$!
phase_mark 1
log "phase 1: two instances of the previous version, feed running"
sleep $((FEED_SECONDS / 5))
log "the new build migrates the schema while the previous version runs (expand)"
"$new/gridloopd" migrate
sleep $((FEED_SECONDS / 10))

log "phase 2: replacing instance a"
stop_instance "$a_old" a_old
start_instance a_new "$new/gridloopd"
wait_assigned a_new
phase_mark 2
sleep $((FEED_SECONDS / 4))

log "phase 3: replacing instance b"
stop_instance "$b_old" b_old
start_instance b_new "$new/gridloopd"
wait_assigned b_new
phase_mark 3

wait "$feeder"
wait "$producer_a" "$producer_b"
sent=$(sed -n 's/.*done, [0-9]* orders, \([0-9]*\) messages sent.*/\1/p' "$GRIDLOOP_RUN_DIR/feed.log")
[ -n "$sent" ] || { cat "$GRIDLOOP_RUN_DIR/feed.log" >&2; exit 1; }
log "feed done: $sent messages; waiting until they are applied and no clock is left due"
settled=false
for _ in $(seq 1 600); do
  read -r applied due unsent < <(psql -tAq -F ' ' "$GRIDLOOP_DATABASE_URL" -c "
    SELECT (SELECT count(*) FROM case_events),
           (SELECT count(*) FROM case_clocks WHERE next_due < now() - interval '5 seconds'),
           (SELECT count(*) FROM outbox)")
  if [ "$applied" -ge "$sent" ] && [ "$due" -eq 0 ] && [ "$unsent" -eq 0 ]; then settled=true; break; fi
  # Every message consumed but not all applied: one was skipped or dead-lettered; say so below.
  [ "$(psql -tAq "$GRIDLOOP_DATABASE_URL" -c "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0")" -ge "$sent" ] \
    && [ "$due" -eq 0 ] && [ "$unsent" -eq 0 ] && { settled=true; break; }
  sleep 1
done
$settled || { echo "not settled: $applied of $sent applied, $due clocks overdue for firing, $unsent unsent" >&2; exit 1; }
stop_instance "$a_new" a_new
stop_instance "$b_new" b_new
sleep 3  # the consumers read the last publications

psql -tAq "$GRIDLOOP_DATABASE_URL" -c "SELECT id FROM sla_decisions" >"$GRIDLOOP_RUN_DIR/decided"
psql -tAq "$GRIDLOOP_DATABASE_URL" -c "SELECT id FROM outbox" >"$GRIDLOOP_RUN_DIR/unsent"
psql -tAq -F ' ' "$GRIDLOOP_DATABASE_URL" -c "SELECT (SELECT count(*) FROM case_events), (SELECT count(*) FROM dead_letters),
  (SELECT count(*) FROM held_events) + (SELECT count(*) FROM skipped_messages),
  (SELECT count(*) FROM case_clocks WHERE next_due < now() - interval '10 seconds')" \
  >"$GRIDLOOP_RUN_DIR/counts"
python3 - "$GRIDLOOP_RUN_DIR" "$sent" <<'PY'
import collections, glob, json, sys
run, sent = sys.argv[1], int(sys.argv[2])
decided = set(open(f"{run}/decided").read().split())
unsent = set(open(f"{run}/unsent").read().split())
applied, dead, held, overdue = map(int, open(f"{run}/counts").read().split())
phases = [int(open(f"{run}/phase.{i}").read()) for i in (1, 2, 3)]
seen = collections.Counter()
per_phase = [0, 0, 0]
for path in glob.glob(f"{run}/published.*"):
    for line in open(path, encoding="utf-8"):
        ts, _, value = line.rstrip("\n").partition("\t")
        ev = json.loads(value)
        seen[ev["id"]] += 1
        per_phase[sum(1 for p in phases[1:] if int(ts) >= p)] += 1
problems = []
if applied != sent: problems.append(f"{sent} messages fed, {applied} events applied")
if dead or held: problems.append(f"{dead} dead letters and {held} held or skipped events (none expected)")
if overdue: problems.append(f"{overdue} clocks left due and unfired")
twice = [i for i, n in seen.items() if n > 1]
if twice: problems.append(f"{len(twice)} events published more than once, e.g. {twice[:3]}")
stray = set(seen) - decided
if stray: problems.append(f"{len(stray)} events on the topics that were never decided, e.g. {sorted(stray)[:3]}")
lost = decided - set(seen) - unsent
if lost: problems.append(f"{len(lost)} decisions neither published nor in the outbox, e.g. {sorted(lost)[:3]}")
names = ["previous + previous", "new + previous", "new + new"]
for name, n in zip(names, per_phase):
    if n == 0: problems.append(f"no event published while {name} ran")
print(f"rolling upgrade: {sent} messages fed, {applied} applied; {len(decided)} decisions, "
      f"{sum(seen.values())} publications ({len(unsent)} still in the outbox); published per phase: "
      + ", ".join(f"{name} {n}" for name, n in zip(names, per_phase)))
for p in problems: print("rolling upgrade: PROBLEM: " + p)
sys.exit(1 if problems else 0)
PY
log "rolling upgrade from $PREVIOUS: every message applied once, every decision published once"
