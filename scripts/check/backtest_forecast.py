#!/usr/bin/env python3
"""The at-risk forecast's backtest (docs/FORECAST.md), driven by scripts/check/backtest-forecast.sh.

  generate --seed S --units N --out DIR
      A generated history of estate units with different habits, as rows for `cases` and
      `case_events` (tab-separated, for COPY), and the instants to forecast at (instants.txt).
  score --handlings CSV --forecasts DIR --habits DIR/habits.tsv [--min-clocks N]
      Reads every `gridloopd forecast --at T --json` answer in DIR (one file per instant, named
      by the instant), finds what then happened to each clock in the handlings (case_id, began,
      signed, replied, ended in epoch ms), and prints the Brier score and a calibration table of
      the forecast next to two baselines computed here, in the same run:
        LEVEL SHARE   the share of the level's handlings of that clock kind that breached, among
                      those whose outcome was known at the instant (the 90 days before it);
        IN WINDOW     "breaches if its deadline falls in the window": probability 1.
      Exits 1 unless the forecast's Brier score is below both.

The world: every case is a 12345 order of category 0305 (物业管理) at an estate unit, urgency
NORMAL, so that deploy/policy.yaml gives it ESTATE's limits: sign 2wh, handle 2wd. Each unit has
a habit; the times are drawn in the limits' countable time (office hours on working days, whole
working days) and placed on the official calendars (deploy/calendars):
  PROMPT     signs within minutes, replies within the first working day or so;
  LATE       signs after about 2.5 office hours (mostly late), replies after about 2 working days;
  MONDAY     prompt, but a case dispatched on a Monday is signed after about 3 office hours;
  PRE_REST   prompt, but a case dispatched on the last working day before a weekend or holiday
             is signed after about 3 office hours and replied to late;
  VARIED     signs anywhere in the first 4 office hours, replies within 1-3 working days.
"""
import argparse
import csv
import json
import math
import os
import random
import re
import sys

DAY = 86_400_000
HOUR = 3_600_000
OFFSET = 8 * HOUR  # Asia/Shanghai
OFFICE = [(540, 720), (810, 1050)]  # minutes of the day, as sla.officeHours' default
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_calendar():
    """{day number: True for a working day} overrides, from deploy/calendars/cn-*.yaml."""
    holidays, workdays = set(), set()
    caldir = os.path.join(ROOT, "deploy", "calendars")
    for name in sorted(os.listdir(caldir)):
        section = None
        for line in open(os.path.join(caldir, name), encoding="utf-8"):
            if line.startswith("holidays:"):
                section = holidays
            elif line.startswith("workdays:"):
                section = workdays
            m = re.search(r"date:\s*(\d{4})-(\d\d)-(\d\d)", line)
            if m and section is not None:
                section.add(day_number(int(m[1]), int(m[2]), int(m[3])))
    return holidays, workdays


def day_number(y, m, d):
    """Days since 1970-01-01 of a civil date (proleptic Gregorian)."""
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


HOLIDAYS, WORKDAYS = load_calendar()


def working(day):
    if day in HOLIDAYS:
        return False
    if day in WORKDAYS:
        return True
    return (day + 3) % 7 < 5  # Monday..Friday


def weekday(day):
    return (day + 3) % 7  # 0 Monday


def local_day(ms):
    return (ms + OFFSET) // DAY


def day_start(day):
    return day * DAY - OFFSET


def add_office_hours(start, hours):
    """The instant at which `hours` of office hours on working days have passed since `start`."""
    remaining = int(hours * HOUR)
    day = local_day(start)
    while True:
        if working(day):
            for lo, hi in OFFICE:
                a = max(day_start(day) + lo * 60_000, start)
                b = day_start(day) + hi * 60_000
                if a >= b:
                    continue
                if b - a >= remaining:
                    return a + remaining
                remaining -= b - a
        day += 1


def add_working_days(start, days):
    """Whole working days counted from 00:00 after the start date, as the `wd` limits count."""
    remaining = int(days * DAY)
    day = local_day(start) + 1
    while True:
        if working(day):
            if remaining <= DAY:
                return day_start(day) + remaining
            remaining -= DAY
        day += 1


def before_rest(day):
    return working(day) and not working(day + 1)


HABITS = ["PROMPT", "LATE", "MONDAY", "PRE_REST", "VARIED"]


def draw(habit, day, rng):
    """(sign after, in office hours; reply after, in working days) for a case dispatched on `day`."""
    def lognormal(median, sigma):
        return median * math.exp(rng.gauss(0, sigma))

    prompt = (rng.expovariate(1 / 0.25), lognormal(0.8, 0.35))
    if habit == "PROMPT":
        return prompt
    if habit == "LATE":
        return lognormal(2.5, 0.45), lognormal(2.0, 0.3)
    if habit == "MONDAY":
        return (lognormal(3.0, 0.4), lognormal(1.2, 0.3)) if weekday(day) == 0 else prompt
    if habit == "PRE_REST":
        return (lognormal(3.0, 0.4), lognormal(2.2, 0.25)) if before_rest(day) else prompt
    return rng.uniform(0, 4), rng.uniform(1, 3)


def generate(args):
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    first, last = day_number(2026, 7, 1), day_number(2026, 10, 31)
    units = [(f"BT{u:03d}", HABITS[u % len(HABITS)]) for u in range(args.units)]
    n = 0
    with open(os.path.join(args.out, "cases.tsv"), "w") as cases, open(
        os.path.join(args.out, "events.tsv"), "w"
    ) as events, open(os.path.join(args.out, "habits.tsv"), "w") as habits:
        for code, habit in units:
            habits.write(f"{code}\t{habit}\n")
        for day in range(first, last + 1):
            for code, habit in units:
                # About 5 a working day and 1 a rest day, 9:00-18:00 mostly, a few at night.
                k = rng.randint(3, 7) if working(day) else rng.randint(0, 2)
                for _ in range(k):
                    n += 1
                    minute = rng.randint(480, 1080) if rng.random() < 0.9 else rng.randint(0, 1439)
                    t0 = day_start(day) + minute * 60_000 + rng.randint(0, 59_999)
                    sign_h, reply_d = draw(habit, day, rng)
                    signed = add_office_hours(t0, sign_h)
                    replied = max(add_working_days(t0, reply_d), signed + 60_000)
                    visited = replied + rng.randint(2, 30) * HOUR
                    cid = f"12345:BT{n}"
                    cases.write(
                        "\t".join(
                            [cid, "12345", f"BT{n}", "CLOSED", "ESTATE", code, f"{code}物业服务中心", "NORMAL", "0305",
                             "物业管理/下水道堵塞", ts(t0), ts(t0), ts(visited), "4", "340111"]) + "\n")
                    for no, (typ, t, result, sat) in enumerate(
                        [("DISPATCH", t0, None, None), ("SIGN", signed, None, None),
                         ("REPLY", replied, "RESOLVED", None), ("VISIT", visited, None, "SATISFIED")], 1):
                        events.write(
                            "\t".join(
                                [cid, str(no), f"{cid}#{no}", typ, ts(t), "ESTATE" if no == 1 else r"\N", code,
                                 result or r"\N", sat or r"\N", "hotline.12345.workorders", str(n % 16),
                                 str(n * 10 + no)]) + "\n")
    # Forecasts at 08:30 and 14:00 of every working day of September and October.
    with open(os.path.join(args.out, "instants.txt"), "w") as out:
        for day in range(day_number(2026, 9, 1), day_number(2026, 10, 31) + 1):
            if working(day):
                for hh, mm in ((8, 30), (14, 0)):
                    out.write(rfc3339(day_start(day) + (hh * 60 + mm) * 60_000) + "\n")
    print(f"{n} cases, {n * 4} events, {len(units)} units", file=sys.stderr)


def ts(ms):
    return rfc3339(ms)


def rfc3339(ms):
    local = ms + OFFSET
    day, rest = divmod(local, DAY)
    # civil from days
    z = day + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + (3 if mp < 10 else -9)
    y += m <= 2
    s, msr = divmod(rest, 1000)
    return f"{y:04d}-{m:02d}-{d:02d}T{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{msr:03d}+08:00"


def parse_rfc3339(text):
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?([+-])(\d\d):(\d\d)", text)
    y, mo, d, hh, mi, ss = (int(m[i]) for i in range(1, 7))
    frac = int((m[7] or "0").ljust(3, "0")[:3])
    off = (int(m[9]) * 60 + int(m[10])) * 60_000 * (1 if m[8] == "+" else -1)
    return day_number(y, mo, d) * DAY + ((hh * 60 + mi) * 60 + ss) * 1000 + frac - off


def score(args):
    handlings = {}
    history = []
    with open(args.handlings) as f:
        for row in csv.reader(f):
            cid, began, signed, replied, ended = row[0], int(row[1]), *(int(x) if x else None for x in row[2:5])
            handlings.setdefault(cid, []).append((began, signed, replied, ended))
            history.append((began, signed, replied, ended))
    habit_of = dict(line.split() for line in open(args.habits))

    def milestone(h, kind):
        began, signed, replied, ended = h
        return min(x for x in (signed, replied, math.inf) if x is not None) if kind == "SIGN" else (replied or math.inf)

    def deadline_of(began, kind):  # ESTATE's limits in deploy/policy.yaml
        return add_office_hours(began, 2) if kind == "SIGN" else add_working_days(began, 2)

    # Outcome of every handling and clock: (began, deadline, milestone).
    outcomes = {k: [(h[0], deadline_of(h[0], k), milestone(h, k)) for h in history] for k in ("SIGN", "HANDLE")}

    def level_share(at, kind):
        """Of the handlings begun in the 90 days before `at` whose outcome was known then."""
        breached = known = 0
        for began, deadline, done in outcomes[kind]:
            if began >= at or began < at - 90 * DAY:
                continue
            if done <= at:
                known += 1
                breached += done > deadline
            elif deadline <= at:
                known += 1
                breached += 1
        return breached / known if known else 0.5

    rows = []  # (p_forecast, p_share, y, basis, habit)
    mismatched = 0  # deadlines on which gridloopd and this script's calendar disagree
    files = sorted(os.listdir(args.forecasts))
    for name in files:
        data = json.load(open(os.path.join(args.forecasts, name)))
        at = parse_rfc3339(data["at"])
        shares = {k: level_share(at, k) for k in ("SIGN", "HANDLE")}
        for unit in data["units"]:
            for c in unit["cases"]:
                if c["probability"] is None:
                    continue
                h = next((h for h in handlings.get(c["caseId"], []) if h[0] <= at and (h[3] is None or h[3] > at)), None)
                if h is None:
                    continue
                deadline = parse_rfc3339(c["deadline"])
                if deadline != deadline_of(h[0], c["clock"]):
                    mismatched += 1
                done = milestone(h, c["clock"])
                if done > deadline and h[3] is not None and h[3] < deadline:
                    continue  # left the unit before its deadline without the milestone: unknown
                rows.append((c["probability"], shares[c["clock"]], 1 if done > deadline else 0, c["basis"],
                             habit_of.get(c["unitCode"], "?")))
    if mismatched:
        print(f"{mismatched} clocks have a deadline other than this script's calendar gives", file=sys.stderr)
        return 1
    if len(rows) < args.min_clocks:
        print(f"only {len(rows)} forecast clocks: too few to score", file=sys.stderr)
        return 1

    def brier(i):
        return sum((r[i] - r[2]) ** 2 for r in rows) / len(rows)

    b_forecast, b_share = brier(0), brier(1)
    b_window = sum((1 - r[2]) ** 2 for r in rows) / len(rows)
    observed = sum(r[2] for r in rows) / len(rows)
    print(f"{len(files)} instants, {len(rows)} clocks due within the window, {observed:.1%} of them breached\n")
    print("| predictor | Brier score (lower is better) |")
    print("|---|---|")
    print(f"| forecast (Kaplan–Meier by unit, conditioned on time used) | **{b_forecast:.4f}** |")
    print(f"| baseline LEVEL SHARE: the level's breach share in the 90 days before | {b_share:.4f} |")
    print(f"| baseline IN WINDOW: breaches because its deadline is in the window | {b_window:.4f} |")
    print("\nCalibration of the forecast (predicted decile against what happened):\n")
    print("| predicted | clocks | mean predicted | observed breach share |")
    print("|---|---|---|---|")
    for d in range(10):
        lo, hi = d / 10, (d + 1) / 10
        got = [r for r in rows if lo <= r[0] < hi or (d == 9 and r[0] == 1.0)]
        if got:
            print(f"| {lo:.1f}–{hi:.1f} | {len(got)} | {sum(r[0] for r in got) / len(got):.3f} "
                  f"| {sum(r[2] for r in got) / len(got):.3f} |")
    print("\nBy habit of the unit (Brier: forecast / level share):\n")
    print("| habit | clocks | breached | forecast | level share |")
    print("|---|---|---|---|---|")
    for habit in HABITS:
        got = [r for r in rows if r[4] == habit]
        if got:
            bf = sum((r[0] - r[2]) ** 2 for r in got) / len(got)
            bs = sum((r[1] - r[2]) ** 2 for r in got) / len(got)
            print(f"| {habit} | {len(got)} | {sum(r[2] for r in got) / len(got):.1%} | {bf:.4f} | {bs:.4f} |")
    bases = {}
    for r in rows:
        bases[r[3]] = bases.get(r[3], 0) + 1
    print("\nEstimates used: " + ", ".join(f"{k} {v}" for k, v in sorted(bases.items())))
    if b_forecast < b_share and b_forecast < b_window:
        print("\nthe forecast beats both baselines")
        return 0
    print("\nthe forecast does NOT beat both baselines", file=sys.stderr)
    return 1


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--units", type=int, default=40)
    g.add_argument("--out", required=True)
    s = sub.add_parser("score")
    s.add_argument("--handlings", required=True)
    s.add_argument("--forecasts", required=True)
    s.add_argument("--habits", required=True)
    s.add_argument("--min-clocks", type=int, default=200)
    args = p.parse_args()
    if args.cmd == "generate":
        generate(args)
        return 0
    return score(args)


if __name__ == "__main__":
    sys.exit(main())
