#!/usr/bin/env bash
# Alternating A/B of two gridloopd builds on the intake benchmark's feed: each run on a fresh
# PostgreSQL cluster and development broker (a cluster that has served a run autovacuums its
# tables during the next one), A and B taking turns, so that a drift of the machine's speed
# hits both alike. Prints each run's durable intake rate (as bench-intake.sh measures it) and
# the means.
#   Usage: scripts/bench/bench-intake-ab.sh A_GRIDLOOPD B_GRIDLOOPD [N] [PAIRS]
# Make the two binaries with e.g.
#   git stash; swift build -c release --product gridloopd; cp .build/release/gridloopd /tmp/a
#   git stash pop; swift build -c release --product gridloopd; cp .build/release/gridloopd /tmp/b
# Environment variables (GRIDLOOP_SLA_ENABLED=false, ...) reach both daemons.
. "$(dirname "$0")/../lib.sh"
A=${1:?usage: $0 A_GRIDLOOPD B_GRIDLOOPD [N] [PAIRS]}
B=${2:?usage: $0 A_GRIDLOOPD B_GRIDLOOPD [N] [PAIRS]}
N=${3:-100000}
PAIRS=${4:-3}
ensure_packages
build_release  # the development broker

feed_dir=$(mktemp -d "${TMPDIR:-/tmp}/gridloop-ab.XXXXXX")
trap 'rm -rf "$feed_dir"' EXIT
orders=$(( N / 2 * 100 / 430 ))
python3 scripts/gen/gen_feed.py --platform 12345 --orders "$orders" --seed 11 --resend 0.02 --malformed 0.005 > "$feed_dir/a.kafka"
python3 scripts/gen/gen_feed.py --platform 12319 --orders "$orders" --seed 12 --resend 0.02 --malformed 0.005 > "$feed_dir/b.kafka"
total=$(( $(wc -l < "$feed_dir/a.kafka") + $(wc -l < "$feed_dir/b.kafka") ))

# One run of one binary on a fresh cluster; prints messages/s.
run_once() (
  daemon=$1
  new_run_dir
  trap stop_all EXIT
  start_postgres 2>/dev/null
  start_broker "$bin/gridloop-broker" --partitions 16 2>/dev/null
  produce_file hotline.12345.workorders "$feed_dir/a.kafka"
  produce_file hotline.12319.cases "$feed_dir/b.kafka"
  read -r m secs < <(GRIDLOOPD=$daemon run_daemon bench ab "$total")
  python3 -c "print(round($m / $secs))"
)

log "$PAIRS pairs of runs, $total messages each"
ra=(); rb=()
for i in $(seq 1 "$PAIRS"); do
  a=$(run_once "$A"); echo "A $a messages/s"; ra+=("$a")
  b=$(run_once "$B"); echo "B $b messages/s"; rb+=("$b")
done
python3 - "${ra[*]}" "${rb[*]}" <<'PY'
import sys
a = [float(x) for x in sys.argv[1].split()]
b = [float(x) for x in sys.argv[2].split()]
ma, mb = sum(a) / len(a), sum(b) / len(b)
print(f"mean A {ma:,.0f}   mean B {mb:,.0f}   B / A {mb / ma:.2f}   (B ahead in {sum(y > x for x, y in zip(a, b))} of {len(a)} pairs)")
PY
