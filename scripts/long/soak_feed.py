#!/usr/bin/env python3
"""A live feed of both platforms for the soak run (scripts/long/soak.sh).

Orders arrive now, at a steady rate with bursts, and live the lives of gen_feed.py with time
compressed: a day of an order's life passes in --day seconds, so that clocks of a policy in
seconds and minutes fire all the time. Each message is written, when its time comes, to the
file of its platform (`key<TAB>value` lines, which `kcat -P -K '\\t'` reads). Malformed and
resent messages in the shares asked for. Runs until killed or --seconds have passed; prints how
many orders and messages it sent to stderr every minute.

  soak_feed.py --rate 20 --day 30 --out12345 FIFO1 --out12319 FIFO2
"""
import argparse
import datetime as dt
import heapq
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "gen"))
import gen_feed as g  # noqa: E402


def finish(rng, events):
    """gen_feed's lives, made to end: the feed is for a few days, a soak for hours, and a case
    left open forever would grow the set of open cases without bound (no hotline keeps one open
    forever). An order nobody answers is answered by the district unit after the ladder (4 to 6
    days); an unreachable or unsatisfied callback not followed by a reopen is called again a day
    later, satisfied."""
    t, kind, extra = events[-1]
    if kind == "DISPATCH":
        t = rng.randint(4 * 86400, 6 * 86400)
        return events + [(t, "SIGN", {}), (t + 3600, "REPLY", {"result": "RESOLVED"}),
                         (t + 86400, "VISIT", {"satisfaction": "SATISFIED"})]
    if kind == "VISIT" and extra["satisfaction"] in ("UNSATISFIED", "UNREACHABLE"):
        return events + [(t + 86400, "VISIT", {"satisfaction": "SATISFIED"})]
    if kind == "REPLY":  # a reopened order's second reply
        return events + [(t + 86400, "VISIT", {"satisfaction": "SATISFIED"})]
    return events


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rate", type=float, default=20, help="orders a second, both platforms together")
    ap.add_argument("--day", type=float, default=30, help="seconds in which a day of an order's life passes")
    ap.add_argument("--burst-every", type=float, default=300, help="seconds between bursts")
    ap.add_argument("--burst-for", type=float, default=30, help="seconds a burst lasts")
    ap.add_argument("--burst-factor", type=float, default=3, help="rate during a burst, times --rate")
    ap.add_argument("--malformed", type=float, default=0.02)
    ap.add_argument("--resend", type=float, default=0.01)
    ap.add_argument("--seconds", type=float, default=0, help="stop after this long (0: run until killed)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out12345", required=True)
    ap.add_argument("--out12319", required=True)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    outs = {"12345": open(a.out12345, "w", buffering=1), "12319": open(a.out12319, "w", buffering=1)}
    scale = a.day / 86400.0
    pending = []  # (due wall time, seq, platform, line)
    seq = 0
    started = time.time()
    next_order = {"12345": 1, "12319": 1}
    carry = 0.0
    sent = orders = 0
    last_report = started
    tick = 0.1
    while True:
        now = time.time()
        if a.seconds and now - started >= a.seconds:
            break
        since = now - started
        rate = a.rate * (a.burst_factor if a.burst_every > 0 and since % a.burst_every < a.burst_for else 1)
        carry += rate * tick
        while carry >= 1:
            carry -= 1
            platform = "12345" if rng.random() < 0.5 else "12319"
            i = next_order[platform]
            next_order[platform] += 1
            accept = dt.datetime.fromtimestamp(now, g.CST).replace(microsecond=0)
            o = g.make_order(rng, i, accept)
            o["accept"] = accept  # make_order spreads accept times over 3 days; live: now
            # In the order they happen: the platform numbers 12319 events so (gen_feed's lives
            # put an extension's approval after the reply now and then).
            events = sorted(finish(rng, g.life(rng, o)), key=lambda e: e[0])
            if platform == "12319":
                events = [e for e in events if e[1] != "EXTEND_APPLY"]
            for n, (off, kind, extra) in enumerate(events, 1):
                scaled = off * scale
                if platform == "12345":
                    k, v = g.msg_12345(rng, o, 0, kind, extra)
                    t = g.ts_12345(accept + dt.timedelta(seconds=scaled))
                    v["sendTime"] = t
                    if kind == "DISPATCH":
                        v["order"]["acceptTime"] = t
                    else:
                        v["order"]["time"] = t
                else:
                    k, v = g.msg_12319(rng, o, 0, kind, extra, n)
                    v["event_time"] = g.ts_12319(accept + dt.timedelta(seconds=scaled))
                    if "limit_time" in v:
                        v["limit_time"] = g.ts_12319(accept + dt.timedelta(seconds=5 * a.day))
                copies = 2 if rng.random() < a.resend else 1
                for c in range(copies):
                    if rng.random() < a.malformed:
                        mk, mv = g.malformed(rng, k, v)
                        line = f"{mk}\t{mv}\n"
                    else:
                        line = f"{k}\t{json.dumps(v, ensure_ascii=False)}\n"
                    seq += 1
                    heapq.heappush(pending, (now + scaled + c * 0.5, seq, platform, line))
            orders += 1
        while pending and pending[0][0] <= now:
            _, _, platform, line = heapq.heappop(pending)
            outs[platform].write(line)
            sent += 1
        if now - last_report >= 60:
            last_report = now
            print(f"soak feed: {orders} orders, {sent} messages sent, {len(pending)} to come", file=sys.stderr, flush=True)
        time.sleep(max(0.0, tick - (time.time() - now)))
    for f in outs.values():
        f.close()
    print(f"soak feed: done, {orders} orders, {sent} messages sent", file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
