#!/usr/bin/env bash
# The test command: installs what is missing, starts a private PostgreSQL cluster, builds, and
# runs every test (unit and integration; integration tests start their own development
# brokers and daemons), then checks every outbound event they consumed against schemas/.
# With CI=true nothing may be skipped.
. "$(dirname "$0")/lib.sh"
# Headless Chromium renders the scorecard's HTML page in a test.
PACKAGES+=(chromium)
ensure_packages
cd "$GRIDLOOP_ROOT"

log "building"
swift build --build-tests
export GRIDLOOP_BIN_DIR
GRIDLOOP_BIN_DIR=$(swift build --show-bin-path)

new_run_dir
trap stop_all EXIT
start_postgres
export POSTGRES_ADMIN_URL="$PG_ADMIN_URL"

if [ -f scripts/check_schemas.py ]; then
  log "checking JSON Schemas against the fixtures"
  python3 scripts/check_schemas.py
fi

# The integration tests write down every outbound message they consume (EventDump.swift);
# each must pass the JSON Schema of its kind (docs/EVENTS.md).
export GRIDLOOP_EVENT_DUMP_DIR="$GRIDLOOP_RUN_DIR/events"
mkdir -p "$GRIDLOOP_EVENT_DUMP_DIR"

log "swift test"
swift test --skip-build "$@"

log "checking the outbound events the tests consumed against their JSON Schemas"
# A run of selected tests (--filter, --skip) may read no outbound topic; the whole suite must.
check_args=()
[ $# -gt 0 ] && check_args+=(--allow-empty)
python3 scripts/check_events.py "$GRIDLOOP_EVENT_DUMP_DIR" "${check_args[@]}"

# The whole suite only: the at-risk forecast must beat its two baselines on a generated history
# (docs/FORECAST.md); then what takes minutes of wall time, each a script anyone can run longer.
if [ $# -eq 0 ]; then
  log "the at-risk forecast's backtest"
  bash scripts/backtest-forecast.sh 40 7
  # 12 minutes, judged after 6: the cache reaches its steady size only once its first cases have
  # been idle for 10 minutes, and a fit over the filling would read as a rise.
  log "soak run, ${SOAK_DURATION:-12m} (docs/SOAK.md; scripts/soak.sh 2h for a long one)"
  SOAK_WARMUP=${SOAK_WARMUP:-360} bash scripts/soak.sh "${SOAK_DURATION:-12m}"
  # Installing and purging a package changes the machine (the gridloop user stays): CI, or
  # GRIDLOOP_TEST_PACKAGE=1 on a throwaway machine; elsewhere the package is only built.
  if [ "${CI:-}" = true ] || [ "${GRIDLOOP_TEST_PACKAGE:-}" = 1 ]; then
    log "the Debian package: build, lintian, install, check-config, migrate, systemd-analyze verify, upgrade, purge"
    bash scripts/test-package.sh
  else
    log "the Debian package: build only (GRIDLOOP_TEST_PACKAGE=1 installs and purges it too)"
    bash scripts/package.sh
  fi
  log "rolling upgrade from the previous version"
  bash scripts/rolling-upgrade.sh
fi
