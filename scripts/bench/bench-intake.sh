#!/usr/bin/env bash
# Intake benchmark: produces N generated messages (half 12345, half 12319, with resends and
# damage) into the development broker, then measures in one run
#   1. gridloopd's durable intake rate (messages/s, first batch started to last batch committed),
#   2. a naive baseline: the same daemon with one message per transaction (batchMaxMessages=1),
#      over the first NAIVE messages,
#   3. the raw COPY rate of the same history rows into PostgreSQL (the ceiling), and, since the
#      run writes more than history, the time to COPY every row of the run,
# and prints them with the ratios.   Usage: scripts/bench/bench-intake.sh [N] [NAIVE]
. "$(dirname "$0")/../lib.sh"
N=${1:-100000}
NAIVE=${2:-5000}
ensure_packages
build_release

new_run_dir
trap stop_all EXIT
start_postgres
start_broker "$bin/gridloop-broker" --partitions 16

orders=$(( N / 2 * 100 / 430 ))
log "generating ~$N messages ($orders orders per platform)"
python3 scripts/gen/gen_feed.py --platform 12345 --orders "$orders" --seed 11 --resend 0.02 --malformed 0.005 > "$GRIDLOOP_RUN_DIR/a.kafka"
python3 scripts/gen/gen_feed.py --platform 12319 --orders "$orders" --seed 12 --resend 0.02 --malformed 0.005 > "$GRIDLOOP_RUN_DIR/b.kafka"
total=$(( $(wc -l < "$GRIDLOOP_RUN_DIR/a.kafka") + $(wc -l < "$GRIDLOOP_RUN_DIR/b.kafka") ))
log "producing $total messages"
produce_file hotline.12345.workorders "$GRIDLOOP_RUN_DIR/a.kafka"
produce_file hotline.12319.cases "$GRIDLOOP_RUN_DIR/b.kafka"

q() { pg_psql -tAq "$1" -c "$2"; }

log "1/3 gridloopd, batched"
read -r m1 s1 < <(run_daemon bench_batched batched "$total")
batched_url="${GRIDLOOP_DATABASE_URL/\/gridloop\?//bench_batched?}"
# The decisions' outbox rows of the batched run, for the ceiling below: those the relay
# published (read back from the outbound topics, before the naive run adds to them) and those
# it had not yet. Decision payloads are compact JSON (no tab, no newline), keyed by case id.
published="$GRIDLOOP_RUN_DIR/published.tsv"
: > "$published"
for t in gridloop.escalations gridloop.supervision gridloop.outcomes; do
  kcat -C -b "$GRIDLOOP_KAFKA_BROKERS" -t "$t" -o beginning -e -q -f "$t\t%k\t%s\n" >> "$published" 2>/dev/null || true
done
log "2/3 naive baseline: one message per transaction"
read -r m2 s2 < <(run_daemon bench_naive naive "$NAIVE" GRIDLOOP_BATCH_MAX_MESSAGES=1)

log "3/3 COPY ceiling: the same history rows; and every row the run wrote"
rows=$(q "$batched_url" "SELECT count(*) FROM case_events")
chmod 777 "$GRIDLOOP_RUN_DIR"
q "$batched_url" "COPY case_events TO '$GRIDLOOP_RUN_DIR/rows.copy'"
q "$batched_url" "COPY case_events TO '$GRIDLOOP_RUN_DIR/rows.bin' (FORMAT binary)"
q "$batched_url" "CREATE TABLE copy_text (LIKE case_events INCLUDING ALL); CREATE TABLE copy_binary (LIKE case_events INCLUDING ALL)"
timed() { psql -q "$batched_url" -c '\timing on' -c "$1" | sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p'; }
text_ms=$(timed "COPY copy_text FROM '$GRIDLOOP_RUN_DIR/rows.copy'")
binary_ms=$(timed "COPY copy_binary FROM '$GRIDLOOP_RUN_DIR/rows.bin' (FORMAT binary)")
# The ceiling is the faster of the two formats (the daemon itself uses binary COPY).
copy_ms=$(python3 -c "print(min($text_ms, $binary_ms))")
log "COPY of $rows rows: text $text_ms ms, binary $binary_ms ms"

# With the SLA clocks on, a message writes more than its history row: the case, its clocks,
# the decisions and their outbox rows. The second ceiling copies every row the run wrote, into
# empty tables with the same indexes: the final version of each row (not the cases' and clocks'
# earlier versions, which the daemon wrote too), and the decisions' outbox rows, published or
# not (the dead letters' outbox rows only if still queued: 0.5% of the feed). So it errs low
# for gridloopd.
python3 - "$published" "$GRIDLOOP_RUN_DIR/published.copy" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f, open(sys.argv[2], "w") as out:
    for line in f:
        topic, key, payload = line.rstrip("\n").split("\t", 2)
        event_id = json.loads(payload)["id"]
        out.write(f"{event_id}\t{topic}\t\\\\x{key.encode().hex()}\t\\\\x{payload.encode().hex()}\n")
PY
# A published decision's headers follow from its id (OutboxMessage.decision).
q "$batched_url" "CREATE TABLE outbox_rows (LIKE outbox INCLUDING DEFAULTS);
  ALTER TABLE outbox_rows ALTER msg_header_names DROP NOT NULL, ALTER msg_header_values DROP NOT NULL;
  COPY outbox_rows (id, topic, msg_key, payload) FROM '$GRIDLOOP_RUN_DIR/published.copy';
  UPDATE outbox_rows SET msg_header_names = '{content-type,gridloop-id}',
    msg_header_values = ARRAY[convert_to('application/cloudevents+json; charset=UTF-8', 'UTF8'), convert_to(id, 'UTF8')];
  INSERT INTO outbox_rows (id, topic, msg_key, payload, msg_header_names, msg_header_values)
    SELECT id, topic, msg_key, payload, msg_header_names, msg_header_values FROM outbox
    WHERE id NOT IN (SELECT id FROM outbox_rows);
  COPY outbox_rows TO '$GRIDLOOP_RUN_DIR/outbox.bin' (FORMAT binary);
  CREATE TABLE all_outbox (LIKE outbox INCLUDING ALL)"
n=$(q "$batched_url" "SELECT count(*) FROM outbox_rows")
ms=$(timed "COPY all_outbox FROM '$GRIDLOOP_RUN_DIR/outbox.bin' (FORMAT binary)")
log "COPY of $n outbox rows (published, or still queued): $ms ms"
all_rows=$n; all_ms=$ms
for t in case_events cases case_clocks sla_decisions dead_letters; do
  n=$(q "$batched_url" "SELECT count(*) FROM $t")
  [ "$n" -gt 0 ] || continue
  q "$batched_url" "COPY $t TO '$GRIDLOOP_RUN_DIR/$t.bin' (FORMAT binary); CREATE TABLE all_$t (LIKE $t INCLUDING ALL)"
  ms=$(timed "COPY all_$t FROM '$GRIDLOOP_RUN_DIR/$t.bin' (FORMAT binary)")
  log "COPY of $n rows of $t: $ms ms"
  all_rows=$((all_rows + n)); all_ms=$(python3 -c "print($all_ms + $ms)")
done

python3 - "$m1" "$s1" "$m2" "$s2" "$rows" "$copy_ms" "$all_rows" "$all_ms" <<'PY'
import sys
m1, s1, m2, s2, rows, copy_ms, all_rows, all_ms = map(float, sys.argv[1:])
batched, naive, ceiling = m1 / s1, m2 / s2, rows / (copy_ms / 1000)
print()
print(f"  gridloopd intake   {batched:>10,.0f} messages/s   ({m1:,.0f} messages in {s1:.2f} s)")
print(f"  naive baseline     {naive:>10,.0f} messages/s   ({m2:,.0f} messages in {s2:.2f} s, one transaction each)")
print(f"  COPY ceiling       {ceiling:>10,.0f} rows/s       ({rows:,.0f} history rows in {copy_ms/1000:.2f} s)")
print(f"  intake / naive     {batched / naive:>10.1f} x")
print(f"  intake / COPY      {batched / ceiling:>10.2f}")
if all_rows > rows:
    print(f"  COPY of all rows   {m1 / (all_ms / 1000):>10,.0f} messages/s   ({all_rows:,.0f} rows of the run in {all_ms/1000:.2f} s: history,")
    print(f"                                           cases, clocks, decisions and their outbox rows, dead letters)")
    print(f"  intake / all rows  {all_ms / 1000 / s1:>10.2f}")
PY
