#!/usr/bin/env python3
"""The hostile corpus: messages built to break a feed decoder, each with the substring its
rejection reason must contain. Writes Tests/GridloopCoreTests/Fixtures/hostile-12345.jsonl and
hostile-12319.jsonl (format: Fixtures/HOSTILE.md). Deterministic; run it again after editing.

  scripts/gen/gen_hostile_corpus.py
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "GridloopCoreTests", "Fixtures")

RAW = "@@raw@@"  # a string value replaced by raw bytes after serialization


def dispatch12345():
    return {
        "msgId": "5b0c2f7e-0d1a-4a39-9a51-3c7e2f1d9b01", "msgType": "DISPATCH",
        "sendTime": "2026-11-23T08:37:15+08:00",
        "order": {
            "orderNo": "HF261123000001", "channel": "APP", "acceptTime": "2026-11-23T08:37:15+08:00",
            "appealType": "COMPLAINT", "category": {"code": "0201", "name": "市政设施/路灯不亮"},
            "urgency": "URGENT", "title": "路灯不亮", "content": "小区门口路灯已经一周不亮",
            "citizen": {"name": "刘阿姨", "phone": "18808511523", "anonymous": False},
            "location": {"address": "合肥市包河区天鹅湖花园28栋", "districtCode": "340111", "streetCode": "340111002",
                         "communityCode": "340111002002", "gridCode": "340111002002-01", "lng": 117.3, "lat": 31.8},
            "assignee": {"unitCode": "C340111002002", "unitName": "芜湖路社区居委会", "level": "COMMUNITY"},
            "timeLimit": {"signHours": 2, "handleDays": 5},
        },
    }


def event12345(msg_type, **order):
    o = {"orderNo": "HF261123000001", "time": "2026-11-23T09:30:00+08:00"}
    o.update(order)
    return {"msgId": "9d1e4c2a-7b3f-4e0d-8c6a-2f5b1a0e3d02", "msgType": msg_type,
            "sendTime": "2026-11-23T09:30:05+08:00", "order": o}


def new12319():
    return {
        "case_id": "12319-2026-000001", "event": "new", "event_seq": 1, "event_time": "2026-11-23 08:30:00",
        "case_type": "市容环境/垃圾清运不及时", "level": 2, "content": "垃圾桶满溢", "caller_name": "王先生",
        "caller_tel": "13900000000", "addr": "包河区万达公馆3栋", "district": "340111", "street": "340111002",
        "community": "340111002001", "grid_no": "340111002001-03", "dept_code": "C340111002001",
        "dept_name": "河滨社区居委会", "dept_tier": "社区", "limit_time": "2026-11-28 08:30:00",
    }


def event12319(event, seq=2, **fields):
    v = {"case_id": "12319-2026-000001", "event": event, "event_seq": seq, "event_time": "2026-11-23 09:00:00"}
    v.update(fields)
    return v


def encode(msg, raw=None):
    """Compact UTF-8 JSON; `raw` (bytes) replaces the string value RAW."""
    b = json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if raw is not None:
        assert b.count(b'"' + RAW.encode() + b'"') == 1
        b = b.replace(b'"' + RAW.encode() + b'"', raw)
    return b


def at(msg, path, value):
    """A copy of msg with the field at path ("order.category.code") set (or removed if value is DROP)."""
    msg = json.loads(json.dumps(msg))
    *parents, last = path.split(".")
    o = msg
    for p in parents:
        o = o[p]
    if value is DROP:
        del o[last]
    else:
        o[last] = value
    return msg


DROP = object()


class Corpus:
    def __init__(self, platform):
        self.platform = platform
        self.lines = []
        self.default_key = b"HF261123000001" if platform == "12345" else b"12319-2026-000001"

    def add(self, why, expect, value, key="default", pad=None):
        if key == "default":
            key = self.default_key
        line = {"why": why, "expect": expect,
                "key_hex": None if key is None else key.hex(),
                "value_hex": None if value is None else value.hex()}
        if pad is not None:
            line["pad"] = pad
        self.lines.append(line)

    def write(self):
        path = os.path.join(OUT, f"hostile-{self.platform}.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for line in self.lines:
                f.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"{path}: {len(self.lines)} messages")


def pad_inside(value, marker, byte, count):
    """A pad entry inserting count copies of byte right after the first occurrence of marker."""
    return {"offset": value.index(marker) + len(marker), "hex": byte.hex(), "count": count}


def common(c, base, id_field, id_path, valid_key):
    """Damage of the message as a whole, the same for both platforms."""
    v = encode(base)
    c.add("no key (Kafka null key)", "message has no key", v, key=None)
    c.add("empty key", "message has no key", v, key=b"")
    c.add("key is not valid UTF-8", "does not match " + id_path, v, key=valid_key + b"\xff")
    c.add("key holds a NUL", "message key '" + valid_key.decode() + "\\u0000' does not match " + id_path, v,
          key=valid_key + b"\x00")
    c.add("key of another case", "does not match " + id_path, v, key=valid_key + b"9")
    c.add("null value (tombstone)", "empty message", None)
    c.add("empty value", "empty message", b"")
    c.add("whitespace only", "empty message (only whitespace)", b" \t\r\n  ")
    c.add("UTF-8 byte order mark before the object", "not valid JSON: UTF-8 byte order mark", b"\xef\xbb\xbf" + v)
    c.add("100,000 '[' (deep nesting)", "not valid JSON: nesting deeper than 64",
          b'{"' + id_field.encode() + b'":', pad={"offset": len(id_field) + 4, "hex": "5b", "count": 100_000})
    deep = b"".join(b'{"a":' for _ in range(65)) + b"1" + b"}" * 65
    c.add("objects nested 65 deep in an unknown field", "not valid JSON: nesting deeper than 64",
          v[:-1] + b',"extra":' + deep + b"}")
    big = encode(at(base, "content" if c.platform == "12319" else "order.content", "x"))
    marker = b'"content":"x'
    c.add("900 KB value (appeal text padded)", "more than the 262144 a feed message may have",
          big, pad=pad_inside(big, marker, b"a", 900 * 1024))
    c.add("truncated JSON", "not valid JSON: unexpected end of input", v[: len(v) // 2])
    c.add("trailing data after the object", "not valid JSON: unexpected data after the JSON value", v + b"}")
    c.add("top-level array", "top-level value is an array", b"[" + v + b"]")
    c.add("top-level string", "top-level value is a string", b'"' + id_field.encode() + b'"')
    c.add("top-level null", "top-level value is null", b"null")
    c.add("raw NUL byte inside a string", "not valid JSON: control character in a string",
          encode(at(base, id_path, RAW), b'"A\x00B"'))
    c.add("raw NUL byte between tokens", "not valid JSON: unexpected byte 0x0", b"\x00" + v)
    c.add("lone high surrogate escape", "not valid JSON: unpaired UTF-16 surrogate",
          encode(at(base, id_path, RAW), b'"A\\ud800"'))
    c.add("lone low surrogate escape", "not valid JSON: unpaired UTF-16 surrogate",
          encode(at(base, id_path, RAW), b'"A\\udc00B"'))
    c.add("high surrogate followed by a letter escape", "not valid JSON: invalid UTF-16 surrogate pair",
          encode(at(base, id_path, RAW), b'"\\ud800\\u0041"'))
    c.add("two high surrogates", "not valid JSON: invalid UTF-16 surrogate pair",
          encode(at(base, id_path, RAW), b'"\\ud83d\\ud83d"'))
    c.add("lone surrogate in a personal field", "not valid JSON: unpaired UTF-16 surrogate",
          encode(at(base, "content" if c.platform == "12319" else "order.content", RAW), b'"\\ud800"'))
    c.add("0xFF inside a string", "not valid JSON: invalid UTF-8", encode(at(base, id_path, RAW), b'"HF\xff1"'))
    c.add("surrogate encoded in UTF-8 (ED A0 80)", "not valid JSON: invalid UTF-8",
          encode(at(base, id_path, RAW), b'"HF\xed\xa0\x801"'))
    c.add("overlong '/' (C0 AF)", "not valid JSON: invalid UTF-8", encode(at(base, id_path, RAW), b'"HF\xc0\xaf1"'))
    c.add("truncated 3-byte sequence at the end of a string", "not valid JSON: invalid UTF-8",
          encode(at(base, id_path, RAW), b'"HF\xe4\xb8"'))
    c.add("invalid UTF-8 in a personal field", "not valid JSON: invalid UTF-8",
          encode(at(base, "content" if c.platform == "12319" else "order.content", RAW), b'"\xff\xfe"'))
    c.add("0xFF where a value should be", "not valid JSON: unexpected byte 0xff", v[:-1] + b',"x":\xff}')
    c.add("1e999999 in an unknown field", "not valid JSON: number out of range", v[:-1] + b',"x":1e999999}')
    c.add("-1e999999 in an unknown field", "not valid JSON: number out of range", v[:-1] + b',"x":-1e999999}')
    c.add("duplicate top-level id, same value",
          'not valid JSON: duplicate key "' + id_field + '" in object', v[:-1] + b',"' + id_field.encode() + b'":'
          + json.dumps(base[id_field]).encode() + b"}")
    c.add("duplicate key in an unknown nested object", 'not valid JSON: duplicate key "a" in object',
          v[:-1] + b',"extra":{"a":1,"b":{},"a":2}}')


def corpus12345():
    c = Corpus("12345")
    d = dispatch12345()
    common(c, d, "msgId", "order.orderNo", b"HF261123000001")
    sign = event12345("SIGN", unitCode="C340111002002")

    # Control characters in what is kept (PostgreSQL text cannot hold NUL).
    for path, base in [("msgId", d), ("msgType", d), ("order.orderNo", d), ("order.category.code", d),
                       ("order.category.name", d), ("order.location.districtCode", d), ("order.location.gridCode", d),
                       ("order.assignee.unitCode", d), ("order.assignee.unitName", d), ("order.unitCode", sign)]:
        key = b"HF261123000001"
        value = "HF26\x001123" if path == "order.orderNo" else "A\x00B"
        if path == "order.orderNo":
            key = value.encode()
        c.add(f"NUL (\\u0000) in {path}", f"field {path}: contains a control character (U+0000)",
              encode(at(base, path, value)), key=key)
    for ch, name in [("\t", "0009"), ("\x1b", "001B"), ("\x7f", "007F"), ("\x85", "0085")]:
        c.add(f"U+{name} in order.orderNo", f"field order.orderNo: contains a control character (U+{name})",
              encode(at(d, "order.orderNo", "HF" + ch)), key=("HF" + ch).encode())

    # Over-long ids and codes.
    for path, limit, base in [("order.orderNo", 40, d), ("msgId", 64, d), ("msgType", 64, d),
                              ("order.category.code", 64, d), ("order.assignee.unitCode", 64, d),
                              ("order.assignee.unitName", 200, d), ("order.category.name", 200, d),
                              ("order.location.streetCode", 64, d), ("order.unitCode", 64, sign),
                              ("order.repeatOf", 64, d)]:
        value = "H" * (limit + 1)
        c.add(f"{path} of {limit + 1} characters", f"field {path}: longer than {limit} characters",
              encode(at(base, path, value)), key=value.encode() if path == "order.orderNo" else b"HF261123000001")
    combining = "H" + "\u0301" * 100
    c.add("order.orderNo: one letter with 100 combining marks", "field order.orderNo: longer than 40 characters",
          encode(at(d, "order.orderNo", combining)), key=combining.encode())
    c.add("order.content of 4001 characters", "field order.content: longer than 4000 characters",
          encode(at(d, "order.content", "长" * 4001)))

    # Impossible times.
    for path, t, base in [("sendTime", "2026-13-45T08:00:00+08:00", d),
                          ("order.acceptTime", "2026-02-30T08:00:00+08:00", d),
                          ("order.time", "2026-11-23T24:61:00+08:00", sign),
                          ("order.time", "2026-11-23T23:59:60+08:00", sign),
                          ("order.time", "2026-11-23T08:00:00+24:00", sign),
                          ("order.time", "2026-11-23T08:00:00", sign),
                          ("order.time", "２０２６-11-23T08:00:00+08:00", sign)]:
        c.add(f"{path} = {t}", f"field {path}: not an RFC 3339 time", encode(at(base, path, t)))

    # Numbers where an integer is required.
    approve = event12345("EXTEND_APPROVE", days=2)
    c.add("order.days = 1e999999", "not valid JSON: number out of range", encode(at(approve, "order.days", RAW), b"1e999999"))
    for raw in [b"123456789012345678901234567890", b"2147483648", b"-1", b"0", b"1.5", b"1e-999999"]:
        c.add(f"order.days = {raw.decode()}", "field order.days: expected an integer >= 1",
              encode(at(approve, "order.days", RAW), raw))
    c.add("order.timeLimit.signHours = -5", "field order.timeLimit.signHours: expected an integer >= 0",
          encode(at(d, "order.timeLimit.signHours", -5)))

    # Wrong types and missing fields, every required field of every message type.
    wrong = [(1, "a number"), (True, "a boolean"), ([], "an array"), ({}, "an object"), ("x", "a string")]

    def wrong_type(base, path, kind):
        for value, name in wrong:
            if (kind == "string" and name == "a string") or (kind == "object" and name == "an object"):
                continue
            if kind == "integer" and name == "a number":
                continue
            expect = (f"field {path}: expected an integer >= " if kind == "integer"
                      else f"field {path}: expected {'a string' if kind == 'string' else 'an object'}, found {name}")
            c.add(f"{path} is {name}", expect, encode(at(base, path, value)))
            break  # one wrong type a field; the fuzzer tries the others
        c.add(f"{path} is null", f"missing required field {path}", encode(at(base, path, None)))
        c.add(f"{path} is absent", f"missing required field {path}", encode(at(base, path, DROP)))

    for path in ["msgId", "msgType", "sendTime", "order.orderNo", "order.channel", "order.acceptTime",
                 "order.appealType", "order.category.code", "order.category.name", "order.urgency", "order.content",
                 "order.location.address", "order.assignee.unitCode", "order.assignee.unitName", "order.assignee.level"]:
        wrong_type(d, path, "string")
    for path in ["order", "order.category", "order.citizen", "order.location", "order.assignee"]:
        wrong_type(d, path, "object")
    c.add("order.timeLimit is a string", "field order.timeLimit: expected an object, found a string",
          encode(at(d, "order.timeLimit", "2h")))
    redispatch = event12345("REDISPATCH", assignee={"unitCode": "S1", "unitName": "街道办", "level": "STREET"})
    wrong_type(redispatch, "order.time", "string")
    wrong_type(redispatch, "order.assignee", "object")
    wrong_type(sign, "order.unitCode", "string")
    reply = event12345("REPLY", unitCode="C1", result="RESOLVED")
    wrong_type(reply, "order.result", "string")
    apply = event12345("EXTEND_APPLY", unitCode="C1", days=3)
    wrong_type(apply, "order.days", "integer")
    c.add("order.days is a string", "field order.days: expected an integer >= 1", encode(at(apply, "order.days", "3")))
    wrong_type(approve, "order.days", "integer")
    visit = event12345("VISIT", satisfaction="SATISFIED")
    wrong_type(visit, "order.satisfaction", "string")
    c.add("order.urgency not one of the values", "field order.urgency: 'SOON' is not one of",
          encode(at(d, "order.urgency", "SOON")))
    c.add("order.assignee.level with a NUL", "field order.assignee.level: 'A\\u0000' is not one of",
          encode(at(d, "order.assignee.level", "A\x00")))

    # Duplicate keys.
    v = encode(d)
    c.add("duplicate msgId, other value", 'not valid JSON: duplicate key "msgId" in object',
          v[:-1] + b',"msgId":"other"}')
    o = encode(at(d, "order.orderNo", RAW), b'"HF261123000001","orderNo":"HF999"')
    c.add("duplicate order.orderNo", 'not valid JSON: duplicate key "orderNo" in object', o)
    c.add("duplicate key in the citizen object (personal, dropped)", 'not valid JSON: duplicate key "name" in object',
          encode(at(d, "order.citizen.name", RAW), b'"A","name":"B"'))
    c.add("duplicate key with a NUL in its name", 'not valid JSON: duplicate key "k\\u0000" in object',
          v[:-1] + b',"k\\u0000":1,"k\\u0000":2}')
    c.write()


def corpus12319():
    c = Corpus("12319")
    n = new12319()
    common(c, n, "case_id", "case_id", b"12319-2026-000001")

    for path in ["event", "case_type", "district", "street", "community", "grid_no", "dept_code", "dept_name"]:
        c.add(f"NUL (\\u0000) in {path}", f"field {path}: contains a control character (U+0000)",
              encode(at(n, path, "A\x00B")))
    c.add("NUL (\\u0000) in case_id", "field case_id: contains a control character (U+0000)",
          encode(at(n, "case_id", "12319\x00")), key=b"12319\x00")
    for ch, name in [("\n", "000A"), ("\x7f", "007F"), ("\x9b", "009B")]:
        c.add(f"U+{name} in case_id", f"field case_id: contains a control character (U+{name})",
              encode(at(n, "case_id", "C" + ch)), key=("C" + ch).encode())

    for path, limit in [("case_id", 40), ("event", 64), ("case_type", 200), ("district", 64), ("grid_no", 64),
                        ("dept_code", 64), ("dept_name", 200)]:
        value = "C" * (limit + 1)
        c.add(f"{path} of {limit + 1} characters", f"field {path}: longer than {limit} characters",
              encode(at(n, path, value)), key=value.encode() if path == "case_id" else b"12319-2026-000001")

    for path, t in [("event_time", "2026-13-45 08:00:00"), ("event_time", "2026-02-30 08:00:00"),
                    ("event_time", "2026-11-23 24:61:00"), ("event_time", "2026-11-23T08:00:00"),
                    ("event_time", "2026-11-23 08:00:00+08:00"), ("limit_time", "2026-02-29 08:00:00")]:
        c.add(f"{path} = {t}", f"field {path}: not a time of the form yyyy-MM-dd HH:mm:ss", encode(at(n, path, t)))

    c.add("event_seq = 1e999999", "not valid JSON: number out of range", encode(at(n, "event_seq", RAW), b"1e999999"))
    for raw in [b"99999999999999999999", b"2147483648", b"0", b"-3", b"2.5", b"1e-999999"]:
        c.add(f"event_seq = {raw.decode()}", "field event_seq: expected an integer >= 1",
              encode(at(n, "event_seq", RAW), raw))
    c.add("level = 4", "field level: expected 1, 2 or 3", encode(at(n, "level", 4)))
    c.add("level = -1e999999", "not valid JSON: number out of range", encode(at(n, "level", RAW), b"-1e999999"))
    delay = event12319("delay", delay_days=3)
    c.add("delay_days = 1e400", "not valid JSON: number out of range", encode(at(delay, "delay_days", RAW), b"1e400"))
    c.add("delay_days = 0", "field delay_days: expected an integer >= 1", encode(at(delay, "delay_days", 0)))

    def wrong_type(base, path, kind):
        if kind == "integer":
            c.add(f"{path} is a string", f"field {path}: expected an integer >= ", encode(at(base, path, "1")))
        else:
            c.add(f"{path} is a number", f"field {path}: expected a string, found a number", encode(at(base, path, 7)))
        c.add(f"{path} is null", f"missing required field {path}", encode(at(base, path, None)))
        c.add(f"{path} is absent", f"missing required field {path}", encode(at(base, path, DROP)))

    for path in ["case_id", "event", "event_time", "case_type", "content", "caller_name", "caller_tel", "addr",
                 "district", "street", "community", "grid_no", "dept_code", "dept_name", "dept_tier"]:
        wrong_type(n, path, "string")
    for path in ["event_seq", "level"]:
        wrong_type(n, path, "integer")
    wrong_type(event12319("transfer", dept_code="S1", dept_name="街道办", dept_tier="街道"), "dept_code", "string")
    wrong_type(delay, "delay_days", "integer")
    wrong_type(event12319("feedback", satisfaction="满意"), "satisfaction", "string")
    c.add("dept_tier not one of the values", "field dept_tier: 'X\\u0000' is not one of", encode(at(n, "dept_tier", "X\x00")))
    c.add("satisfaction not one of the values", "field satisfaction: '很好' is not one of",
          encode(at(event12319("feedback", satisfaction="满意"), "satisfaction", "很好")))

    v = encode(n)
    c.add("duplicate event_seq", 'not valid JSON: duplicate key "event_seq" in object', v[:-1] + b',"event_seq":9}')
    c.add("duplicate dept_code", 'not valid JSON: duplicate key "dept_code" in object', v[:-1] + b',"dept_code":"X"}')
    c.write()


if __name__ == "__main__":
    corpus12345()
    corpus12319()
