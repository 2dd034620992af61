#!/usr/bin/env bash
# The test command: installs what is missing, starts a private PostgreSQL cluster, builds, and
# runs every test (unit and integration; integration tests start their own development
# brokers and daemons). With CI=true nothing may be skipped.
. "$(dirname "$0")/lib.sh"
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

log "swift test"
swift test --skip-build "$@"
