#!/usr/bin/env python3
"""Checks schemas/*.schema.json: each is a valid draft 2020-12 schema; every line of the
sample fixtures passes its feed schema; in the dirty fixtures, every line that fails its
schema is one the feed generator damaged (and every undamaged line passes); the default
policy deploy/policy.yaml passes policy.schema.json and the sample unit directory
deploy/units.yaml passes units.schema.json (needs PyYAML, Debian: python3-yaml)."""
import json
import pathlib
import sys

try:
    import jsonschema
except ImportError:
    sys.exit("check_schemas.py needs the jsonschema package (Debian: python3-jsonschema)")

root = pathlib.Path(__file__).resolve().parent.parent.parent
schemas = {p.name: json.loads(p.read_text()) for p in sorted((root / "schemas").glob("*.schema.json"))}
for name, schema in schemas.items():
    jsonschema.Draft202012Validator.check_schema(schema)
print(f"{len(schemas)} schemas are valid JSON Schemas (draft 2020-12)")

fixtures = root / "Tests/GridloopCoreTests/Fixtures"
feeds = {"12345": ("12345-workorder.schema.json", "msgId", "sendTime"),
         "12319": ("12319-case.schema.json", "case_id", "event_time")}
failed = False
for platform, (schema_name, first, time_field) in feeds.items():
    validator = jsonschema.Draft202012Validator(schemas[schema_name], format_checker=jsonschema.FormatChecker())
    for kind in ("sample", "dirty"):
        path = fixtures / f"{platform}-{kind}.kafka"
        passed = rejected = 0
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            _, _, value = line.partition("\t")
            try:
                doc = json.loads(value)
                damaged = not isinstance(doc, dict) or first not in doc or "O" in str(doc.get(time_field, ""))
            except ValueError:
                doc, damaged = None, True
            errors = [] if doc is None else sorted(validator.iter_errors(doc), key=str)
            ok = doc is not None and not errors
            passed += ok
            rejected += not ok
            if ok == damaged:
                failed = True
                why = errors[0].message if errors else "passes, but the line is damaged"
                print(f"{path.relative_to(root)}:{n}: {why}", file=sys.stderr)
        print(f"{path.relative_to(root)}: {passed} valid, {rejected} refused")

events = fixtures / "outbound-events.jsonl"
kinds = set()
for n, line in enumerate(events.read_text(encoding="utf-8").splitlines(), 1):
    event = json.loads(line)
    kinds.add(event["type"])
    schema = schemas.get(f"{event['type']}.schema.json")
    if schema is None:
        failed = True
        print(f"{events.relative_to(root)}:{n}: no schema for {event['type']}", file=sys.stderr)
        continue
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    for e in sorted(validator.iter_errors(event), key=str):
        failed = True
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        print(f"{events.relative_to(root)}:{n}: {where}: {e.message}", file=sys.stderr)
emitted = {"gridloop.case.supervision.warning", "gridloop.case.supervision.overdue", "gridloop.case.supervision.urge",
           "gridloop.case.escalated", "gridloop.case.resolved"}
if kinds != emitted:
    failed = True
    print(f"{events.relative_to(root)}: holds {sorted(kinds)}, expected every kind the daemon emits", file=sys.stderr)
print(f"{events.relative_to(root)}: {len(kinds)} kinds of outbound event checked against their schemas")

try:
    import yaml
except ImportError:
    yaml = None
for document, schema_name in (("deploy/policy.yaml", "policy.schema.json"), ("deploy/units.yaml", "units.schema.json")):
    path = root / document
    if yaml is None:
        print(f"{document}: not checked, PyYAML is missing (Debian: python3-yaml)")
        continue
    validator = jsonschema.Draft202012Validator(schemas[schema_name])
    errors = sorted(validator.iter_errors(yaml.safe_load(path.read_text(encoding="utf-8"))), key=str)
    for e in errors:
        failed = True
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        print(f"{document}: {where}: {e.message}", file=sys.stderr)
    if not errors:
        print(f"{document}: valid against {schema_name}")
sys.exit(1 if failed else 0)
