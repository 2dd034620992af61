#!/usr/bin/env bash
# What-if benchmark: a district's month (CASES cases, ten events each: scripts/gen/gen_city_month.sql),
# then, best of RUNS, `gridloopd whatif` over the whole month against a candidate policy (the
# default policy with every sign limit doubled), the whole command; it reports the share of its
# time spent reading the history against replaying it. Target (issue): 30,000 cases and about
# 250,000 events in at most 10 s on the 2-core machine.
#   Usage: scripts/bench/bench-whatif.sh [CASES] [RUNS]   (defaults 30000, 3)
. "$(dirname "$0")/../lib.sh"
CASES=${1:-30000}
RUNS=${2:-3}
ensure_packages
build_release

new_run_dir
trap stop_all EXIT
start_postgres
daemon=${GRIDLOOPD:-$bin/gridloopd}
export GRIDLOOP_KAFKA_BROKERS=127.0.0.1:1  # no broker: a replay never reaches one
"$daemon" migrate >/dev/null
log "generating $CASES cases and $((CASES * 10)) events"
pg_psql -q -v ON_ERROR_STOP=1 -v cases="$CASES" -f "$GRIDLOOP_ROOT/scripts/gen/gen_city_month.sql" "$GRIDLOOP_DATABASE_URL"
candidate="$GRIDLOOP_RUN_DIR/candidate.yaml"
sed -e 's/sign: 2wh/sign: 4wh/g' -e 's/sign: 4wh, handle: 5wd}/sign: 8wh, handle: 5wd}/' "$GRIDLOOP_ROOT/deploy/policy.yaml" > "$candidate"

best=""
for _ in $(seq "$RUNS"); do
  s=$(date +%s%3N)
  "$daemon" whatif --policy "$candidate" --from 2026-11-01 --to 2026-11-30 --until 2026-12-31T00:00:00+08:00 --json \
    > "$GRIDLOOP_RUN_DIR/run.json"
  e=$(( $(date +%s%3N) - s ))
  if [ -z "$best" ] || [ "$e" -lt "$best" ]; then best=$e; cp "$GRIDLOOP_RUN_DIR/run.json" "$GRIDLOOP_RUN_DIR/best.json"; fi
done
text_ms=""
for _ in $(seq "$RUNS"); do
  s=$(date +%s%3N)
  "$daemon" whatif --policy "$candidate" --from 2026-11-01 --to 2026-11-30 --until 2026-12-31T00:00:00+08:00 >/dev/null
  e=$(( $(date +%s%3N) - s ))
  if [ -z "$text_ms" ] || [ "$e" -lt "$text_ms" ]; then text_ms=$e; fi
done
python3 - "$best" "$GRIDLOOP_RUN_DIR/best.json" "$text_ms" <<'PY'
import json, sys
ms, w = int(sys.argv[1]), json.load(open(sys.argv[2]))
read, replay = w["readSeconds"], w["replaySeconds"]
print(f"cases {w['cases']}   events {w['events']}   differing {w['differing']}")
print(f"whatif, the whole command      {ms} ms (best of runs)")
print(f"  reading the history          {read:.3f} s ({read / (read + replay):.0%} of read + replay)")
print(f"  replaying, both policies     {replay:.3f} s ({replay / (read + replay):.0%})")
print(f"  the rest (start, policy, connection, JSON of every differing case)  {ms / 1000 - read - replay:.3f} s")
print(f"whatif, text (a sample of differing cases)  {sys.argv[3]} ms (best of runs)")
PY
