#!/usr/bin/env bash
# Builds the Debian package gridloop_VERSION_amd64.deb (Debian 12, amd64): the release build
# with the Swift runtime and Foundation linked statically, stripped; the systemd units; the
# sample configuration as a conffile; copies of the built-in policy, unit directory and
# calendars; man pages made from the commands' --help; the documents. Installing it starts
# nothing. Test it: scripts/test-package.sh.
#   scripts/package.sh [OUT_DIR]          # default .build/package; prints the .deb's path
#   DEBFULLNAME=... DEBEMAIL=... scripts/package.sh   # Maintainer (default: git config user.*)
. "$(dirname "$0")/lib.sh"
out=${1:-$GRIDLOOP_ROOT/.build/package}
mkdir -p "$out" && out=$(cd "$out" && pwd)
# What the build and the packaging need; not the test's PostgreSQL or kcat.
PACKAGES=(librdkafka-dev libpq-dev pkg-config python3 binutils chrpath dpkg-dev groff-base)
ensure_packages
cd "$GRIDLOOP_ROOT"

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
# Its output to stderr: stdout is the .deb's path, for scripts/test-package.sh.
swift build -c release --static-swift-stdlib --product gridloopd >&2
bin=$(swift build -c release --static-swift-stdlib --show-bin-path)
version=$("$bin/gridloopd" --version)
[[ $version =~ ^[0-9]+(\.[0-9]+)+$ ]] || { echo "gridloopd --version printed '$version', not a version" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/gridloop-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
# dpkg-shlibdeps wants the tree where debhelper would have it: debian/<package>.
root="$work/debian/gridloop"
umask 022
mkdir -p "$root/DEBIAN"

# Dates and the maintainer: from the commit, so that a rebuild of it gives the same package.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
day=$(date -u -d "@$epoch" +%F)
name=${DEBFULLNAME:-$(git config user.name || git log -1 --format=%an)}
email=${DEBEMAIL:-$(git config user.email || git log -1 --format=%ae)}
[ -n "$name" ] && [ -n "$email" ] || { echo "no maintainer: set DEBFULLNAME and DEBEMAIL (or git config user.*)" >&2; exit 1; }
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
# The packaged configuration, as the daemon reads it (the copies are what is built in).
env -i "$root/usr/bin/gridloopd" check-config --config "$root/etc/gridloop/gridloopd.yaml" >/dev/null
env -i GRIDLOOP_POLICY_FILE="$share/policy.yaml" GRIDLOOP_CALENDAR_DIR="$share/calendars" \
  GRIDLOOP_UNIT_DIRECTORY="$share/units.yaml" "$root/usr/bin/gridloopd" check-config --config "$root/etc/gridloop/gridloopd.yaml" >/dev/null

log "man pages"
rewrite_args=()
for r in "${rewrites[@]}"; do rewrite_args+=(--rewrite "$r"); done
python3 scripts/gen_manpages.py "$root/usr/bin/gridloopd" "$work/man" --version "$version" --date "$day" "${rewrite_args[@]}" >/dev/null
install -d "$root/usr/share/man/man1"
for page in "$work"/man/*.1; do
  warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
  [ -z "$warnings" ] || { echo "groff warns about $(basename "$page"): $warnings" >&2; exit 1; }
  gzip -9n <"$page" >"$root/usr/share/man/man1/$(basename "$page").gz"
done

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
{
  printf 'gridloop (%s) bookworm; urgency=medium\n\n' "$version"
  printf '  * gridloopd %s, from commit %s.\n\n' "$version" "$commit"
  printf ' -- %s  %s\n' "$maintainer" "$(date -u -R -d "@$epoch")"
} | gzip -9n >"$doc/changelog.Debian.gz"
# Machine-readable (copyright-format 1.0). gridloop's own code is proprietary (the repository
# states no licence); the libraries linked statically into the binary keep theirs, and MIT and
# Unicode want their notices shipped with it.
yams=.build/checkouts/Yams/LICENSE
[ -f "$yams" ] || { echo "package.sh: $yams is missing (swift package resolve)" >&2; exit 1; }
{
  cat <<'EOF'
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: gridloop
Upstream-Contact: Gridloop <dev@gridloop.example>

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
sed -i "s/^Copyright: Gridloop\$/Copyright: $years Gridloop/" "$doc/copyright"
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
cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
# gridloop postinst: the service's user and the directory for its secrets. Starts and enables
# nothing: gridloopd runs once it is configured and its database migrated.
set -e

if [ "$1" = configure ]; then
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
        cat <<'NOTE'
gridloop upgraded; gridloopd was stopped for it (the other instances hold its partitions).
  1. If no host has yet: runuser -u gridloop -- gridloopd migrate --config /etc/gridloop/gridloopd.yaml
     (the old version runs on the migrated schema; best done before the first host is upgraded)
  2. systemctl start gridloopd, and wait for curl -fs localhost:9464/readyz before the next host
Rolling upgrades: /usr/share/doc/gridloop/OPERATIONS.md, "Upgrading without stopping the ladder"
NOTE
    fi
fi

exit 0
EOF
cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
# gridloop prerm: stop what runs from this package before its files change or go.
set -e

case "$1" in
    remove|upgrade|deconfigure)
        # deb-systemd-invoke (init-system-helpers, essential) is systemctl respecting
        # policy-rc.d; stopping a unit that is not active does nothing.
        if [ -d /run/systemd/system ]; then
            deb-systemd-invoke stop gridloopd-scorecard.timer gridloopd-scorecard.service \
                gridloopd.service >/dev/null || true
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
esac

exit 0
EOF
for s in postinst prerm postrm; do
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
Version: $version
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

deb="$out/gridloop_${version}_amd64.deb"
# SOURCE_DATE_EPOCH: the archive members' dates too, so that a rebuild is the same file.
SOURCE_DATE_EPOCH=$epoch dpkg-deb --build --root-owner-group "$root" "$deb" >/dev/null
log "built $deb ($(du -h "$deb" | cut -f1))"
echo "$deb"
