#!/usr/bin/env python3
"""Samples a soak run every minute and judges it (scripts/long/soak.sh runs it).

  soak.py sample --seconds N --csv OUT --pids P1,P2 --metrics 127.0.0.1:9471,127.0.0.1:9472 \\
                 --db URL --published FILE [--interval 60]
  soak.py report --csv OUT --html PAGE [--warmup SECONDS]

`report` fits a least-squares line to each series after the warm-up and fails (exit 1) when
the rise it gives across the measured window is above the series' tolerance: the larger of a
floor (an absolute amount: noise a healthy daemon shows) and a share of the series' level.
Why those numbers: docs/SOAK.md.
"""
import argparse
import csv
import datetime as dt
import html
import json
import math
import os
import subprocess
import sys
import time
import urllib.request

# Tables whose rows leave once handled: their size must stay level.
QUEUE_TABLES = ["outbox", "held_events", "scorecard_dirty"]
# Tables that keep the history: they grow with what is applied; their bytes per applied event
# must stay level (bloat would show as a rise).
HISTORY_TABLES = ["cases", "case_events", "case_clocks", "sla_decisions", "scorecard_handlings", "dead_letters"]

# series -> (label, unit, floor, share of level); None: charted, not judged.
CHECKS = {
    "cases": ("cases (cumulative)", "", None, None),
    "rss_mb_a": ("RSS, instance A", "MB", 5, 0.10),
    "rss_mb_b": ("RSS, instance B", "MB", 5, 0.10),
    "fds_a": ("open file descriptors, A", "", 3, 0),
    "fds_b": ("open file descriptors, B", "", 3, 0),
    "pg_connections": ("PostgreSQL connections", "", 1, 0),
    "intake_lag": ("intake lag", "messages", 500, 0.5),
    "outbox_backlog": ("outbox backlog", "rows", 500, 0.5),
    "oldest_due_s": ("oldest due timer not fired", "s", 10, 0.5),
    "p99_due_to_published_s": ("p99 due → published", "s", 2, 0.5),
    "cache_cases": ("intake cache (both)", "cases", 2000, 0.2),
    "queue_tables_mb": ("queue tables (outbox, held, scorecard queue)", "MB", 2, 0.5),
    "queued_rows": ("rows waiting: scorecard queue and held events", "rows", 2000, 0.5),
    "history_bytes_per_event": ("history tables, bytes per applied event", "B", 50, 0.10),
    "history_tables_mb": ("history tables (grow with the feed)", "MB", None, None),
    "events_applied": ("events applied (cumulative)", "", None, None),
    "cpu_s_a": ("CPU seconds a minute, A", "s", 1, 0.3),
    "cpu_s_b": ("CPU seconds a minute, B", "s", 1, 0.3),
}


def proc(pid, what):
    try:
        if what == "rss":
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        if what == "fds":
            return len(os.listdir(f"/proc/{pid}/fd"))
        if what == "cpu":
            with open(f"/proc/{pid}/stat") as f:
                parts = f.read().rsplit(")", 1)[1].split()
            return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return None
    return None


def psql(db, sql):
    out = subprocess.run(["psql", "-tAq", "-F", "\t", db, "-c", sql], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip())
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def metric_sum(endpoints, name):
    total = 0.0
    for ep in endpoints:
        try:
            text = urllib.request.urlopen(f"http://{ep}/metrics", timeout=5).read().decode()
        except OSError:
            continue
        for line in text.splitlines():
            if line.startswith(name) and (len(line) == len(name) or line[len(name)] in " {"):
                total += float(line.rsplit(" ", 1)[1])
    return total


def parse_time(s):
    return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()  # 2026-11-23T02:46:56.000Z


def sample(a):
    pids = [int(p) for p in a.pids.split(",")]
    endpoints = a.metrics.split(",")
    tables = QUEUE_TABLES + HISTORY_TABLES
    sizes_sql = "SELECT " + ", ".join(f"pg_total_relation_size('{t}')" for t in tables)
    fields = ["t_s", "rss_mb_a", "rss_mb_b", "fds_a", "fds_b", "cpu_s_a", "cpu_s_b", "pg_connections", "intake_lag",
              "outbox_backlog", "oldest_due_s", "p99_due_to_published_s", "published_this_minute", "cache_cases", "cases",
              "events_applied", "queue_tables_mb", "history_tables_mb", "history_bytes_per_event", "queued_rows"] + \
             [f"size_{t}" for t in tables]
    started = time.time()
    files = a.published.split(",")
    offsets = {p: 0 for p in files}
    last_cpu = [proc(p, "cpu") or 0 for p in pids]
    with open(a.csv, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        n = 0
        while True:
            n += 1
            target = started + n * a.interval
            while time.time() < target:
                time.sleep(min(1, target - time.time()))
            row = {"t_s": round(time.time() - started)}
            for p, suffix in zip(pids, "ab"):
                row[f"rss_mb_{suffix}"] = round(proc(p, "rss") or 0, 1)
                row[f"fds_{suffix}"] = proc(p, "fds") or 0
            cpu = [proc(p, "cpu") or 0 for p in pids]
            row["cpu_s_a"], row["cpu_s_b"] = [round(c - l, 2) for c, l in zip(cpu, last_cpu)]
            last_cpu = cpu
            try:
                r = psql(a.db, """
                    SELECT (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
                              AND backend_type = 'client backend' AND pid <> pg_backend_pid()),
                           (SELECT count(*) FROM outbox),
                           coalesce((SELECT extract(epoch FROM now() - min(next_due)) FROM case_clocks WHERE next_due <= now()), 0),
                           (SELECT count(*) FROM case_events), (SELECT count(*) FROM cases),
                           (SELECT count(*) FROM scorecard_dirty) + (SELECT count(*) FROM held_events)""")[0]
                row["pg_connections"], row["outbox_backlog"] = int(r[0]), int(r[1])
                row["oldest_due_s"], row["events_applied"] = round(float(r[2]), 1), int(r[3])
                row["cases"], row["queued_rows"] = int(r[4]), int(r[5])
                s = [int(x) for x in psql(a.db, sizes_sql)[0]]
                for t, v in zip(tables, s):
                    row[f"size_{t}"] = v
                row["queue_tables_mb"] = round(sum(s[: len(QUEUE_TABLES)]) / 2**20, 2)
                hist = sum(s[len(QUEUE_TABLES):])
                row["history_tables_mb"] = round(hist / 2**20, 2)
                row["history_bytes_per_event"] = round(hist / max(1, row["events_applied"]), 1)
            except (RuntimeError, subprocess.TimeoutExpired, IndexError, ValueError) as e:
                print(f"soak sample: database: {e}", file=sys.stderr)
            row["intake_lag"] = int(metric_sum(endpoints, "gridloop_consumer_lag_messages"))
            row["cache_cases"] = int(metric_sum(endpoints, "gridloop_intake_cache_cases"))
            lags = []
            for path in files:
                try:
                    with open(path, "rb") as pf:
                        pf.seek(offsets[path])
                        chunk = pf.read()
                except OSError:
                    continue
                end = chunk.rfind(b"\n") + 1
                offsets[path] += end
                for line in chunk[:end].decode(errors="replace").splitlines():
                    ts, _, value = line.partition("\t")
                    try:
                        ev = json.loads(value)
                        if ev["type"].startswith("gridloop.case.supervision") or ev["type"] == "gridloop.case.escalated":
                            lags.append(int(ts) / 1000 - parse_time(ev["time"]))
                    except (ValueError, KeyError):
                        pass
            lags.sort()
            row["published_this_minute"] = len(lags)
            row["p99_due_to_published_s"] = round(lags[min(len(lags) - 1, math.ceil(0.99 * len(lags)) - 1)], 3) if lags else ""
            w.writerow(row)
            f.flush()
            print("soak sample: " + " ".join(f"{k}={row.get(k, '')}" for k in fields[:15]), file=sys.stderr, flush=True)
            if time.time() - started >= a.seconds:
                break


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0
    return slope, my - slope * mx


def judge(rows, warmup):
    """Per series: (xs, ys, fit, rise, tolerance, passed) over the samples after the warm-up."""
    out = {}
    for key, (label, unit, floor, share) in CHECKS.items():
        pts = [(float(r["t_s"]), float(r[key])) for r in rows if r.get(key) not in ("", None)]
        after = [(x, y) for x, y in pts if x > warmup]
        verdict = None
        if floor is not None and len(after) >= 3:
            slope, icpt = fit([x for x, _ in after], [y for _, y in after])
            window = after[-1][0] - after[0][0]
            rise = slope * window
            level = sum(y for _, y in after) / len(after)
            tol = max(floor, share * abs(level))
            verdict = (slope, icpt, rise, tol, rise <= tol)
        out[key] = (pts, verdict)
    return out


def num(v):
    """A value as a person reads it on an axis: 168,597 rather than 1.686e+05."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def chart(pts, verdict, warmup, unit):
    """A small line chart: y from 0 (or the lowest value) to the highest, x in minutes."""
    w, h, left, bottom, top = 300, 100, 46, 14, 6
    if not pts:
        return f'<svg width="{w}" height="{h}"></svg>'
    xs = [x for x, _ in pts]
    ys = [y for _, y in pts]
    x0, x1 = min(xs), max(max(xs), min(xs) + 1)
    lo, hi = min(0, min(ys)), max(ys) * 1.15 or 1

    def px(x):
        return left + (x - x0) / (x1 - x0) * (w - left - 4)

    def py(y):
        return h - bottom - (y - lo) / (hi - lo) * (h - bottom - top)

    parts = [f'<svg width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" font-size="9" fill="#555">']
    if warmup > x0:
        parts.append(f'<rect x="{left}" y="{top}" width="{max(0, px(min(warmup, x1)) - left):.1f}" '
                     f'height="{h - bottom - top}" fill="#eee"/>')
    parts.append(f'<line x1="{left}" y1="{h - bottom}" x2="{w - 4}" y2="{h - bottom}" stroke="#999"/>')
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{h - bottom}" stroke="#999"/>')
    parts.append(f'<text x="{left - 3}" y="{py(max(ys)) + 3:.1f}" text-anchor="end">{num(max(ys))}</text>')
    parts.append(f'<text x="{left - 3}" y="{h - bottom + 3}" text-anchor="end">{num(lo)}</text>')
    parts.append(f'<text x="{left}" y="{h - 2}">{x0 / 60:.0f} min</text>')
    parts.append(f'<text x="{w - 4}" y="{h - 2}" text-anchor="end">{x1 / 60:.0f} min</text>')
    parts.append(f'<polyline fill="none" stroke="#1f4e8c" stroke-width="1.5" '
                 f'points="{" ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in pts)}"/>')
    if verdict:
        slope, icpt, _, _, ok = verdict
        a, b = max(warmup, x0), x1
        parts.append(f'<line x1="{px(a):.1f}" y1="{py(slope * a + icpt):.1f}" x2="{px(b):.1f}" y2="{py(slope * b + icpt):.1f}" '
                     f'stroke="{"#2a7d2a" if ok else "#c0392b"}" stroke-width="1.5" stroke-dasharray="4 3"/>')
    parts.append("</svg>")
    return "".join(parts)


def report(a):
    with open(a.csv) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        print("soak report: no samples", file=sys.stderr)
        return 1
    judged = judge(rows, a.warmup)
    failed = [k for k, (_, v) in judged.items() if v and not v[4]]
    minutes = float(rows[-1]["t_s"]) / 60
    cells = []
    for key, (pts, v) in judged.items():
        label, unit, floor, share = CHECKS[key]
        if v:
            slope, _, rise, tol, ok = v
            why = (f"rise after warm-up {rise:+.4g} {unit} (slope {slope * 3600:+.4g}/h); tolerance {tol:.4g} {unit} "
                   f"(max of {floor:g} and {share:.0%} of the level)")
            badge = '<b class="ok">level</b>' if ok else '<b class="bad">rising</b>'
        else:
            why, badge = ("charted, not judged" if floor is None else "too few samples after the warm-up"), ""
        cells.append(f'<figure><figcaption>{html.escape(label)} {badge}</figcaption>{chart(pts, v, a.warmup, unit)}'
                     f'<p>{html.escape(why)}</p></figure>')
    verdict = ("every judged series stays level after the warm-up" if not failed else
               "rising: " + ", ".join(CHECKS[k][0] for k in failed))
    last = rows[-1]
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8"><title>Gridloop soak run</title>
<style>body{{font:14px system-ui,sans-serif;margin:24px;color:#222}} figure{{display:inline-block;margin:0 14px 18px 0;
width:300px;vertical-align:top}} figcaption{{font-weight:600;margin-bottom:4px}} p{{font-size:11px;color:#555;margin:4px 0}}
.ok{{color:#2a7d2a}} .bad{{color:#c0392b}} .summary{{font-size:16px;margin:8px 0 18px}}</style>
<h1>Gridloop soak run</h1>
<p class="summary">{minutes:.0f} minutes, {len(rows)} samples (one a minute), two instances in one consumer group;
warm-up {a.warmup / 60:.0f} min (shaded). <b class="{'bad' if failed else 'ok'}">{html.escape(verdict)}</b>.
{int(last.get('events_applied') or 0):,} events applied. Dashed line: the least-squares fit after the warm-up.</p>
{''.join(cells)}
<p>Samples: {html.escape(os.path.basename(a.csv))}. Tolerances and why: docs/SOAK.md.</p></html>"""
    with open(a.html, "w") as f:
        f.write(page)
    for key, (_, v) in judged.items():
        if v:
            print(f"soak report: {key}: rise {v[2]:+.4g} vs tolerance {v[3]:.4g}: {'level' if v[4] else 'RISING'}")
    print(f"soak report: {verdict} ({a.html})")
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--interval", type=float, default=60)
    s.add_argument("--csv", required=True)
    s.add_argument("--pids", required=True)
    s.add_argument("--metrics", required=True)
    s.add_argument("--db", required=True)
    s.add_argument("--published", required=True)
    r = sub.add_parser("report")
    r.add_argument("--csv", required=True)
    r.add_argument("--html", required=True)
    r.add_argument("--warmup", type=float, default=180)
    a = ap.parse_args()
    if a.cmd == "sample":
        sample(a)
        return 0
    return report(a)


if __name__ == "__main__":
    sys.exit(main())
