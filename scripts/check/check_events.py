#!/usr/bin/env python3
"""Validates every outbound message the tests consumed (the lines EventDump wrote to
$GRIDLOOP_EVENT_DUMP_DIR/events-PID.jsonl, one file per test process) against the contract in docs/EVENTS.md:

- a CloudEvent (header content-type application/cloudevents+json; charset=UTF-8) must be strict
  JSON (UTF-8, no repeated key) and pass schemas/<type>.schema.json; its headers are exactly
  content-type and gridloop-id, gridloop-id is its id, and its Kafka key is its subject;
- a dead letter (header gridloop-reason) must carry the headers of
  schemas/dead-letter-headers.schema.json, its gridloop-id naming its source coordinates;
- anything else, or a type without a schema, fails.

Usage: check_events.py DIR [--allow-empty]. Fails when nothing was dumped, unless --allow-empty
(a run of selected tests may consume no outbound topic)."""
import base64
import collections
import json
import pathlib
import re
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("check_events.py needs the jsonschema package (Debian: python3-jsonschema)")

CLOUDEVENTS = "application/cloudevents+json; charset=UTF-8"
root = pathlib.Path(__file__).resolve().parent.parent.parent
args = [a for a in sys.argv[1:] if not a.startswith("--")]
allow_empty = "--allow-empty" in sys.argv[1:]
if len(args) != 1:
    sys.exit(__doc__)
dump = pathlib.Path(args[0])


def validator(name):
    path = root / "schemas" / name
    if not path.exists():
        return None
    return jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")),
                                           format_checker=jsonschema.FormatChecker())


def strict_object(pairs):
    keys = [k for k, _ in pairs]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"repeated key {repeated[0]!r}")
    return dict(pairs)


def decode(b64):
    return None if b64 is None else base64.b64decode(b64)


validators = {}
dead_letter_headers = validator("dead-letter-headers.schema.json")
counts = collections.Counter()
failures = 0
# One file per test process (`swift test --parallel` runs several at once).
lines = [line for f in sorted(dump.glob("events*.jsonl")) for line in f.read_text(encoding="utf-8").splitlines()]
for n, line in enumerate(lines, 1):
    m = json.loads(line)
    topic, key, value = m["topic"], decode(m["key"]), decode(m["value"])
    pairs = [(name, decode(v)) for name, v in m["headers"]]
    names = [name for name, _ in pairs]
    problems = []
    try:
        headers = {name: v.decode("utf-8") for name, v in pairs if v is not None}
    except UnicodeDecodeError:
        headers, problems = {}, ["a header value is not UTF-8"]
    if len(set(names)) != len(names) or len(headers) != len(pairs):
        problems.append(f"headers repeated or without a value: {names}")
    if headers.get("content-type") == CLOUDEVENTS:
        kind = "?"
        try:
            event = json.loads(value.decode("utf-8"), object_pairs_hook=strict_object)
            kind = event.get("type", "?") if isinstance(event, dict) else "?"
        except ValueError as e:  # UnicodeDecodeError is one
            problems.append(f"value is not strict JSON: {e}")
            event = None
        if event is not None:
            if kind not in validators:  # a type names its schema file; nothing else may
                validators[kind] = validator(f"{kind}.schema.json") if re.fullmatch(r"[a-z]+(\.[a-z]+)+", str(kind)) else None
            v = validators[kind]
            if v is None:
                problems.append(f"no schema for type {kind!r} (schemas/{kind}.schema.json)")
            else:
                for e in sorted(v.iter_errors(event), key=str):
                    where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
                    problems.append(f"{where}: {e.message}")
            if sorted(names) != ["content-type", "gridloop-id"]:
                problems.append(f"headers are {names}, expected content-type and gridloop-id")
            if isinstance(event, dict) and headers.get("gridloop-id") != event.get("id"):
                problems.append("gridloop-id header differs from the event's id")
            if isinstance(event, dict) and key != str(event.get("subject")).encode("utf-8"):
                problems.append("Kafka key differs from the event's subject (the case id)")
    elif "gridloop-reason" in names:
        kind = "dead letter"
        for e in sorted(dead_letter_headers.iter_errors(headers), key=str):
            problems.append(f"headers: {e.message}")
        source = [headers.get(f"gridloop-source-{k}") for k in ("topic", "partition", "offset")]
        if headers.get("gridloop-id") != "dlq:" + ":".join(str(s) for s in source):
            problems.append("gridloop-id does not name the source coordinates")
    else:
        kind = "unknown"
        problems.append(f"neither a CloudEvent nor a dead letter (headers {names}): no schema")
    counts[(topic, kind)] += 1
    for p in problems:
        failures += 1
        print(f"{dump}:{n}: {topic} {kind}: {p}", file=sys.stderr)

for (topic, kind), c in sorted(counts.items()):
    print(f"{c:7d}  {topic}  {kind}")
print(f"{len(lines)} outbound messages consumed by the tests checked against schemas/: {failures} problems")
if not lines and not allow_empty:
    print(f"{dump}: no outbound message was dumped: the tests that read the outbound topics did not run, "
          "or EventDump is no longer called", file=sys.stderr)
    sys.exit(1)
sys.exit(1 if failures else 0)
