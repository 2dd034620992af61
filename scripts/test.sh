#!/usr/bin/env bash
# The test command, in two tiers. Installs what is missing, starts a private PostgreSQL cluster,
# builds, and runs:
#   scripts/test.sh               every unit and integration test (integration tests start their
#                                 own development brokers and daemons), every outbound event
#                                 they consumed checked against schemas/, the forecast's
#                                 backtest, the monitoring rules and their names, PostgreSQL
#                                 over TLS, and a backup restored mid-run. At most 20 minutes
#                                 on 2 cores from a fresh clone.
#   scripts/test.sh --long        all that, then what takes a release build and wall time: a
#                                 soak run (SOAK_DURATION, default 12m), the Debian package
#                                 (installed, upgraded and purged under CI=true), and a rolling
#                                 upgrade from the previous version. What .ci/run runs.
#   scripts/test.sh [--long] --filter NAME ...   only the matching XCTest classes (arguments
#                                 after the tier go to `swift test`); nothing else.
# With CI=true nothing may be skipped.
. "$(dirname "$0")/lib.sh"
long=0
if [ "${1:-}" = --long ]; then
  long=1
  shift
fi
# Headless Chromium renders the scorecard's HTML page in a test.
PACKAGES+=(chromium)
ensure_packages
cd "$GRIDLOOP_ROOT"
started=$(date +%s)

log "building"
swift build --build-tests
export GRIDLOOP_BIN_DIR
GRIDLOOP_BIN_DIR=$(swift build --show-bin-path)

new_run_dir
trap stop_all EXIT
start_postgres
export POSTGRES_ADMIN_URL="$PG_ADMIN_URL"

if [ -f scripts/check/check_schemas.py ]; then
  log "checking JSON Schemas against the fixtures"
  python3 scripts/check/check_schemas.py
fi

# The integration tests write down every outbound message they consume (EventDump.swift);
# each must pass the JSON Schema of its kind (docs/EVENTS.md).
export GRIDLOOP_EVENT_DUMP_DIR="$GRIDLOOP_RUN_DIR/events"
mkdir -p "$GRIDLOOP_EVENT_DUMP_DIR"

# The integration tests spend most of their time waiting (a group's session timeout, a hold, a
# paced feed), not computing: on 2 cores, three at a time take a third of the time. Those that
# stop or freeze the whole PostgreSQL cluster run alone, afterwards. GRIDLOOP_TEST_WORKERS=1
# runs everything one after the other; with arguments (--filter ...), one after the other too.
workers=${GRIDLOOP_TEST_WORKERS:-3}
exclusive='OutageTests.testAFrozenDatabase|OutageTests.testDatabaseOutageIsRiddenOut|FaultsTogetherTests|testTheScorecardQueueEmptiedByADatabaseCrashIsRebuilt'
if [ $# -gt 0 ] || [ "$workers" -le 1 ]; then
  log "swift test"
  swift test --skip-build "$@"
else
  log "swift test, $workers at a time"
  swift test --skip-build --parallel --num-workers "$workers" --skip "$exclusive"
  log "swift test: the tests that take the whole database away, alone"
  swift test --skip-build --filter "$exclusive"
fi

log "checking the outbound events the tests consumed against their JSON Schemas"
# A run of selected tests (--filter, --skip) may read no outbound topic; the whole suite must.
check_args=()
[ $# -gt 0 ] && check_args+=(--allow-empty)
python3 scripts/check/check_events.py "$GRIDLOOP_EVENT_DUMP_DIR" "${check_args[@]}"
[ $# -gt 0 ] && exit 0

# The whole suite only. Each is a script anyone can run alone (with GRIDLOOP_BIN_DIR set, on
# these debug binaries; without it, on a release build).
log "the at-risk forecast's backtest (docs/FORECAST.md)"
bash scripts/check/backtest-forecast.sh 40 7
log "monitoring: promtool checks and tests the alerting rules; a running daemon exposes every metric they and the dashboard name"
bash scripts/check/check-monitoring.sh
log "PostgreSQL over TLS: verify-full against the test CA; a wrong CA, a wrong host name and plain TCP refused"
bash scripts/check/test-pg-tls.sh
log "backup and restore: a pg_dump taken mid-run, restored, ends with every case exact"
bash scripts/check/test-backup-restore.sh
log "the quick tier took $(( ($(date +%s) - started) / 60 )) min $(( ($(date +%s) - started) % 60 )) s"
[ $long -eq 1 ] || exit 0

# The long tier: release builds and minutes of wall time.
unset GRIDLOOP_BIN_DIR
# 12 minutes, judged after 6: the cache reaches its steady size only once its first cases have
# been idle for 10 minutes, and a fit over the filling would read as a rise.
log "soak run, ${SOAK_DURATION:-12m} (docs/SOAK.md; scripts/long/soak.sh 2h for a long one)"
SOAK_WARMUP=${SOAK_WARMUP:-360} bash scripts/long/soak.sh "${SOAK_DURATION:-12m}"
# Installing and purging a package changes the machine (the gridloop user stays): CI, or
# GRIDLOOP_TEST_PACKAGE=1 on a throwaway machine; elsewhere the package is only built.
if [ "${CI:-}" = true ] || [ "${GRIDLOOP_TEST_PACKAGE:-}" = 1 ]; then
  log "the Debian package: build, lintian, install, check-config, migrate, systemd-analyze verify, upgrade, purge"
  bash scripts/long/test-package.sh
else
  log "the Debian package: build only (GRIDLOOP_TEST_PACKAGE=1 installs and purges it too)"
  bash scripts/release/package.sh
fi
log "rolling upgrade from the previous version"
bash scripts/long/rolling-upgrade.sh
log "both tiers took $(( ($(date +%s) - started) / 60 )) min"
