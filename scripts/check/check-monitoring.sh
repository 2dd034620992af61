#!/usr/bin/env bash
# Checks the monitoring shipped in deploy/ (docs/OPERATIONS.md, "Monitoring"):
#  1. `promtool check rules` on deploy/prometheus/gridloop-rules.yml and `promtool test rules` on
#     its unit tests (installs Debian's `prometheus` package for promtool if it is missing);
#  2. every metric a rule or a panel of deploy/grafana/gridloop.json names against a running
#     gridloopd: a private PostgreSQL cluster, the development broker and the daemon from
#     $GRIDLOOP_BIN_DIR (default: `swift build --show-bin-path`; build gridloopd and
#     gridloop-broker first), fed the sample feeds, its /metrics scraped until its families stop
#     changing. Fails listing every name the daemon does not expose, and every `# TYPE` family
#     without a `# HELP` line.
#   scripts/check/check-monitoring.sh               # both
#   scripts/check/check-monitoring.sh --rules-only  # promtool only: no build, database or broker needed
#   GRIDLOOP_BIN_DIR=.build/release scripts/check/check-monitoring.sh
. "$(dirname "$0")/../lib.sh"
rules_only=false
case "${1:-}" in
  "") ;;
  --rules-only) rules_only=true ;;
  *) echo "usage: scripts/check/check-monitoring.sh [--rules-only]" >&2; exit 2 ;;
esac

rules=deploy/prometheus/gridloop-rules.yml
tests=deploy/prometheus/gridloop-rules.test.yml
dashboard=deploy/grafana/gridloop.json

ensure_packages
# promtool: /usr/bin/promtool of Debian's prometheus package (bookworm: 2.42). Installed without
# its recommendations (the node exporter and its collectors: smartmontools, ipmitool, ...), which
# ensure_packages would bring in. Installing it starts the Prometheus server as a service where
# systemd runs; a check has no use for it on :9090, so if this script installed it, it is stopped
# and disabled again.
if ! command -v promtool >/dev/null; then
  log "installing prometheus (for promtool)"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends prometheus >/dev/null
  if [ -d /run/systemd/system ]; then
    $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
  elif [ -x /etc/init.d/prometheus ]; then
    $sudo /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    $sudo update-rc.d prometheus disable >/dev/null 2>&1 || true
  fi
  command -v promtool >/dev/null || { echo "promtool not found after installing prometheus" >&2; exit 1; }
fi
cd "$GRIDLOOP_ROOT"

log "promtool check rules $rules"
promtool check rules "$rules"
log "promtool test rules $tests"
promtool test rules "$tests"
# The dashboard's queries, its variables filled in, as recording rules for promtool to parse.
log "promtool check rules: the queries of $dashboard"
panel_rules=$(mktemp "${TMPDIR:-/tmp}/gridloop-dashboard-queries.XXXXXX.yml")
trap 'rm -f "$panel_rules"' EXIT
python3 - "$dashboard" "$panel_rules" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
def panels(ps):
    for p in ps:
        yield p
        yield from panels(p.get("panels", []))
rules = []
for p in panels(d.get("panels", [])):
    for t in p.get("targets", []):
        expr = (t["expr"].replace("$__rate_interval", "5m").replace("$__interval", "1m").replace("$__range", "1h")
                .replace('"$job"', '"gridloopd"').replace('"$instance"', '".*"'))
        assert "$" not in expr, f"panel {p.get('title')!r}: a variable promtool cannot fill in: {expr}"
        rules.append({"record": f"dashboard:panel_{p['id']}_{t['refId']}", "expr": expr})
json.dump({"groups": [{"name": "dashboard", "rules": rules}]}, open(sys.argv[2], "w"), indent=1)
PY
promtool check rules "$panel_rules"
rm -f "$panel_rules"
trap - EXIT
$rules_only && exit 0

bin=${GRIDLOOP_BIN_DIR:-$(swift build --show-bin-path)}
for b in gridloopd gridloop-broker; do
  [ -x "$bin/$b" ] || { echo "$bin/$b not found: swift build --product $b (or set GRIDLOOP_BIN_DIR)" >&2; exit 1; }
done

new_run_dir
trap stop_all EXIT
trap 'exit 130' INT TERM
# Its own copies: a build during the check must not replace the binaries under the daemon.
mkdir -p "$GRIDLOOP_RUN_DIR/bin" && cp "$bin/gridloopd" "$bin/gridloop-broker" "$GRIDLOOP_RUN_DIR/bin/"
bin=$GRIDLOOP_RUN_DIR/bin
start_postgres
start_broker "$bin/gridloop-broker" --partitions 2
port=$((30000 + RANDOM % 10000))
log "starting gridloopd on 127.0.0.1:$port (log: $GRIDLOOP_RUN_DIR/gridloopd.log)"
GRIDLOOPD=$bin/gridloopd DAEMON_LOG=$GRIDLOOP_RUN_DIR/gridloopd.log start_gridloopd gridloop gridloop \
  GRIDLOOP_HTTP_LISTEN=127.0.0.1:$port GRIDLOOP_HOLD_WAIT=2s GRIDLOOP_LOG_LEVEL=notice

log "feeding the sample feeds"
fixtures=Tests/GridloopCoreTests/Fixtures
produce_file hotline.12345.workorders "$fixtures/12345-sample.kafka"
produce_file hotline.12319.cases "$fixtures/12319-sample.kafka"
total=$(( $(wc -l <"$fixtures/12345-sample.kafka") + $(wc -l <"$fixtures/12319-sample.kafka") ))
for _ in $(seq 1 300); do
  committed=$(pg_psql -tAq "$DAEMON_URL" -c \
    "SELECT coalesce(sum(next_offset), 0) FROM consumer_offsets WHERE next_offset >= 0" 2>/dev/null || echo 0)
  [ "$committed" -ge "$total" ] && break
  kill -0 "$DAEMON_PID" 2>/dev/null || { tail -40 "$GRIDLOOP_RUN_DIR/gridloopd.log" >&2; exit 1; }
  sleep 0.5
done
[ "$committed" -ge "$total" ] || { echo "the daemon committed $committed of $total messages" >&2; exit 1; }

# Scrapes every 5 s until the set of series (names and labels, not values) has not changed for
# three scrapes in a row, and at least CHECK_MONITORING_WAIT seconds (default 70: the slowest
# gauges, open cases and cases at risk, come every 60 s) have passed unless nothing is missing.
log "scraping http://127.0.0.1:$port/metrics until its series are stable"
python3 - "$port" "$rules" "$dashboard" "${CHECK_MONITORING_WAIT:-70}" <<'PY'
import json, os, re, sys, time, urllib.request
import yaml

port, rules_path, dashboard_path, wait = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
NAME = re.compile(r"\bgridloop_[a-z_]+")

def used_in_rules(path):
    names = {}
    for group in yaml.safe_load(open(path))["groups"]:
        for rule in group["rules"]:
            for n in NAME.findall(rule["expr"]):
                names.setdefault(n, set()).add("rule " + rule.get("alert", rule.get("record", "?")))
    return names

def used_in_dashboard(path):
    names = {}
    d = json.load(open(path))
    def panels(ps):
        for p in ps:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(d.get("panels", [])):
        for t in p.get("targets", []):
            for n in NAME.findall(t.get("expr", "")):
                names.setdefault(n, set()).add("panel " + repr(p.get("title", "?")))
    for v in d.get("templating", {}).get("list", []):
        q = v.get("query", "")
        q = q.get("query", "") if isinstance(q, dict) else str(q)
        for n in NAME.findall(q + " " + str(v.get("definition", ""))):
            names.setdefault(n, set()).add("variable $" + v.get("name", "?"))
    return names

used = used_in_rules(rules_path)
for n, where in used_in_dashboard(dashboard_path).items():
    used.setdefault(n, set()).update(where)

def scrape():
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    with open(os.path.join(os.environ["GRIDLOOP_RUN_DIR"], "metrics.txt"), "w") as f:
        f.write(text)  # the last scrape, kept with GRIDLOOP_KEEP_RUN_DIR=1
    types, helps, series = {}, set(), set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(None, 3)
            types[name] = kind.strip()
        elif line.startswith("# HELP "):
            helps.add(line.split(None, 3)[2])
        elif line and not line.startswith("#"):
            series.add(re.match(r"[^ {]+(\{[^}]*\})?", line).group(0))
    return types, helps, series

def family(name, types):
    """The family a referenced name belongs to: a histogram's or summary's _bucket, _sum, _count are its samples."""
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)] if name.endswith(suffix) else None
        if base and types.get(base) in ("histogram", "summary"):
            return base
    return name

start, history, last = time.time(), [], None
while True:
    try:
        last = scrape()
    except OSError as e:
        if time.time() - start > 60:
            sys.exit(f"check-monitoring: /metrics does not answer: {e}")
        time.sleep(2)
        continue
    types, helps, series = last
    samples = {s.split("{")[0] for s in series}
    missing = sorted(n for n in used if family(n, types) not in types and n not in samples)
    history = (history + [frozenset(series)])[-3:]
    stable = len(history) == 3 and len(set(history)) == 1
    elapsed = time.time() - start
    print(f"  after {elapsed:3.0f} s: {len(types)} families, {len(series)} series, "
          f"{len(missing)} named but missing", file=sys.stderr)
    if stable and (not missing or elapsed >= wait):
        break
    if elapsed > wait + 120:
        print("  the series did not settle; judging the last scrape", file=sys.stderr)
        break
    time.sleep(5)

types, helps, series = last
samples = {s.split("{")[0] for s in series}
failed = False
missing = sorted(n for n in used if family(n, types) not in types and n not in samples)
wrong = sorted(n for n in used if n.endswith("_bucket") and n not in missing and types.get(family(n, types)) != "histogram")
if missing:
    failed = True
    by_family = {}  # a histogram's name, not its _bucket, _sum or _count
    for n in missing:
        by_family.setdefault(re.sub(r"_(bucket|sum|count)$", "", n), set()).update(used[n])
    print(f"check-monitoring: {len(by_family)} metric(s) named by a rule or a panel but not exposed by the daemon:")
    for n, where in sorted(by_family.items()):
        print(f"  {n}  ({', '.join(sorted(where))})")
if wrong:
    failed = True
    print("check-monitoring: _bucket of a family that is not a histogram:")
    for n in wrong:
        print(f"  {n}  ({types.get(family(n, types), 'absent')}; {', '.join(sorted(used[n]))})")
no_help = sorted(set(types) - helps)
if no_help:
    failed = True
    print(f"check-monitoring: {len(no_help)} family(ies) with # TYPE but no # HELP:")
    for n in no_help:
        print(f"  {n}")
untyped = sorted({s.split("{")[0] for s in series} - {
    s for f in types for s in (f, f + "_bucket", f + "_sum", f + "_count", f + "_total", f + "_created")})
if untyped:
    failed = True
    print(f"check-monitoring: {len(untyped)} sample name(s) without a # TYPE family:")
    for n in untyped:
        print(f"  {n}")
unused = sorted(f for f in types if f.startswith("gridloop_") and f not in {family(n, types) for n in used})
print(f"check-monitoring: {len(used)} names used by the rules and the dashboard, {len(types)} families exposed")
if unused:
    print("  exposed but named by no rule or panel (fine, for information): " + ", ".join(unused))
sys.exit(1 if failed else 0)
PY
log "monitoring: the rules, their tests and every name they and the dashboard use check out"
