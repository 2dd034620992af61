#!/usr/bin/env bash
# Builds the Debian package gridloop_VERSION_amd64.deb (Debian 12, amd64): the release build
# with the Swift runtime and Foundation linked statically, stripped; the systemd units; the
# sample configuration as a conffile; copies of the built-in policy, unit directory and
# calendars; man pages made from the commands' --help; bash completion; the documents.
# Installing it starts nothing; upgrading it restarts what was running. Test it (lintian too):
# scripts/long/test-package.sh.
# VERSION is 0.N.0-R: the upstream part is `gridloopd --version`, the Debian revision R comes
# from the top entry of deploy/debian/changelog, whose upstream part must be the binary's (a
# version bump without a changelog entry is refused, saying what to add).
#   scripts/release/package.sh [OUT_DIR]          # default .build/package; prints the .deb's path
#   DEBFULLNAME=... DEBEMAIL=... scripts/release/package.sh   # another Maintainer than the project's
. "$(dirname "$0")/../lib.sh"
# The package's Maintainer and the copyright file's Upstream-Contact: the project, not whoever
# builds it (this is the one place for it; the changelog's entries are signed with it too).
PROJECT_NAME="Gridloop developers"
PROJECT_EMAIL="dev@gridloop.example"
CHANGELOG=deploy/debian/changelog
out=${1:-$GRIDLOOP_ROOT/.build/package}
mkdir -p "$out" && out=$(cd "$out" && pwd)
# What the build and the packaging need; not the test's PostgreSQL or kcat.
PACKAGES=(librdkafka-dev libpq-dev pkg-config python3 binutils chrpath dpkg-dev groff-base)
ensure_packages
cd "$GRIDLOOP_ROOT"

# The Debian version from the changelog's top entry: parsed by dpkg's own parser, which must
# find no fault in the file (it is installed as changelog.Debian.gz, and lintian reads it).
changelog_field() { dpkg-parsechangelog -l "$CHANGELOG" -S "$1"; }
if ! faults=$(dpkg-parsechangelog -l "$CHANGELOG" --all 2>&1 >/dev/null) || [ -n "$faults" ]; then
  echo "package.sh: $CHANGELOG is not a valid Debian changelog: $faults" >&2
  exit 1
fi
long=$(awk 'length > 80 { printf "%s:%d ", FILENAME, FNR }' "$CHANGELOG")
[ -z "$long" ] || { echo "package.sh: lines longer than 80 characters (lintian refuses them): $long" >&2; exit 1; }
deb_version=$(changelog_field Version)
[[ $deb_version =~ ^([0-9]+(\.[0-9]+)+)-([1-9][0-9]*)$ ]] \
  || { echo "package.sh: $CHANGELOG's top entry is version '$deb_version', not UPSTREAM-REVISION (e.g. 0.27.0-1)" >&2; exit 1; }
changelog_upstream=${BASH_REMATCH[1]}
# Refuses a version the changelog has no entry for: says what to add, before and after the build.
check_changelog_version() {  # the version gridloopd says it is, and where that was read
  [ "$1" = "$changelog_upstream" ] && return 0
  cat >&2 <<EOF
package.sh: $2 says version $1, but the top entry of $CHANGELOG is $deb_version
(upstream $changelog_upstream). A new version needs its entry in the changelog first: add at the
top of $CHANGELOG (lines of at most 80 characters; \`dch --changelog $CHANGELOG -v $1-1\`
from devscripts does it too):

gridloop ($1-1) bookworm; urgency=medium

  * gridloopd $1: what changed, for the operator.

 -- $PROJECT_NAME <$PROJECT_EMAIL>  $(date -R)

EOF
  exit 1
}
# Before the build, from the source (skipped if Version.swift no longer reads so); the binary
# decides, below.
source_version=$(sed -n 's/^let gridloopVersion = "\(.*\)"$/\1/p' Sources/gridloopd/Version.swift 2>/dev/null || true)
[ -z "$source_version" ] || check_changelog_version "$source_version" Sources/gridloopd/Version.swift

# The libraries the binary is linked against (objdump NEEDED) and the package of each; anything
# else is a new run-time dependency, to be added here on purpose (and to deploy/INSTALL.md).
declare -A LIBRARY_PACKAGE=(
  [libpq.so.5]=libpq5 [librdkafka.so.1]=librdkafka1 [libstdc++.so.6]=libstdc++6 [libgcc_s.so.1]=libgcc-s1
  [libm.so.6]=libc6 [libc.so.6]=libc6 [ld-linux-x86-64.so.2]=libc6
)
# The documents shipped in /usr/share/doc/gridloop (flat), and the repository paths that the
# configuration, the units and the help name, rewritten to where the package puts them.
DOCS=(README.md deploy/INSTALL.md docs/*.md)
rewrites=(deploy/policy.yaml=/usr/share/gridloop/policy.yaml deploy/units.yaml=/usr/share/gridloop/units.yaml
  deploy/calendars=/usr/share/gridloop/calendars)
for d in "${DOCS[@]}"; do [[ $d == */* ]] && rewrites+=("$d=/usr/share/doc/gridloop/$(basename "$d")"); done

log "building gridloopd (release, Swift runtime linked statically)"
# Its output to stderr: stdout is the .deb's path, for scripts/long/test-package.sh.
swift build -c release --static-swift-stdlib --product gridloopd >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
version=$("$bin/gridloopd" --version)
[[ $version =~ ^[0-9]+(\.[0-9]+)+$ ]] || { echo "gridloopd --version printed '$version', not a version" >&2; exit 1; }
check_changelog_version "$version" "gridloopd --version"

work=$(mktemp -d "${TMPDIR:-/tmp}/gridloop-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
# dpkg-shlibdeps wants the tree where debhelper would have it: debian/<package>.
root="$work/debian/gridloop"
umask 022
mkdir -p "$root/DEBIAN"

# Dates: from the commit, so that a rebuild of it gives the same package.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
day=$(date -u -d "@$epoch" +%F)
# DEBEMAIL may be "Name <address>", as dch reads it.
name=${DEBFULLNAME:-$PROJECT_NAME}
email=${DEBEMAIL:-$PROJECT_EMAIL}
if [[ $email =~ ^(.*[^ ])\ *\<(.+)\>$ ]]; then
  [ -n "${DEBFULLNAME:-}" ] || name=${BASH_REMATCH[1]}
  email=${BASH_REMATCH[2]}
fi
maintainer="$name <$email>"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -z "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit (with local changes)"

# Replaces a string in a file where it starts a path (not inside /usr/share/doc/gridloop/...);
# it must be there, so that a changed deploy/ file cannot silently give a wrong packaged copy.
subst() {
  local file=$1 from=$2 to=$3
  FROM=$from TO=$to python3 -c '
import os, re, sys
p, old, new = sys.argv[1], os.environ["FROM"], os.environ["TO"]
t, n = re.subn(r"(?<![\w/])" + re.escape(old), lambda m: new, open(p, encoding="utf-8").read())
if n == 0 and not os.environ.get("OPTIONAL"): sys.exit(f"package.sh: {p} no longer contains {old!r}")
open(p, "w", encoding="utf-8").write(t)' "$file"
}
rewrite_paths() {  # the rewrites that apply to the file, if any
  local file=$1 r
  for r in "${rewrites[@]}"; do OPTIONAL=1 subst "$file" "${r%%=*}" "${r#*=}"; done
}

log "binary"
install -D -m 0755 "$bin/gridloopd" "$root/usr/bin/gridloopd"
# As dh_strip does for an executable: no symbols, no .comment/.note (about half the size).
strip --remove-section=.comment --remove-section=.note "$root/usr/bin/gridloopd"
# SwiftPM links with RUNPATH $ORIGIN (for its own libraries next to the binary); from /usr/bin
# that would let files there stand in for system libraries.
chrpath -d "$root/usr/bin/gridloopd" >/dev/null
needed=$(objdump -p "$root/usr/bin/gridloopd" | awk '$1 == "NEEDED" { print $2 }')
for lib in $needed; do
  [ -n "${LIBRARY_PACKAGE[$lib]:-}" ] || { echo "gridloopd needs $lib, which package.sh does not know (LIBRARY_PACKAGE)" >&2; exit 1; }
done
[[ $(readelf -d "$root/usr/bin/gridloopd") != *RUNPATH* ]] || { echo "RUNPATH left in the binary" >&2; exit 1; }
# Stripped, it still runs: the version, and the built-in policy, calendars and units (YAML,
# ICU's time zones) without a file or the caller's environment.
[ "$(env -i "$root/usr/bin/gridloopd" --version)" = "$version" ] || { echo "the stripped binary does not run" >&2; exit 1; }
env -i "$root/usr/bin/gridloopd" check-config >/dev/null

log "systemd units"
units="$root/lib/systemd/system"
install -d "$units"
for u in gridloopd.service gridloopd-scorecard.service gridloopd-scorecard.timer; do
  install -m 0644 "deploy/$u" "$units/$u"
  rewrite_paths "$units/$u"
  if grep -q /usr/local/bin "$units/$u"; then subst "$units/$u" /usr/local/bin/gridloopd /usr/bin/gridloopd; fi
done
# A LoadCredential= whose file is missing stops the unit from starting; a local PostgreSQL with
# peer or trust authentication needs none. So the packaged units carry them commented out, and
# say how to turn them on without editing a file of the package.
for u in gridloopd gridloopd-scorecard; do
  awk -v unit="$u" '
    /^LoadCredential=/ && !told {
      print "# In the package these are off (a missing credential file stops the unit). To hand a"
      print "# secret over: put it in /etc/gridloop/credentials/ (mode 0600), then `systemctl edit " unit "`"
      print "# and add, under [Service], the line for it, e.g."
      print "#   LoadCredential=database-password:/etc/gridloop/credentials/database-password"
      told = 1
    }
    /^LoadCredential=/ { print "#" $0; next }
    { print }' "$units/$u.service" >"$work/unit" && cat "$work/unit" >"$units/$u.service"
done
for u in "$units"/*; do
  if grep -qE '^LoadCredential=|/usr/local/' "$u" || ! grep -qE '^(ExecStart=/usr/bin/gridloopd|Unit=)' "$u"; then
    echo "package.sh: $u was not rewritten as expected" >&2
    exit 1
  fi
done

log "configuration and reference copies"
install -D -m 0644 deploy/gridloopd.yaml "$root/etc/gridloop/gridloopd.yaml"
rewrite_paths "$root/etc/gridloop/gridloopd.yaml"
subst "$root/etc/gridloop/gridloopd.yaml" "# Check a file without connecting:" \
  "# The package: /usr/share/gridloop/ holds copies of the built-in policy, unit directory and
# calendars; to change one, copy it to /etc/gridloop/ and set its key (the examples below).
# Check a file without connecting:"
if grep -nE '(^|[^/])(deploy|docs)/' "$root/etc/gridloop/gridloopd.yaml"; then
  echo "package.sh: the packaged gridloopd.yaml names repository paths (above)" >&2
  exit 1
fi
echo /etc/gridloop/gridloopd.yaml >"$root/DEBIAN/conffiles"
share="$root/usr/share/gridloop"
install -D -m 0644 deploy/policy.yaml "$share/policy.yaml"
install -D -m 0644 deploy/units.yaml "$share/units.yaml"
install -d "$share/calendars"
install -m 0644 deploy/calendars/*.yaml "$share/calendars/"
# The Prometheus alerting rules (with their promtool tests) and the Grafana dashboard.
install -d "$share/monitoring"
install -m 0644 deploy/prometheus/gridloop-rules.yml deploy/prometheus/gridloop-rules.test.yml \
  deploy/grafana/gridloop.json "$share/monitoring/"
# The packaged configuration, as the daemon reads it (the copies are what is built in).
env -i "$root/usr/bin/gridloopd" check-config --config "$root/etc/gridloop/gridloopd.yaml" >/dev/null
env -i GRIDLOOP_POLICY_FILE="$share/policy.yaml" GRIDLOOP_CALENDAR_DIR="$share/calendars" \
  GRIDLOOP_UNIT_DIRECTORY="$share/units.yaml" "$root/usr/bin/gridloopd" check-config --config "$root/etc/gridloop/gridloopd.yaml" >/dev/null

log "man pages"
rewrite_args=()
for r in "${rewrites[@]}"; do rewrite_args+=(--rewrite "$r"); done
python3 scripts/gen/gen_manpages.py "$root/usr/bin/gridloopd" "$work/man" --version "$version" --date "$day" "${rewrite_args[@]}" >/dev/null
install -d "$root/usr/share/man/man1"
for page in "$work"/man/*.1; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [ -z "$warnings" ] || { echo "groff warns about $(basename "$page"): $warnings" >&2; exit 1; }
  gzip -9n <"$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
done

log "bash completion"
# ArgumentParser's script, loaded on demand by the bash-completion package. Not a program: no #!.
completion="$root/usr/share/bash-completion/completions/gridloopd"
install -d "$(dirname "$completion")"
env -i "$root/usr/bin/gridloopd" --generate-completion-script bash | sed '1{/^#!/d}' >"$completion"
bash -n "$completion"
grep -q '^complete .* gridloopd$' "$completion" || { echo "package.sh: the completion script registers no completion for gridloopd" >&2; exit 1; }

log "documents"
doc="$root/usr/share/doc/gridloop"
install -d "$doc"
for d in "${DOCS[@]}"; do install -m 0644 "$d" "$doc/"; done
# The units' Documentation= must name files that are there.
for u in "$units"/*; do
  for f in $(sed -n 's|^Documentation=file:||p' "$u"); do
    [ -f "$root$f" ] || { echo "$(basename "$u"): Documentation=$f is not in the package" >&2; exit 1; }
  done
done
# The Debian changelog as kept in the repository (a non-native package: changelog.Debian).
gzip -9n <"$CHANGELOG" >"$doc/changelog.Debian.gz"
# Machine-readable (copyright-format 1.0). gridloop's own code is proprietary (the repository
# states no licence); the libraries linked statically into the binary keep theirs, and MIT and
# Unicode want their notices shipped with it.
yams=.build/checkouts/Yams/LICENSE
[ -f "$yams" ] || { echo "package.sh: $yams is missing (swift package resolve)" >&2; exit 1; }
{
  cat <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: gridloop
Upstream-Contact: PROJECT

Files: *
Copyright: Gridloop
License: proprietary

Files: usr/bin/gridloopd
Copyright: Gridloop
 Apple Inc. and the Swift project authors
 the Swift Server Work Group
 2016 and later Unicode, Inc. and others
 2016 JP Simard
 2006-2016 Kirill Simonov
 2017-2020 Ingy döt Net
License: proprietary and Apache-2.0 with Swift exception and Apache-2.0 and Unicode-3.0 and MIT
Comment: gridloopd has linked into it, statically: the Swift runtime and standard library,
 Foundation and Dispatch (Apache-2.0 with the Runtime Library Exception); ICU's code and data,
 in Foundation (Unicode-3.0); swift-argument-parser, swift-log, swift-metrics, swift-atomics
 and swift-prometheus (Apache-2.0); Yams and the libyaml it contains (MIT).

License: proprietary
 Proprietary, Gridloop. All rights reserved. No licence is granted to use, copy, modify or
 distribute this software except by written agreement with Gridloop.

License: Apache-2.0
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.

License: Apache-2.0 with Swift exception
 On Debian systems the Apache License 2.0 is in /usr/share/common-licenses/Apache-2.0.
 .
 Runtime Library Exception to the Apache 2.0 License:
 As an exception, if you use this Software to compile your source code and portions of this
 Software are embedded into the binary product as a result, you may redistribute such product
 without providing attribution as would otherwise be required by Sections 4(a), 4(b) and 4(d)
 of the License.

License: Unicode-3.0
 Permission is hereby granted, free of charge, to any person obtaining a copy of data files
 and any associated documentation (the "Data Files") or software and any associated
 documentation (the "Software") to deal in the Data Files or Software without restriction,
 including without limitation the rights to use, copy, modify, merge, publish, distribute,
 and/or sell copies of the Data Files or Software, and to permit persons to whom the Data Files
 or Software are furnished to do so, provided that either (a) this copyright and permission
 notice appear with all copies of the Data Files or Software, or (b) this copyright and
 permission notice appear in associated Documentation.
 .
 THE DATA FILES AND SOFTWARE ARE PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
 IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A
 PARTICULAR PURPOSE AND NONINFRINGEMENT OF THIRD PARTY RIGHTS.
 .
 IN NO EVENT SHALL THE COPYRIGHT HOLDER OR HOLDERS INCLUDED IN THIS NOTICE BE LIABLE FOR ANY
 CLAIM, OR ANY SPECIAL INDIRECT OR CONSEQUENTIAL DAMAGES, OR ANY DAMAGES WHATSOEVER RESULTING
 FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT, NEGLIGENCE OR OTHER
 TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE OF THE DATA FILES
 OR SOFTWARE.
 .
 Except as contained in this notice, the name of a copyright holder shall not be used in
 advertising or otherwise to promote the sale, use or other dealings in these Data Files or
 Software without prior written authorization of the copyright holder.

License: MIT
EOF
  # The MIT notice as Yams' checkout has it (Yams and libyaml: the notice goes with every copy).
  sed -n '/^Permission is hereby granted/,$p' "$yams" | sed -e 's/^$/./' -e 's/^/ /'
} >"$doc/copyright"
# gridloop's years: from its first commit to this one.
first=$(git log --format=%cd --date=format:%Y 2>/dev/null | tail -n 1 || true)
last=$(date -u -d "@$epoch" +%Y)
years=${first:-$last}; [ "$years" = "$last" ] || years="$years-$last"
sed -i -e "s/^Copyright: Gridloop\$/Copyright: $years Gridloop/" \
  -e "s/^Upstream-Contact: PROJECT\$/Upstream-Contact: $PROJECT_NAME <$PROJECT_EMAIL>/" "$doc/copyright"
# What lintian says that is so on purpose.
install -d "$root/usr/share/lintian/overrides"
cat >"$root/usr/share/lintian/overrides/gridloop" <<'EOF'
# Yams, the YAML parser linked statically into gridloopd (as every Swift package is), compiles
# its own copy of libyaml; Debian's libyaml is not used.
gridloop: embedded-library libyaml [usr/bin/gridloopd]
# deploy/INSTALL.md is the operator's guide to this package (and to installing without it).
gridloop: package-contains-upstream-installation-documentation [usr/share/doc/gridloop/INSTALL.md]
EOF

log "maintainer scripts"
# Installing starts and enables nothing. Upgrading restarts what was running, as debhelper's
# dh_installsystemd --no-start --restart-after-upgrade would have it: prerm stops nothing on an
# upgrade, so gridloopd.service and gridloopd-scorecard.timer run on through the unpacking and
# systemd itself remembers which were active; postinst restarts those (on the new binary and
# units) and leaves the others stopped. The 0.19.0 and 0.27.0 packages (no Debian revision)
# stopped both in their prerm and noted nothing: from them, preinst notes it and postinst starts
# the ones that are enabled. deb-systemd-invoke (init-system-helpers, essential) is systemctl
# asking policy-rc.d first; systemctl itself only answers is-active and is-enabled.
# The first version of this scheme: older packages' prerm stopped the units on an upgrade.
first_restarting=0.27.0-1~
cat >"$root/DEBIAN/preinst" <<EOF
#!/bin/sh
# gridloop preinst. Upgrading from a package before $first_restarting (0.19.0, 0.27.0): its prerm
# has just stopped gridloopd.service and gridloopd-scorecard.timer and noted nothing. What ran
# under those packages is what was enabled: postinst is to start the enabled ones.
set -e

if [ "\$1" = upgrade ] && dpkg --compare-versions "\$2" lt $first_restarting; then
    mkdir -p /run/gridloop-upgrade
    : >/run/gridloop-upgrade/start-enabled
fi

exit 0
EOF
cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# gridloop postinst. Install: the service's user and the directory for its secrets; starts and
# enables nothing (gridloopd runs once it is configured and its database migrated). Upgrade:
# restarts the units that were running through it (prerm stops nothing on an upgrade) and
# leaves the stopped ones stopped; after a package that stopped them (preinst's note), starts
# the enabled ones.
set -e

UNITS="gridloopd.service gridloopd-scorecard.timer"

# How a unit stands after it was restarted or started ($2).
report() {
    if systemctl --quiet is-active "$1"; then
        echo "  $1: $2"
    else
        echo "  $1: FAILED to be $2; journalctl -u $1 says why"
    fi
}

# restart: the active units, with their new binary and unit files; start: the enabled ones
# (after a prerm that stopped them).
bring_back() {
    if [ ! -d /run/systemd/system ]; then
        echo "  (systemd is not running: nothing to restart)"
        return 0
    fi
    for unit in $UNITS; do
        if [ "$1" = restart ]; then
            if systemctl --quiet is-active "$unit"; then
                deb-systemd-invoke try-restart "$unit" >/dev/null || true
                report "$unit" restarted
            else
                echo "  $unit: was not running; left stopped"
            fi
        elif systemctl --quiet is-enabled "$unit"; then
            deb-systemd-invoke start "$unit" >/dev/null || true
            report "$unit" "started (enabled)"
        else
            echo "  $unit: not enabled; not started"
        fi
    done
}

case "$1" in
    configure)
        if ! getent group gridloop >/dev/null; then
            groupadd --system gridloop
        fi
        if ! getent passwd gridloop >/dev/null; then
            useradd --system --gid gridloop --no-create-home --home-dir /nonexistent \
                --shell /usr/sbin/nologin --comment "Gridloop escalation engine" gridloop
        fi
        # Secrets for LoadCredential=, readable by root only (systemd hands them over).
        if [ ! -d /etc/gridloop/credentials ]; then
            install -d -m 0700 -o root -g root /etc/gridloop/credentials
        fi
        if [ -d /run/systemd/system ]; then
            systemctl --system daemon-reload >/dev/null || true
        fi
        if [ -z "$2" ]; then
            cat <<'NOTE'
gridloop is installed; nothing is started until it is configured:
  1. edit /etc/gridloop/gridloopd.yaml (kafka.brokers, database.url)
  2. runuser -u gridloop -- gridloopd migrate --config /etc/gridloop/gridloopd.yaml
  3. systemctl enable --now gridloopd
Secrets, the scorecard timer and more: /usr/share/doc/gridloop/INSTALL.md
NOTE
        else
            echo "gridloop upgraded from $2; what was running runs again:"
            if [ -e /run/gridloop-upgrade/start-enabled ]; then
                bring_back start
            else
                bring_back restart
            fi
            rm -rf /run/gridloop-upgrade
            cat <<'NOTE'
A gridloopd that does not start says why in journalctl -u gridloopd; a database not migrated
to this version: runuser -u gridloop -- gridloopd migrate --config /etc/gridloop/gridloopd.yaml
(in a rolling upgrade, once, before the first host: /usr/share/doc/gridloop/OPERATIONS.md,
"Upgrading without stopping the ladder").
NOTE
        fi
        ;;
    abort-upgrade)
        # The new version failed to unpack; what ran kept running on this version's files.
        rm -rf /run/gridloop-upgrade
        if [ -d /run/systemd/system ]; then
            systemctl --system daemon-reload >/dev/null || true
        fi
        ;;
    abort-remove|abort-deconfigure)
        # prerm stopped the units and the removal failed: start again the enabled ones.
        echo "gridloop stays installed:"
        bring_back start
        ;;
esac

exit 0
EOF
cat >"$root/DEBIAN/prerm" <<EOF
#!/bin/sh
# gridloop prerm. Remove: stop what runs from this package before its files go. Upgrade: stop
# nothing; gridloopd.service and the scorecard timer run on (on the files they hold open) while
# the new version is unpacked, and its postinst restarts those that are active. A version
# before $first_restarting would not restart them: for it, stop them, as it expects.
set -e

stop_all() {
    # Stopping a unit that is not active does nothing.
    if [ -d /run/systemd/system ]; then
        deb-systemd-invoke stop gridloopd-scorecard.timer gridloopd-scorecard.service \\
            gridloopd.service >/dev/null || true
    fi
}

case "\$1" in
    remove|deconfigure)
        stop_all
        ;;
    upgrade)
        if dpkg --compare-versions "\$2" lt $first_restarting; then
            stop_all
        fi
        ;;
esac

exit 0
EOF
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
# gridloop postrm. Purge removes what the package made and nothing the operator put there:
# /etc/gridloop (and its credentials directory) only if empty once dpkg has removed the
# conffile. The gridloop user stays (files elsewhere may belong to it) and the database is
# never touched.
set -e

case "$1" in
    purge)
        rmdir /etc/gridloop/credentials 2>/dev/null || true
        rmdir /etc/gridloop 2>/dev/null || true
        # `systemctl enable` links, left dangling by the units' removal.
        for link in /etc/systemd/system/*.wants/gridloopd.service \
                    /etc/systemd/system/*.wants/gridloopd-scorecard.timer; do
            if [ -L "$link" ] && [ ! -e "$link" ]; then
                rm -f "$link"
            fi
        done
        ;;
esac

case "$1" in
    remove|purge)
        if [ -d /run/systemd/system ]; then
            systemctl --system daemon-reload >/dev/null || true
        fi
        ;;
    abort-install|abort-upgrade)
        # preinst's note for postinst, which will not run.
        rm -rf /run/gridloop-upgrade
        ;;
esac

exit 0
EOF
for s in preinst postinst prerm postrm; do
  chmod 0755 "$root/DEBIAN/$s"
  sh -n "$root/DEBIAN/$s"
done

log "control"
# Versions from dpkg-shlibdeps (the symbols the binary uses); the packages must be LIBRARY_PACKAGE's.
shlibs=$(cd "$work" && mkdir -p debian && printf 'Source: gridloop\n\nPackage: gridloop\nArchitecture: amd64\n' >debian/control \
  && dpkg-shlibdeps -O debian/gridloop/usr/bin/gridloopd 2>"$work/shlibdeps.log") \
  || { cat "$work/shlibdeps.log" >&2; exit 1; }
depends=${shlibs#shlibs:Depends=}
want=$(printf '%s\n' "${LIBRARY_PACKAGE[@]}" | sort -u | tr '\n' ' ')
got=$(echo "$depends" | tr ',' '\n' | awk '{ print $1 }' | sort -u | tr '\n' ' ')
[ "$want" = "$got" ] || { echo "dpkg-shlibdeps says '$depends'; expected the packages $want" >&2; exit 1; }
rm -rf "$work/debian/control"
installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: gridloop
Version: $deb_version
Architecture: amd64
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $depends
Section: net
Priority: optional
Description: escalation engine for the 12345/12319 hotline ladder
 gridloopd consumes the 12345 and 12319 hotline platforms' Kafka intake
 topics into PostgreSQL effectively once, keeps every open case's SLA
 clocks (sign and handle, by China's official working-day calendars) and
 publishes supervision and escalation events to Kafka as CloudEvents.
 .
 This package installs the daemon, its systemd units (not enabled), the
 monthly scorecard timer, a sample configuration in /etc/gridloop and man
 pages. Nothing is started until it is configured.
EOF
# md5sums of every file but the conffile (dpkg keeps the conffile's own).
(cd "$root" && find . -type f ! -path './DEBIAN/*' ! -path './etc/*' -printf '%P\n' | LC_ALL=C sort | xargs md5sum) >"$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

# Modes: directories and the binary 0755, the rest 0644; one timestamp, the commit's.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -path "$root/DEBIAN/*" -exec chmod 0644 {} +
chmod 0755 "$root/usr/bin/gridloopd"
find "$root" -exec touch -h -d "@$epoch" {} +

deb="$out/gridloop_${deb_version}_amd64.deb"
# SOURCE_DATE_EPOCH: the archive members' dates too, so that a rebuild is the same file.
SOURCE_DATE_EPOCH=$epoch dpkg-deb --build --root-owner-group "$root" "$deb" >/dev/null
log "built $deb ($(du -h "$deb" | cut -f1)), version $deb_version, from commit $commit"
echo "$deb"
