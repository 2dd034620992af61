/// The CloudEvents 1.0 message of a decision, as promised in `docs/EVENTS.md`: same
/// decision, same bytes (fixed key order), so a republished event is byte-identical.
/// Never carries personal data: the case state holds none. `OutboxMessage.decision` makes it a
/// Kafka message.
public enum OutboundEvent {
    /// Which of the three topics a decision goes to.
    public enum Stream: Sendable { case escalations, supervision, outcomes }

    /// An event type without its `gridloop.case.` prefix (`supervision.warning`, `escalated`):
    /// the metrics' `kind` label and what `case show` prints.
    package static func shortType(_ type: String) -> String {
        type.hasPrefix("gridloop.case.") ? String(type.dropFirst(14)) : type
    }

    public static func stream(of d: SLADecision) -> Stream {
        switch d.kind {
        case .escalated: .escalations
        case .warning, .overdue, .urge: .supervision
        case .resolved: .outcomes
        }
    }

    /// The JSON value of the event; `state` is the case after the decision.
    public static func json(_ d: SLADecision, state s: CaseState, deployment: String) -> [UInt8] {
        var w = JSONWriter(capacity: 1024)
        w.beginObject()
        w.field("specversion", "1.0")
        w.field("id", d.id)
        w.field("source", "/gridloop/", deployment)
        w.field("type", d.typeName)
        w.field("subject", d.caseId)
        w.time("time", d.time)
        w.field("datacontenttype", "application/json")
        w.beginObject("data")
        w.field("caseId", s.caseId)
        w.field("source", s.source.rawValue)
        w.field("orderNo", s.orderNo)
        w.beginObject("category")
        w.field("code", ClockKeeper.categoryCode(s))
        w.field("name", s.order.categoryName)
        w.endObject()
        w.field("urgency", s.order.urgency.rawValue)
        w.field("level", s.level.rawValue)
        w.beginObject("grid")
        w.field("districtCode", s.order.districtCode)
        w.field("streetCode", s.order.streetCode)
        w.field("communityCode", s.order.communityCode)
        w.field("gridCode", s.order.gridCode)
        w.endObject()
        if !s.unitCode.isEmpty {
            w.beginObject("assignee")
            w.field("unitCode", s.unitCode)
            w.field("unitName", s.unitName)
            w.endObject()
        }
        switch d.kind {
        case .warning(let limit, let deadline, let share):
            w.field("limit", limit.rawValue)
            w.time("deadline", deadline)
            w.number("usedShare", share)
            w.clock(limit, level: s.level, unitCode: s.unitCode, unitName: s.unitName)
        case .overdue(let limit, let deadline):
            w.field("limit", limit.rawValue)
            w.time("deadline", deadline)
            w.duration("overdueBy", millis: d.time - deadline)
            w.clock(limit, level: s.level, unitCode: s.unitCode, unitName: s.unitName)
        case .urge(let limit, let deadline, let count):
            w.field("limit", limit.rawValue)
            w.time("deadline", deadline)
            w.int("urgeCount", count)
            w.clock(limit, level: s.level, unitCode: s.unitCode, unitName: s.unitName)
        case .escalated(let e):
            w.field("fromLevel", e.from.rawValue)
            w.field("toLevel", e.to.rawValue)
            w.field("reason", e.reason)
            w.time("deadline", e.deadline)
            w.int("escalationCount", e.count)
            if let limit = ClockKind.breached(by: e.reason) {
                w.clock(limit, level: e.from, unitCode: e.fromUnit.unitCode, unitName: e.fromUnit.unitName)
            }
            w.beginObject("toUnit")
            w.field("unitCode", e.toUnit.unit.unitCode)
            w.field("unitName", e.toUnit.unit.unitName)
            w.field("resolvedBy", e.toUnit.resolvedBy.rawValue)
            w.endObject()
        case .resolved(let r):
            w.field("resolvedLevel", r.level.rawValue)
            w.field("result", r.result)
            w.int("escalationCount", r.escalations)
            w.field("satisfaction", r.satisfaction?.rawValue)
            w.time("openedAt", r.openedAt)
            w.time("resolvedAt", r.resolvedAt)
        }
        w.endObject()
        w.endObject()
        return w.bytes
    }
}

/// A minimal JSON writer with a fixed key order; `nil` values are left out. A value type
/// writing into one growing buffer: keys are static strings, copied without escaping, numbers
/// and times are written digit by digit (a decision's event is built for every decision, and
/// a burst takes 200,000 of them).
struct JSONWriter {
    private(set) var bytes: [UInt8] = []
    /// A value has been written at the current level: the next key or element needs a comma.
    private var comma = false

    init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    mutating func beginObject() {
        bytes.append(UInt8(ascii: "{"))
        comma = false
    }

    /// `"k":{`
    mutating func beginObject(_ k: StaticString) {
        key(k)
        beginObject()
    }

    mutating func endObject() {
        bytes.append(UInt8(ascii: "}"))
        comma = true
    }

    /// `"k":[`; each element is an object opened with `beginElement`.
    mutating func beginArray(_ k: StaticString) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        comma = false
    }

    mutating func endArray() {
        bytes.append(UInt8(ascii: "]"))
        comma = true
    }

    /// Opens one object element of an array (close it with `endObject`).
    mutating func beginElement() {
        if comma { bytes.append(UInt8(ascii: ",")) }
        beginObject()
    }

    mutating func key(_ k: StaticString) {
        if comma { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        k.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }

    /// `"k":"..."`, the text between the quotes written by `body`.
    private mutating func quoted(_ k: StaticString, _ body: (inout JSONWriter) -> Void) {
        key(k)
        bytes.append(UInt8(ascii: "\""))
        body(&self)
        bytes.append(UInt8(ascii: "\""))
        comma = true
    }

    mutating func field(_ k: StaticString, _ v: String?) {
        guard let v else { return }
        quoted(k) { $0.escaped(v) }
    }

    /// A string value made of a fixed prefix and a string: `"k":"/gridloop/name"`.
    mutating func field(_ k: StaticString, _ prefix: StaticString, _ v: String) {
        quoted(k) { w in
            prefix.withUTF8Buffer { w.bytes.append(contentsOf: $0) }
            w.escaped(v)
        }
    }

    mutating func int(_ k: StaticString, _ v: Int) {
        key(k)
        digits(Int64(v))
        comma = true
    }

    mutating func int64(_ k: StaticString, _ v: Int64?) {
        guard let v else { return }
        key(k)
        digits(v)
        comma = true
    }

    mutating func bool(_ k: StaticString, _ v: Bool) {
        key(k)
        if v {
            bytes.append(contentsOf: [UInt8(ascii: "t"), UInt8(ascii: "r"), UInt8(ascii: "u"), UInt8(ascii: "e")])
        } else {
            bytes.append(contentsOf: [
                UInt8(ascii: "f"), UInt8(ascii: "a"), UInt8(ascii: "l"), UInt8(ascii: "s"), UInt8(ascii: "e"),
            ])
        }
        comma = true
    }

    mutating func number(_ k: StaticString, _ v: Double) {
        key(k)
        bytes.append(contentsOf: (v == v.rounded() ? String(Int(v)) : String(v)).utf8)
        comma = true
    }

    /// `"k":"2026-11-24T04:21:07.000Z"`, left out when nil.
    mutating func time(_ k: StaticString, _ millis: Int64?) {
        guard let millis else { return }
        quoted(k) { $0.rfc3339(millis) }
    }

    /// `"k":"PT26H3M0S"`
    mutating func duration(_ k: StaticString, millis: Int64) {
        quoted(k) { $0.isoDuration(millis: millis) }
    }

    /// `2026-11-24T04:21:07.000Z` (UTC), unquoted.
    mutating func rfc3339(_ millis: Int64) {
        let day = LocalDate(day: millis.floorDiv(LocalDate.dayMillis))
        let ms = millis.floorMod(LocalDate.dayMillis)
        let c = day.civil
        digits(Int64(c.year))
        bytes.append(UInt8(ascii: "-"))
        padded(Int64(c.month), 2)
        bytes.append(UInt8(ascii: "-"))
        padded(Int64(c.day), 2)
        bytes.append(UInt8(ascii: "T"))
        padded(ms / 3_600_000, 2)
        bytes.append(UInt8(ascii: ":"))
        padded(ms / 60_000 % 60, 2)
        bytes.append(UInt8(ascii: ":"))
        padded(ms / 1000 % 60, 2)
        bytes.append(UInt8(ascii: "."))
        padded(ms % 1000, 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// ISO 8601 duration `PT26H3M0S` (negative durations as zero), unquoted.
    mutating func isoDuration(millis: Int64) {
        let s = max(0, millis) / 1000
        bytes.append(UInt8(ascii: "P"))
        bytes.append(UInt8(ascii: "T"))
        digits(s / 3600)
        bytes.append(UInt8(ascii: "H"))
        digits(s / 60 % 60)
        bytes.append(UInt8(ascii: "M"))
        digits(s % 60)
        bytes.append(UInt8(ascii: "S"))
    }

    /// The decimal digits of `v`, with a minus sign if negative.
    private mutating func digits(_ v: Int64) {
        if v < 0 { bytes.append(UInt8(ascii: "-")) }
        var m = v.magnitude
        guard m >= 10 else {
            bytes.append(UInt8(ascii: "0") + UInt8(m))
            return
        }
        // 20 digits hold any UInt64.
        var buffer: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &buffer) { raw in
            var i = raw.count
            while m > 0 {
                i -= 1
                raw[i] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
            }
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: raw[i...]))
        }
    }

    /// `v` (0 or more) with leading zeros to `width` digits.
    private mutating func padded(_ v: Int64, _ width: Int) {
        var scale: Int64 = 1
        for _ in 1..<width { scale *= 10 }
        while scale > 1 && v < scale {
            bytes.append(UInt8(ascii: "0"))
            scale /= 10
        }
        digits(v)
    }

    /// The string's UTF-8 with `"`, `\\` and control characters escaped (no quotes).
    private mutating func escaped(_ s: String) {
        var s = s
        // Most strings need no escaping: one append of the whole UTF-8 run.
        let plain = s.withUTF8 { buf -> Bool in
            for b in buf where b == 34 || b == 92 || b < 0x20 { return false }
            bytes.append(contentsOf: buf)
            return true
        }
        if plain { return }
        let hex: StaticString = "0123456789abcdef"
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""):
                bytes.append(92)
                bytes.append(34)
            case 92:
                bytes.append(92)
                bytes.append(92)
            case 0..<0x20:
                bytes.append(92)
                bytes.append(UInt8(ascii: "u"))
                bytes.append(48)
                bytes.append(48)
                hex.withUTF8Buffer { h in
                    bytes.append(h[Int(b >> 4)])
                    bytes.append(h[Int(b & 15)])
                }
            default: bytes.append(b)
            }
        }
    }
}

extension JSONWriter {
    /// `"clock":{"kind":…,"level":…,"unitCode":…,"unitName":…}`: whose limit an event concerns
    /// (contract version 2).
    mutating func clock(_ kind: ClockKind, level: LoopLevel, unitCode: String, unitName: String) {
        beginObject("clock")
        field("kind", kind.rawValue)
        field("level", level.rawValue)
        field("unitCode", unitCode)
        field("unitName", unitName)
        endObject()
    }
}

extension ClockKind {
    /// The limit whose breach an escalation's reason names (nil: not a breach, a reopening).
    static func breached(by reason: String) -> ClockKind? {
        switch reason {
        case "SIGN_OVERDUE": .sign
        case "HANDLE_OVERDUE": .handle
        default: nil
        }
    }
}
