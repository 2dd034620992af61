#!/usr/bin/env bash
# Tests the Debian package on this machine: installs it with apt-get, checks what it installed
# (binary, user, conffile, man pages), runs the installed gridloopd against a private PostgreSQL
# (check-config, migrate), verifies the systemd units, reinstalls it over an edited conffile,
# then purges it and checks that the package's files are gone and the operator's are not (a
# credential, the database). It changes the machine (the gridloop user stays, as a purge
# leaves it): for CI and throwaway machines; it refuses to run where gridloop is installed or
# /etc/gridloop exists. Needs root or passwordless sudo (CI=true: fails without).
#   scripts/test-package.sh [PATH.deb]    # default: build it with scripts/package.sh
. "$(dirname "$0")/lib.sh"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! SKIP scripts/test-package.sh: installing a package needs root or passwordless sudo\n' >&2
    printf '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n\n' >&2
    [ "${CI:-}" = true ] && { echo "CI=true: nothing may be skipped" >&2; exit 1; }
    exit 0
  fi
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
as_gridloop() { if [ -z "$sudo" ]; then runuser -u gridloop -- "$@"; else sudo -u gridloop -- "$@"; fi; }
# ii: installed; rc: removed, conffiles left; un or nothing: gone.
state() { dpkg-query -W -f='${db:Status-Abbrev}' gridloop 2>/dev/null | tr -d ' ' || true; }

# It installs and purges gridloop and writes into /etc/gridloop: never over an operator's.
case "$(state)" in "" | un | pn) ;; *) fail "gridloop is installed here ($(state)); the test would purge it" ;; esac
[ ! -e /etc/gridloop ] || fail "/etc/gridloop exists; the test would write into it"

# What the test itself needs (ensure_packages wants the Swift toolchain, which a given .deb does
# not); a fresh machine's package lists also serve apt-get to resolve the package's Depends.
need=(postgresql man-db systemd)
missing=()
for p in "${need[@]}" librdkafka1 libpq5; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update
  for p in "${need[@]}"; do
    if [[ " ${missing[*]} " == *" $p "* ]]; then
      log "installing $p"
      $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$p"
    fi
  done
fi

new_run_dir
cleanup() {
  local rc=$?
  if [ -n "$(state)" ] && [ "$(state)" != un ] && [ "$(state)" != pn ]; then
    log "cleaning up: purging gridloop"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y gridloop >/dev/null 2>&1 || true
  fi
  # /etc/gridloop did not exist before the test: what is left there is the test's own.
  $sudo rm -f /etc/gridloop/credentials/database-password
  $sudo rmdir /etc/gridloop/credentials /etc/gridloop 2>/dev/null || true
  # Not `(exit $rc); stop_all`: under set -e a failed run would exit there, PostgreSQL running.
  stop_all || true
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ $# -gt 0 ]; then
  deb=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
else
  log "building the package"
  deb=$("$GRIDLOOP_ROOT/scripts/package.sh" "$GRIDLOOP_RUN_DIR/package" | tail -n 1)
fi
[ -f "$deb" ] || fail "no package at $deb"
version=$(dpkg-deb -f "$deb" Version)
log "testing $deb (version $version, $(du -h "$deb" | cut -f1))"

log "apt-get install $deb"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" 2>&1 | tee "$GRIDLOOP_RUN_DIR/install.log" | sed -n '/^gridloop is installed/,/INSTALL.md/p'
[ "$(state)" = ii ] || fail "gridloop is not installed after apt-get install ($(state)); $(tail -5 "$GRIDLOOP_RUN_DIR/install.log")"
grep -q "nothing is started until it is configured" "$GRIDLOOP_RUN_DIR/install.log" || fail "postinst printed no note"

log "what it installed"
[ "$(/usr/bin/gridloopd --version)" = "$version" ] || fail "gridloopd --version is '$(/usr/bin/gridloopd --version)', the package $version"
id gridloop || fail "no gridloop user"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd gridloop)
[ "$uid" -lt 1000 ] && [ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ] \
  || fail "gridloop is not a system user without a home and a shell: uid $uid, $home, $shell"
[ "$(getent group gridloop | cut -d: -f3)" = "$gid" ] || fail "gridloop's group is not gridloop"
[ -f /etc/gridloop/gridloopd.yaml ] || fail "no /etc/gridloop/gridloopd.yaml"
grep -q '^ /etc/gridloop/gridloopd.yaml ' <<<"$(dpkg-query -W -f='${Conffiles}\n' gridloop)" || fail "gridloopd.yaml is not a conffile"
[ "$($sudo stat -c '%a %U:%G' /etc/gridloop/credentials)" = "700 root:root" ] || fail "/etc/gridloop/credentials is not 0700 root"
for u in gridloopd.service gridloopd-scorecard.service gridloopd-scorecard.timer; do
  [ -f "/lib/systemd/system/$u" ] || fail "no /lib/systemd/system/$u"
done
[ ! -d /run/systemd/system ] || ! systemctl is-enabled --quiet gridloopd.service || fail "gridloopd.service is enabled"
# Every command has its page: gridloopd.1 and one per subcommand and sub-subcommand, by the
# SUBCOMMANDS sections of the installed binary's help.
subcommands() { COLUMNS=200 /usr/bin/gridloopd help "$@" | awk '/^SUBCOMMANDS:/ { s = 1; next } s && /^  [a-z0-9]/ { print $1 }'; }
pages=(gridloopd)
for sub in $(subcommands); do
  pages+=("gridloopd-$sub")
  for subsub in $(subcommands "$sub"); do pages+=("gridloopd-$sub-$subsub"); done
done
[ ${#pages[@]} -gt 15 ] || fail "only ${#pages[@]} commands found in the help"
if grep -qs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
  # A minimized image (dpkg drops man pages on install): check the package instead.
  log "NOTE: dpkg on this machine excludes /usr/share/man; checking the man pages in the .deb"
  contents=$(dpkg-deb -c "$deb")
  for p in "${pages[@]}"; do grep -q "/usr/share/man/man1/$p.1.gz$" <<<"$contents" || fail "no man page $p.1.gz"; done
else
  listed=$(dpkg -L gridloop)
  for p in "${pages[@]}"; do
    grep -qx "/usr/share/man/man1/$p.1.gz" <<<"$listed" || fail "dpkg -L gridloop lists no $p.1.gz"
    warnings=$(MANWIDTH=80 man --warnings -E UTF-8 -Tutf8 "$p" 2>&1 >/dev/null) || fail "man $p failed: $warnings"
    [ -z "$warnings" ] || fail "man $p warns: $warnings"
  done
  [ "$(man -w gridloopd)" = /usr/share/man/man1/gridloopd.1.gz ] || fail "man -w gridloopd: '$(man -w gridloopd 2>&1)'"
  log "${#pages[@]} man pages, man -w gridloopd: $(man -w gridloopd)"
fi

log "the installed gridloopd on a private PostgreSQL, as the gridloop user"
start_postgres
export GRIDLOOP_DATABASE_URL
# check-config reads the file, the policy, calendars and units, and connects to nothing.
as_gridloop env GRIDLOOP_DATABASE_URL="$GRIDLOOP_DATABASE_URL" /usr/bin/gridloopd check-config --config /etc/gridloop/gridloopd.yaml \
  | tee "$GRIDLOOP_RUN_DIR/check-config.log"
grep -q '^configuration OK: /etc/gridloop/gridloopd.yaml' "$GRIDLOOP_RUN_DIR/check-config.log" || fail "check-config did not pass"
as_gridloop env GRIDLOOP_DATABASE_URL="$GRIDLOOP_DATABASE_URL" /usr/bin/gridloopd migrate --config /etc/gridloop/gridloopd.yaml
migrations=$(psql -tAq "$GRIDLOOP_DATABASE_URL" -c 'SELECT count(*) FROM schema_migrations')
[ "$migrations" -gt 0 ] || fail "schema_migrations is empty after migrate"
log "$migrations migrations applied"

log "systemd-analyze verify"
# Offline it may also complain about other units of the machine; only lines naming ours count.
for set in "gridloopd.service" "gridloopd-scorecard.timer gridloopd-scorecard.service"; do
  files=()
  for u in $set; do files+=("/lib/systemd/system/$u"); done
  if ! out=$(systemd-analyze verify "${files[@]}" 2>&1); then fail "systemd-analyze verify $set: $out"; fi
  if echo "$out" | grep -E 'gridloopd(-scorecard)?\.(service|timer)'; then fail "systemd-analyze verify complains about $set (above)"; fi
  log "verified: $set${out:+ (other units: $(echo "$out" | wc -l) lines)}"
done
for u in gridloopd.service gridloopd-scorecard.service; do
  exposure=$(systemd-analyze security --offline=true "/lib/systemd/system/$u" 2>/dev/null \
    | sed -n "s/.*Overall exposure level for $u: \([0-9.]*\).*/\1/p")
  [ -n "$exposure" ] && awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || fail "$u: exposure '$exposure' (at most 2.0)"
  log "$u: exposure $exposure"
done

log "reinstall over an edited conffile"
$sudo sed -i 's/^  level: info /  level: notice /' /etc/gridloop/gridloopd.yaml
grep -q '^  level: notice ' /etc/gridloop/gridloopd.yaml || fail "could not edit the conffile"
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall "$deb" >"$GRIDLOOP_RUN_DIR/reinstall.log" 2>&1 \
  || fail "reinstall: $(tail -5 "$GRIDLOOP_RUN_DIR/reinstall.log")"
grep -q '^  level: notice ' /etc/gridloop/gridloopd.yaml || fail "the reinstall overwrote the edited conffile"
grep -q "gridloop upgraded" "$GRIDLOOP_RUN_DIR/reinstall.log" || fail "postinst printed no upgrade note"

log "purge keeps the operator's credential and database"
printf '%s' 'operator-secret' | $sudo tee /etc/gridloop/credentials/database-password >/dev/null
$sudo chmod 0600 /etc/gridloop/credentials/database-password
$sudo env DEBIAN_FRONTEND=noninteractive apt-get purge -y gridloop >"$GRIDLOOP_RUN_DIR/purge.log" 2>&1 \
  || fail "purge: $(tail -5 "$GRIDLOOP_RUN_DIR/purge.log")"
case "$(state)" in "" | un | pn) ;; *) fail "gridloop still known to dpkg after purge: $(state)" ;; esac
for f in /usr/bin/gridloopd /lib/systemd/system/gridloopd.service /lib/systemd/system/gridloopd-scorecard.timer \
  /etc/gridloop/gridloopd.yaml /usr/share/man/man1/gridloopd.1.gz /usr/share/gridloop /usr/share/doc/gridloop; do
  [ ! -e "$f" ] || fail "$f is still there after purge"
done
[ "$($sudo cat /etc/gridloop/credentials/database-password)" = operator-secret ] \
  || fail "purge removed or changed /etc/gridloop/credentials/database-password"
[ "$(psql -tAq "$GRIDLOOP_DATABASE_URL" -c 'SELECT count(*) FROM schema_migrations')" = "$migrations" ] \
  || fail "the database's schema_migrations changed"
id gridloop >/dev/null || fail "purge removed the gridloop user (it stays: files may belong to it)"
$sudo rm -f /etc/gridloop/credentials/database-password
$sudo rmdir /etc/gridloop/credentials /etc/gridloop
log "package test passed: $deb"
