#!/usr/bin/env python3
"""Writes man pages (roff, section 1) from gridloopd's own help: gridloopd.1 and one
gridloopd-<sub>[-<subsub>].1 per subcommand, found by following the SUBCOMMANDS sections.
Used by scripts/release/package.sh; the help text stays the one source of what the commands do.
  scripts/gen/gen_manpages.py BINARY OUTDIR --version 0.19.0 --date 2026-12-07 \
      [--rewrite docs/OPERATIONS.md=/usr/share/doc/gridloop/OPERATIONS.md ...]
--rewrite replaces a repository path the help mentions by where the package installs it."""
import argparse
import os
import pathlib
import re
import subprocess
import sys

# The package's files, for gridloopd.1 (scripts/release/package.sh installs them there).
FILES = [
    ("/etc/gridloop/gridloopd.yaml", "The configuration (every key with its default; GRIDLOOP_* variables override it)."),
    ("/etc/gridloop/credentials/", "Secrets for systemd's LoadCredential= (database-password, kafka-sasl-password), root only."),
    ("/usr/share/gridloop/", "Copies of the built-in SLA policy, unit directory and calendars, to start a changed one from."),
    ("/lib/systemd/system/gridloopd.service", "The daemon's unit; gridloopd-scorecard.timer publishes the monthly scorecards."),
    ("/usr/share/bash-completion/completions/gridloopd", "Bash completion of the commands and options (with the bash-completion package)."),
    ("/usr/share/doc/gridloop/", "README.md, INSTALL.md, OPERATIONS.md and the other documents."),
]
SECTION = re.compile(r"^([A-Z][A-Z0-9 ]*):(?: (.*))?$")
SEE_HELP = re.compile(r"^\s+See '.*' for detailed help\.$")


def help_text(binary, path):
    # A wide terminal: every paragraph and every option's description on one line, so that
    # the only line breaks left are the ones the help itself has.
    env = dict(os.environ, COLUMNS="10000")
    out = subprocess.run([binary, "help", *path], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{binary} help {' '.join(path)} failed ({out.returncode}): {out.stderr or out.stdout}")
    return out.stdout


def parse(text):
    """Sections of a help text: {'OVERVIEW': [lines], 'USAGE': [...], 'OPTIONS': [...]}, in order."""
    sections, current = {}, None
    for line in text.rstrip("\n").split("\n"):
        m = SECTION.match(line)
        if m:
            current = m.group(1)
            sections[current] = [m.group(2)] if m.group(2) else []
        elif current is not None:
            sections[current].append(line)
        elif line.strip():
            sys.exit(f"help text before any section: {line!r}")
    for lines in sections.values():
        while lines and not lines[-1].strip():
            lines.pop()
    return sections


def entries(lines):
    """Rows of an OPTIONS, ARGUMENTS or SUBCOMMANDS section: [(label, description)]. A label
    too long for its column has its description on the lines below, indented."""
    rows = []
    for line in lines:
        if not line.strip() or SEE_HELP.match(line):
            continue
        if re.match(r"^  \S", line):
            label, _, description = line[2:].partition("  ")
            rows.append([label.strip(), description.strip()])
        elif re.match(r"^ {4,}\S", line) and rows:
            rows[-1][1] = (rows[-1][1] + " " + line.strip()).strip()
        else:
            sys.exit(f"unexpected line in a help section: {line!r}")
    return [tuple(r) for r in rows]


def escape(text, rewrites, words=True):
    """Roff text: backslashes, minus signs of options, non-ASCII as \\[uXXXX] (the page is
    read the same in any locale). words: a word with a dash (kafka-sasl-password, a date)
    is not broken at the end of a line."""
    for old, new in rewrites:
        text = re.sub(r"(?<![\w/])" + re.escape(old), lambda m: new, text)
    text = text.replace("\\", "\\e")
    if words:
        text = re.sub(r"(?<!\S)(?=[^\s]*-)", r"\\%", text)
    # A dash that starts a word is an option or a minus: \- (groff prints U+2010 for a bare -
    # in some devices, which a reader cannot paste into a shell).
    text = re.sub(r"(?<![\w.])-+", lambda m: "\\-" * len(m.group()), text)
    return "".join(c if ord(c) < 128 else f"\\[u{ord(c):04X}]" for c in text)


def line(text):
    """One input line of running text: a leading . or ' would be read as a request."""
    return "\\&" + text if text[:1] in (".", "'") else text


def dashed(name):
    """A command's page name, gridloopd\\-case\\-show, as NAME and SEE ALSO write it."""
    return escape(name, [], words=False).replace("-", "\\-")


def quoted(text):
    return '"' + text.replace('"', "\\(dq") + '"'


def label(text, rewrites):
    """An option or argument label: names bold, values in italics."""
    parts = re.split(r"(<[^>]+>)", text)
    out = []
    for p in parts:
        if p.startswith("<"):
            out.append("\\fI" + escape(p, rewrites) + "\\fR")
        elif p:
            out.append(re.sub(r"(\\-[\w\\-]*)", r"\\fB\1\\fR", escape(p, rewrites)))
    return "".join(out)


def page(binary, path, args, rewrites):
    sections = parse(help_text(binary, path))
    name = "-".join(["gridloopd", *path])
    command = " ".join(["gridloopd", *path])
    overview = sections.get("OVERVIEW", [])
    if not overview:
        sys.exit(f"{command}: no OVERVIEW in its help")
    abstract, discussion = overview[0], overview[1:]
    subcommands = entries(sections.get("SUBCOMMANDS", []))
    out = [
        f'.\\" Generated by scripts/gen/gen_manpages.py from `{command} --help`. Do not edit.',
        f".TH {quoted(escape(name.upper(), [], words=False))} 1 {quoted(args.date)} {quoted('gridloop ' + args.version)} "
        f"{quoted('Gridloop manual')}",
        # No hyphenation, no justification: option names and keys (sla.officeHours) stay whole.
        ".nh",
        ".ad l",
        ".SH NAME",
        f"{dashed(name)} \\- {escape(abstract, rewrites)}",
        ".SH SYNOPSIS",
    ]
    for usage in sections.get("USAGE", []):
        usage = usage.strip()
        if not usage.startswith(command):
            sys.exit(f"{command}: unexpected USAGE line {usage!r}")
        rest = usage[len(command):].strip()
        # An option and its value, and a bracketed group, stay on one line (\x00: a no-break space).
        rest = re.sub(r"\[[^\[\]]*\]", lambda m: m.group().replace(" ", "\x00"), rest)
        rest = re.sub(r"(\S) (<[^>]+>)", "\\1\x00\\2", rest)
        rest = label(rest, rewrites).replace("\x00", "\\ ")
        out += [f".B {escape(command, [], words=False)}", rest] if rest else [f".B {escape(command, [], words=False)}"]
        out.append(".br")
    if out[-1] == ".br":
        out.pop()
    out += [".SH DESCRIPTION", line(escape(abstract, rewrites))]
    paragraph = []
    for text in discussion + [""]:
        if text.strip():
            paragraph.append(line(escape(text.strip(), rewrites)))
        elif paragraph:
            # Lines of one paragraph in the help are separate lines (an example, a list).
            out += [".PP", "\n.br\n".join(paragraph)]
            paragraph = []
    for title in ("ARGUMENTS", "OPTIONS"):
        rows = entries(sections.get(title, []))
        if rows:
            out.append(f".SH {title}")
            for lab, description in rows:
                out += [".TP", label(lab, rewrites), line(escape(description, rewrites))]
    if subcommands:
        out.append(".SH COMMANDS")
        for sub, description in subcommands:
            child = "-".join([name, sub])
            out += [".TP", f"\\fB{escape(sub, [])}\\fR", line(escape(description, rewrites)),
                    f"See \\fB{dashed(child)}\\fR(1)."]
    for title in sections:
        if title not in ("OVERVIEW", "USAGE", "ARGUMENTS", "OPTIONS", "SUBCOMMANDS"):
            sys.exit(f"{command}: help section {title} is not known to gen_manpages.py")
    if not path:
        out.append(".SH FILES")
        for file, description in FILES:
            out += [".TP", f"\\fI{escape(file, [])}\\fR", line(escape(description, rewrites))]
    see = []
    if path:
        see.append("gridloopd" if len(path) == 1 else "-".join(["gridloopd", *path[:-1]]))
    see += ["-".join([name, sub]) for sub, _ in subcommands]
    if see:
        out += [".SH SEE ALSO", ",\n".join(f"\\fB{dashed(s)}\\fR(1)" for s in see)]
    pages = {name + ".1": "\n".join(out) + "\n"}
    for sub, _ in subcommands:
        pages.update(page(binary, [*path, sub], args, rewrites))
    return pages


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("binary")
    parser.add_argument("outdir")
    parser.add_argument("--version", required=True)
    parser.add_argument("--date", required=True, help="YYYY-MM-DD for the pages' footer")
    parser.add_argument("--rewrite", action="append", default=[], metavar="FROM=TO")
    args = parser.parse_args()
    rewrites = [tuple(r.split("=", 1)) for r in args.rewrite]
    outdir = pathlib.Path(args.outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    pages = page(args.binary, [], args, rewrites)
    for file, text in pages.items():
        (outdir / file).write_text(text, encoding="ascii")
    print(" ".join(sorted(pages)))


if __name__ == "__main__":
    main()
