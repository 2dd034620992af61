#!/usr/bin/env bash
# Tests the Debian package on this machine: lintian (no error, no warning; its whole output is
# printed), installs it with apt-get (it must start nothing), checks what it installed (binary,
# version, user, conffile, man pages, bash completion), runs the installed gridloopd against a
# private PostgreSQL (check-config, migrate), verifies the systemd units, reinstalls it over an
# edited conffile, upgrades it (the same files re-packed as the next Debian revision, and from a
# package of the 0.27.0 kind) and checks that what was running runs again and what was stopped
# stays stopped, then purges it and checks that the package's files are gone and the
# operator's are not (a credential, the database). Where systemd is not PID 1 (a container),
# the units' starts and stops are those of a stand-in systemctl that keeps their state and
# records every call: the maintainer scripts are the package's, unchanged, but no unit
# really runs. It changes the machine (the gridloop user stays, as a purge leaves it): for CI
# and throwaway machines; it refuses to run where gridloop is installed or /etc/gridloop
# exists. Needs root or passwordless sudo (CI=true: fails without).
#   scripts/long/test-package.sh [PATH.deb]    # default: build it with scripts/release/package.sh
. "$(dirname "$0")/../lib.sh"

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    printf '\n!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n' >&2
    printf '!!! SKIP scripts/long/test-package.sh: installing a package needs root or passwordless sudo\n' >&2
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
need=(postgresql man-db systemd lintian)
missing=()
for p in "${need[@]}" librdkafka1 libpq5; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# apt-get waits for another apt-get or dpkg instead of failing at once.
apt_get() { $sudo env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
if [ ${#missing[@]} -gt 0 ]; then
  apt_get update
  for p in "${need[@]}"; do
    if [[ " ${missing[*]} " == *" $p "* ]]; then
      log "installing $p"
      apt_get install -y "$p"
    fi
  done
fi

new_run_dir
# Does this machine run systemd? Otherwise (a container: PID 1 is something else) a stand-in.
if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]; then
  systemd_mode=systemd
else
  systemd_mode=stand-in
fi
test_dropin=/run/systemd/system/gridloopd.service.d/zz-test-package.conf
made_run_systemd=""
cleanup() {
  local rc=$?
  if [ -n "$(state)" ] && [ "$(state)" != un ] && [ "$(state)" != pn ]; then
    log "cleaning up: purging gridloop"
    apt_get purge -y gridloop >/dev/null 2>&1 || true
  fi
  if [ "$systemd_mode" = systemd ] && [ -e "$test_dropin" ]; then
    $sudo rm -f "$test_dropin"
    $sudo rmdir "$(dirname "$test_dropin")" 2>/dev/null || true
    $sudo systemctl daemon-reload || true
  fi
  [ -z "$made_run_systemd" ] || $sudo rmdir /run/systemd 2>/dev/null || true
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
  deb=$("$GRIDLOOP_ROOT/scripts/release/package.sh" "$GRIDLOOP_RUN_DIR/package" | tail -n 1)
fi
[ -f "$deb" ] || fail "no package at $deb"
version=$(dpkg-deb -f "$deb" Version)
log "testing $deb (version $version, $(du -h "$deb" | cut -f1))"
# UPSTREAM-REVISION: the upstream version is gridloopd's, the revision the changelog's.
[[ $version =~ ^([0-9]+(\.[0-9]+)+)-([1-9][0-9]*)$ ]] || fail "version $version is not UPSTREAM-REVISION (e.g. 0.27.0-1)"
upstream=${BASH_REMATCH[1]} revision=${BASH_REMATCH[3]}
maintainer=$(dpkg-deb -f "$deb" Maintainer)
log "Maintainer: $maintainer"

log "lintian $(lintian --version | awk '{ print $2 }')"
# Its whole output, the informational tags and the overrides (O:, each with its reason, N:)
# too; an error or a warning (E:, W:) fails. With --show-overrides lintian exits 2 for an
# overridden error too, so its lines decide; 1 is lintian itself failing. As an unprivileged
# user when root: lintian unpacks what it is given and says not to run it as root.
install -d -m 0755 "$GRIDLOOP_RUN_DIR/lintian"
install -m 0644 "$deb" "$GRIDLOOP_RUN_DIR/lintian/"
as_lintian=()
[ "$(id -u)" -ne 0 ] || as_lintian=(runuser -u nobody -- env HOME="$GRIDLOOP_RUN_DIR/lintian")
lintian_rc=0
(cd "$GRIDLOOP_RUN_DIR/lintian" && "${as_lintian[@]}" lintian --display-info --pedantic --show-overrides \
  --fail-on error,warning "$GRIDLOOP_RUN_DIR/lintian/$(basename "$deb")") >"$GRIDLOOP_RUN_DIR/lintian.log" 2>&1 || lintian_rc=$?
sed 's/^/  lintian| /' "$GRIDLOOP_RUN_DIR/lintian.log" >&2
if [ "$lintian_rc" -ne 0 ] && [ "$lintian_rc" -ne 2 ]; then fail "lintian failed (exit $lintian_rc)"; fi
if grep -qE '^[EW]: ' "$GRIDLOOP_RUN_DIR/lintian.log"; then fail "lintian: errors or warnings (above)"; fi
log "lintian: no error, no warning ($(grep -c '^I: ' "$GRIDLOOP_RUN_DIR/lintian.log" || true) informational tags, $(grep -c '^O: ' "$GRIDLOOP_RUN_DIR/lintian.log" || true) overridden)"

# The units' starts and stops. On a systemd machine systemctl itself; elsewhere a stand-in that
# keeps each unit's state (active, enabled, how many times started) in files and records every
# call, as the maintainer scripts and deb-systemd-invoke make them.
host="$GRIDLOOP_RUN_DIR/host"
mkdir -p "$host/bin" "$host/units"
cat >"$host/bin/systemctl" <<EOF
#!/bin/bash
# A stand-in for systemctl (scripts/long/test-package.sh): no unit runs, each one's state is in files.
units="$host/units"
EOF
cat >>"$host/bin/systemctl" <<'EOF'
echo "[$(ps -o comm= -p "$PPID" 2>/dev/null || echo '?')] systemctl $*" >>"$units/calls"
words=() quiet="" now=""
for a in "$@"; do
  case $a in
    -q | --quiet) quiet=1 ;;
    --now) now=1 ;;
    -*) ;;
    *) words+=("$a") ;;
  esac
done
verb=${words[0]:-} names=("${words[@]:1}")
get() { cat "$units/$1.$2" 2>/dev/null || echo "$3"; }
started() { echo active >"$units/$1.active"; echo $(($(get "$1" starts 0) + 1)) >"$units/$1.starts"; echo "$2 $1" >>"$units/actions"; }
stopped() { echo inactive >"$units/$1.active"; echo "stop $1" >>"$units/actions"; }
case $verb in
  daemon-reload) ;;
  is-active) s=$(get "${names[0]}" active inactive); [ -n "$quiet" ] || echo "$s"; [ "$s" = active ] || exit 3 ;;
  is-enabled) s=$(get "${names[0]}" enabled disabled); [ -n "$quiet" ] || echo "$s"; [ "$s" = enabled ] || exit 1 ;;
  start | restart) for u in "${names[@]}"; do started "$u" "$verb"; done ;;
  try-restart) for u in "${names[@]}"; do [ "$(get "$u" active inactive)" != active ] || started "$u" restart; done ;;
  stop) for u in "${names[@]}"; do stopped "$u"; done ;;
  enable) for u in "${names[@]}"; do echo enabled >"$units/$u.enabled"; echo "enable $u" >>"$units/actions"; [ -z "$now" ] || started "$u" start; done ;;
  disable) for u in "${names[@]}"; do echo disabled >"$units/$u.enabled"; echo "disable $u" >>"$units/actions"; [ -z "$now" ] || stopped "$u"; done ;;
  show) echo "$(get "${names[-1]}" starts 0)" ;;
  *) echo "unknown: $*" >>"$units/actions" ;;
esac
exit 0
EOF
chmod 0755 "$host/bin/systemctl"
: >"$host/units/actions"
# A host's policy: Debian container images ship a policy-rc.d that forbids starting anything
# (exit 101), which deb-systemd-invoke obeys; a host has none.
printf '#!/bin/sh\nexit 0\n' >"$host/policy-rc.d"
chmod 0755 "$host/policy-rc.d"
host_path=$PATH
if [ "$systemd_mode" = stand-in ]; then
  host_path="$host/bin:$PATH"
  [ -d /run/systemd ] || { $sudo mkdir /run/systemd; made_run_systemd=1; }
fi
# Runs apt-get or dpkg as on a host, in a mount namespace of its own (nothing of it is seen
# outside): no policy-rc.d forbidding starts; with the stand-in, /run/systemd/system present
# (the maintainer scripts' test for a running systemd) and systemctl the stand-in.
as_host() {
  $sudo unshare --mount --propagation private -- env PATH="$host_path" HOST="$host" MODE="$systemd_mode" \
    DEBIAN_FRONTEND=noninteractive bash -c '
      set -e
      [ ! -e /usr/sbin/policy-rc.d ] || mount --bind "$HOST/policy-rc.d" /usr/sbin/policy-rc.d
      if [ "$MODE" = stand-in ]; then
        mount -t tmpfs -o mode=0755 gridloop-test /run/systemd
        mkdir /run/systemd/system
      fi
      exec "$@"' as_host "$@"
}
# apt-get runs dpkg with its own PATH (DPkg::Path): the stand-in's too.
host_apt_get() { as_host apt-get -o DPkg::Lock::Timeout=600 -o DPkg::Path="$host_path" "$@"; }
# The test's own systemctl: the real one or the stand-in.
sc() { if [ "$systemd_mode" = systemd ]; then $sudo systemctl "$@"; else "$host/bin/systemctl" "$@"; fi; }
unit_active() { sc --quiet is-active "$1"; }
unit_enabled() { sc --quiet is-enabled "$1"; }
# Changes each time the unit is started or restarted.
start_mark() {
  if [ "$systemd_mode" = systemd ]; then sc show -p ActiveEnterTimestampMonotonic --value "$1"; else sc show "$1"; fi
}
log "units driven by: $([ "$systemd_mode" = systemd ] && echo "systemd (PID 1)" || echo "a stand-in systemctl (PID 1 is $(ps -p 1 -o comm=), not systemd)")"

log "apt-get install $deb"
host_apt_get install -y "$deb" 2>&1 | tee "$GRIDLOOP_RUN_DIR/install.log" | sed -n '/^gridloop is installed/,/INSTALL.md/p'
[ "$(state)" = ii ] || fail "gridloop is not installed after apt-get install ($(state)); $(tail -5 "$GRIDLOOP_RUN_DIR/install.log")"
grep -q "nothing is started until it is configured" "$GRIDLOOP_RUN_DIR/install.log" || fail "postinst printed no note"
# A fresh install starts and enables nothing.
for u in gridloopd.service gridloopd-scorecard.timer gridloopd-scorecard.service; do
  ! unit_active "$u" || fail "$u is active after a fresh install"
  # The timer's service has no [Install]: systemctl calls it static.
  [ "$u" = gridloopd-scorecard.service ] || ! unit_enabled "$u" || fail "$u is enabled after a fresh install"
done
[ ! -s "$host/units/actions" ] || fail "a fresh install started, stopped or enabled units: $(cat "$host/units/actions")"
if [ "$systemd_mode" = stand-in ]; then
  # The maintainer scripts did reach the stand-in (their daemon-reload).
  grep -q 'daemon-reload' "$host/units/calls" || fail "the postinst did not call the stand-in systemctl"
fi
log "a fresh install started and enabled nothing"

log "what it installed"
[ "$(/usr/bin/gridloopd --version)" = "$upstream" ] || fail "gridloopd --version is '$(/usr/bin/gridloopd --version)', the package $version"
# The changelog: the repository's, its top entry this version.
top=$(zcat /usr/share/doc/gridloop/changelog.Debian.gz | head -n 1)
[[ $top == "gridloop ($version) "* ]] || fail "changelog.Debian.gz's top entry is '$top', the package $version"
# The Maintainer is the project's, as the copyright file's Upstream-Contact (unless overridden).
contact=$(sed -n 's/^Upstream-Contact: //p' /usr/share/doc/gridloop/copyright)
[ -n "${DEBFULLNAME:-}${DEBEMAIL:-}" ] || [ "$maintainer" = "$contact" ] || fail "Maintainer '$maintainer' is not the project's ($contact)"
# Bash completion, as ArgumentParser writes it: it parses, and it completes the commands.
completion=/usr/share/bash-completion/completions/gridloopd
[ -f "$completion" ] || fail "no $completion"
bash -n "$completion" || fail "bash -n $completion failed"
complete_words() {  # the completions offered for the words typed after gridloopd
  bash -c 'source "$1"; shift; COMP_WORDS=(gridloopd "$@"); COMP_CWORD=$#; COMP_LINE="${COMP_WORDS[*]}"
    COMP_POINT=${#COMP_LINE}; _gridloopd gridloopd "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"; printf "%s\n" "${COMPREPLY[@]}"' \
    - "$completion" "$@"
}
offered=$(complete_words "")
for w in run migrate check-config dlq; do grep -qx -- "$w" <<<"$offered" || fail "completion of 'gridloopd ' does not offer $w: $offered"; done
grep -qx retry <<<"$(complete_words dlq "")" || fail "completion of 'gridloopd dlq ' does not offer retry"
grep -qx -- --config <<<"$(complete_words check-config --c)" || fail "completion of 'gridloopd check-config --c' does not offer --config"
log "bash completion: $completion parses and completes ($(wc -l <<<"$offered") words after 'gridloopd ')"
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
# Without --config, the commands read the installed file (GRIDLOOP_CONFIG overrides it; empty: none).
as_gridloop env -u GRIDLOOP_CONFIG /usr/bin/gridloopd check-config | grep -q '^configuration OK: /etc/gridloop/gridloopd.yaml' \
  || fail "check-config without --config did not read /etc/gridloop/gridloopd.yaml"
as_gridloop env GRIDLOOP_CONFIG= /usr/bin/gridloopd check-config | grep -q '^configuration OK: (no file' \
  || fail "check-config with GRIDLOOP_CONFIG= read a file"
# The alerting rules and the dashboard ship with it.
for f in /usr/share/gridloop/monitoring/gridloop-rules.yml /usr/share/gridloop/monitoring/gridloop-rules.test.yml \
  /usr/share/gridloop/monitoring/gridloop.json; do
  [ -f "$f" ] || fail "$f is not installed"
done
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
host_apt_get install -y --reinstall "$deb" >"$GRIDLOOP_RUN_DIR/reinstall.log" 2>&1 \
  || fail "reinstall: $(tail -5 "$GRIDLOOP_RUN_DIR/reinstall.log")"
grep -q '^  level: notice ' /etc/gridloop/gridloopd.yaml || fail "the reinstall overwrote the edited conffile"
grep -q "gridloop upgraded" "$GRIDLOOP_RUN_DIR/reinstall.log" || fail "postinst printed no upgrade note"
[ ! -s "$host/units/actions" ] || fail "the reinstall started, stopped or enabled units: $(cat "$host/units/actions")"

log "upgrades: what was running runs again, what was stopped stays stopped"
# The next Debian revision: the same files re-packed (no second build), a changelog entry on top.
# $4: the maintainer scripts of the 0.19.0 and 0.27.0 packages instead (their prerm stopped the
# units on an upgrade; they had no preinst), from the commit before the scheme.
repack() {
  local src=$1 ver=$2 out=$3 old=${4:-} dir s
  dir=$(mktemp -d "$GRIDLOOP_RUN_DIR/repack.XXXXXX")
  $sudo dpkg-deb -R "$src" "$dir"
  $sudo sed -i "s/^Version: .*/Version: $ver/" "$dir/DEBIAN/control"
  local cl="$dir/usr/share/doc/gridloop/changelog.Debian.gz"
  if [ -z "$old" ]; then
    { printf 'gridloop (%s) bookworm; urgency=medium\n\n  * %s re-packed by scripts/long/test-package.sh.\n\n -- %s  %s\n\n' \
        "$ver" "$version" "$maintainer" "$(date -R)"; zcat "$cl"; } | gzip -9n | $sudo tee "$cl.new" >/dev/null
    $sudo mv "$cl.new" "$cl"
    $sudo sed -i "s|^[0-9a-f]*  usr/share/doc/gridloop/changelog.Debian.gz\$|$(md5sum <"$cl" | cut -d' ' -f1)  usr/share/doc/gridloop/changelog.Debian.gz|" "$dir/DEBIAN/md5sums"
  else
    $sudo rm -f "$dir/DEBIAN/preinst"
    for s in postinst prerm postrm; do
      # The maintainer scripts of that commit's package, from its scripts/package.sh (the path
      # it had then, before scripts/ was grouped by purpose).
      git -C "$GRIDLOOP_ROOT" show "$old:scripts/package.sh" | sed -n "/^cat >\"\\\$root\/DEBIAN\/$s\" <<'EOF'\$/,/^EOF\$/p" | sed '1d;$d' \
        | $sudo tee "$dir/DEBIAN/$s" >/dev/null
      grep -q '^#!/bin/sh' "$dir/DEBIAN/$s" || fail "no $s in $old's scripts/package.sh"
    done
  fi
  $sudo dpkg-deb -Zgzip -z1 --root-owner-group -b "$dir" "$out" >/dev/null
  $sudo rm -rf "$dir"
}
next="$upstream-$((revision + 1))"
deb_next="$GRIDLOOP_RUN_DIR/gridloop_${next}_amd64.deb"
deb_old="$GRIDLOOP_RUN_DIR/gridloop_0.27.0_amd64.deb"
repack "$deb" "$next" "$deb_next"
repack "$deb" 0.27.0 "$deb_old" 2fcbe60
dpkg --compare-versions 0.27.0 lt "$version" || fail "the 0.27.0 kind of package is not older than $version"
# Installs a package as on a host (dpkg -i: the Depends are there); its output to $2.log, the
# postinst's lines printed.
host_install() {
  local before
  before=$(wc -l <"$host/units/calls" 2>/dev/null || echo 0)
  log "dpkg -i $(basename "$1") over $(dpkg-query -W -f='${Version}' gridloop)"
  as_host dpkg -i "$1" >"$GRIDLOOP_RUN_DIR/$2.log" 2>&1 || fail "dpkg -i $(basename "$1"): $(tail -5 "$GRIDLOOP_RUN_DIR/$2.log")"
  sed -n '/^gridloop upgraded/,/^[^ ]/p' "$GRIDLOOP_RUN_DIR/$2.log" | sed '$d' >&2
  # The maintainer scripts' calls, by the script (or deb-systemd-invoke) that made each.
  [ "$systemd_mode" = systemd ] || tail -n +"$((before + 1))" "$host/units/calls" | sed 's/^/  stand-in| /' >&2
  [ "$(dpkg-query -W -f='${Version}' gridloop)" = "$(dpkg-deb -f "$1" Version)" ] || fail "$(basename "$1") is not installed"
}
# The daemon cannot run here (it needs Kafka): on a systemd machine a drop-in has the unit run a
# sleep instead, with the unit's user and hardening; the stand-in runs nothing anyway.
if [ "$systemd_mode" = systemd ]; then
  $sudo mkdir -p "$(dirname "$test_dropin")"
  printf '[Service]\nType=simple\nExecStart=\nExecStart=/bin/sleep infinity\nExecReload=\nWatchdogSec=0\n' | $sudo tee "$test_dropin" >/dev/null
  sc daemon-reload
fi
expect() {  # unit, active|inactive, restarted|same, the start mark before, what the step was
  local now=inactive
  unit_active "$1" && now=active
  [ "$now" = "$2" ] || fail "$5: $1 is $now, not $2; actions: $(tr '\n' ';' <"$host/units/actions")"
  if [ "$3" = restarted ]; then [ "$(start_mark "$1")" != "$4" ] || fail "$5: $1 was not restarted"
  else [ "$(start_mark "$1")" = "$4" ] || fail "$5: $1 was started or restarted"; fi
  log "  $5: $1 $2, $([ "$3" = restarted ] && echo "started again" || echo "neither started nor stopped")"
}

# 1. Running: gridloopd started by hand (not enabled), the timer enabled and started.
sc start gridloopd.service
sc enable --now gridloopd-scorecard.timer
unit_active gridloopd.service && unit_active gridloopd-scorecard.timer || fail "could not start the units"
m_service=$(start_mark gridloopd.service) m_timer=$(start_mark gridloopd-scorecard.timer)
: >"$host/units/actions"
host_install "$deb_next" upgrade-running
expect gridloopd.service active restarted "$m_service" "$version -> $next"
expect gridloopd-scorecard.timer active restarted "$m_timer" "$version -> $next"
! unit_active gridloopd-scorecard.service || fail "the upgrade started gridloopd-scorecard.service (the timer's)"
grep -q '^  gridloopd.service: restarted$' "$GRIDLOOP_RUN_DIR/upgrade-running.log" || fail "postinst did not say gridloopd.service restarted"
if [ "$systemd_mode" = stand-in ]; then
  # prerm stopped nothing: the units ran on through the unpacking, postinst restarted each once.
  [ "$(sort "$host/units/actions" | tr '\n' ';')" = "restart gridloopd-scorecard.timer;restart gridloopd.service;" ] \
    || fail "$version -> $next: expected one restart of each unit and nothing else: $(tr '\n' ';' <"$host/units/actions")"
fi

# 2. Stopped (the timer disabled too): a reinstall, an upgrade to postinst, leaves them so.
sc stop gridloopd.service
sc disable --now gridloopd-scorecard.timer
m_service=$(start_mark gridloopd.service) m_timer=$(start_mark gridloopd-scorecard.timer)
: >"$host/units/actions"
host_install "$deb_next" upgrade-stopped
expect gridloopd.service inactive same "$m_service" "$next -> $next, stopped"
expect gridloopd-scorecard.timer inactive same "$m_timer" "$next -> $next, stopped"
grep -q '^  gridloopd.service: was not running; left stopped$' "$GRIDLOOP_RUN_DIR/upgrade-stopped.log" || fail "postinst did not say gridloopd.service was left stopped"
[ ! -s "$host/units/actions" ] || fail "the upgrade of stopped units started or stopped some: $(tr '\n' ';' <"$host/units/actions")"

# 3. From a package of the 0.27.0 kind, whose prerm stops both and notes nothing: the enabled
# ones are started (both enabled and running here).
host_install "$deb_old" downgrade-to-old
sc enable --now gridloopd.service
sc enable --now gridloopd-scorecard.timer
m_service=$(start_mark gridloopd.service) m_timer=$(start_mark gridloopd-scorecard.timer)
: >"$host/units/actions"
host_install "$deb" upgrade-from-old
expect gridloopd.service active restarted "$m_service" "0.27.0 -> $version"
expect gridloopd-scorecard.timer active restarted "$m_timer" "0.27.0 -> $version"
grep -q '^  gridloopd.service: started (enabled)$' "$GRIDLOOP_RUN_DIR/upgrade-from-old.log" || fail "postinst did not say gridloopd.service was started"
[ ! -e /run/gridloop-upgrade ] || fail "/run/gridloop-upgrade left behind"
if [ "$systemd_mode" = stand-in ]; then
  grep -qx 'stop gridloopd.service' "$host/units/actions" || fail "0.27.0's prerm did not stop gridloopd.service: the old scripts were not run"
fi
log "upgrades restart what was running and only that"

log "purge keeps the operator's credential and database"
printf '%s' 'operator-secret' | $sudo tee /etc/gridloop/credentials/database-password >/dev/null
$sudo chmod 0600 /etc/gridloop/credentials/database-password
# gridloopd and the timer run (from the upgrades above): the removal stops them.
: >"$host/units/actions"
host_apt_get purge -y gridloop >"$GRIDLOOP_RUN_DIR/purge.log" 2>&1 \
  || fail "purge: $(tail -5 "$GRIDLOOP_RUN_DIR/purge.log")"
case "$(state)" in "" | un | pn) ;; *) fail "gridloop still known to dpkg after purge: $(state)" ;; esac
for u in gridloopd.service gridloopd-scorecard.timer; do ! unit_active "$u" || fail "$u still active after purge"; done
if [ "$systemd_mode" = stand-in ]; then
  grep -qx 'stop gridloopd.service' "$host/units/actions" || fail "prerm remove did not stop gridloopd.service"
fi
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
