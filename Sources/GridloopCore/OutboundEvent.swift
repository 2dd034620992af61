/// The CloudEvents 1.0 message of a decision, as promised in `outbound-events.md`: same
/// decision, same bytes (fixed key order), so a republished event is byte-identical.
/// Never carries personal data: the case state holds none.
public enum OutboundEvent {
    /// Which of the three topics a decision goes to.
    public enum Stream: Sendable { case escalations, supervision, outcomes }

    public static func stream(of d: SLADecision) -> Stream {
        switch d.kind {
        case .escalated: .escalations
        case .warning, .overdue, .urge: .supervision
        case .resolved: .outcomes
        }
    }

    /// The Kafka headers of the decision with this id, flattened as name, value, ...: they
    /// follow from the id alone, so the outbox does not store them.
    public static func headers(id: String) -> [String] {
        ["content-type", "application/cloudevents+json; charset=UTF-8", "gridloop-id", id]
    }

    /// The JSON value of the event; `state` is the case after the decision.
    public static func json(_ d: SLADecision, state s: CaseState, deployment: String) -> [UInt8] {
        let w = JSONWriter()
        w.object {
            w.field("specversion", "1.0")
            w.field("id", d.id)
            w.field("source", "/gridloop/\(deployment)")
            w.field("type", d.typeName)
            w.field("subject", d.caseId)
            w.field("time", rfc3339UTC(d.time))
            w.field("datacontenttype", "application/json")
            w.key("data")
            w.object {
                w.field("caseId", s.caseId)
                w.field("source", s.source.rawValue)
                w.field("orderNo", s.orderNo)
                w.key("category")
                w.object {
                    w.field("code", ClockKeeper.categoryCode(s))
                    w.field("name", s.order.categoryName)
                }
                w.field("urgency", s.order.urgency.rawValue)
                w.field("level", s.level.rawValue)
                w.key("grid")
                w.object {
                    w.field("districtCode", s.order.districtCode)
                    w.field("streetCode", s.order.streetCode)
                    w.field("communityCode", s.order.communityCode)
                    w.field("gridCode", s.order.gridCode)
                }
                if !s.unitCode.isEmpty {
                    w.key("assignee")
                    w.object {
                        w.field("unitCode", s.unitCode)
                        w.field("unitName", s.unitName)
                    }
                }
                switch d.kind {
                case .warning(let limit, let deadline, let share):
                    w.field("limit", limit.rawValue)
                    w.field("deadline", rfc3339UTC(deadline))
                    w.number("usedShare", share)
                case .overdue(let limit, let deadline):
                    w.field("limit", limit.rawValue)
                    w.field("deadline", rfc3339UTC(deadline))
                    w.field("overdueBy", isoDuration(millis: d.time - deadline))
                case .urge(let limit, let deadline, let count):
                    w.field("limit", limit.rawValue)
                    w.field("deadline", rfc3339UTC(deadline))
                    w.int("urgeCount", count)
                case .escalated(let from, let to, let reason, let deadline, let count):
                    w.field("fromLevel", from.rawValue)
                    w.field("toLevel", to.rawValue)
                    w.field("reason", reason)
                    w.field("deadline", deadline.map(rfc3339UTC))
                    w.int("escalationCount", count)
                case .resolved(let level, let result, let escalations, let satisfaction, let openedAt, let resolvedAt):
                    w.field("resolvedLevel", level.rawValue)
                    w.field("result", result)
                    w.int("escalationCount", escalations)
                    w.field("satisfaction", satisfaction?.rawValue)
                    w.field("openedAt", rfc3339UTC(openedAt))
                    w.field("resolvedAt", rfc3339UTC(resolvedAt))
                }
            }
        }
        return w.bytes
    }

    /// `2026-11-24T04:21:07.000Z`
    public static func rfc3339UTC(_ millis: Int64) -> String {
        let day = LocalDate(day: millis.floorDiv(LocalDate.dayMillis))
        let ms = millis.floorMod(LocalDate.dayMillis)
        let c = day.civil
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let frac = ms % 1000
        let fracText = frac < 10 ? "00\(frac)" : frac < 100 ? "0\(frac)" : "\(frac)"
        return "\(c.year)-\(two(Int64(c.month)))-\(two(Int64(c.day)))T\(two(ms / 3_600_000)):\(two(ms / 60_000 % 60)):\(two(ms / 1000 % 60)).\(fracText)Z"
    }

    /// ISO 8601 duration: `PT26H3M0S`.
    public static func isoDuration(millis: Int64) -> String {
        let s = max(0, millis) / 1000
        return "PT\(s / 3600)H\(s / 60 % 60)M\(s % 60)S"
    }
}

/// A minimal JSON writer with a fixed key order; `nil` values are left out.
final class JSONWriter {
    private(set) var bytes: [UInt8] = []
    private var first = [true]

    func object(_ body: () -> Void) {
        bytes.append(UInt8(ascii: "{"))
        first.append(true)
        body()
        first.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    func key(_ k: String) {
        if first[first.count - 1] { first[first.count - 1] = false } else { bytes.append(UInt8(ascii: ",")) }
        string(k)
        bytes.append(UInt8(ascii: ":"))
    }

    func field(_ k: String, _ v: String?) {
        guard let v else { return }
        key(k)
        string(v)
    }

    func int(_ k: String, _ v: Int) {
        key(k)
        bytes.append(contentsOf: String(v).utf8)
    }

    func int64(_ k: String, _ v: Int64?) {
        guard let v else { return }
        key(k)
        bytes.append(contentsOf: String(v).utf8)
    }

    func bool(_ k: String, _ v: Bool) {
        key(k)
        bytes += Array((v ? "true" : "false").utf8)
    }

    /// `"k":{...}`, left out when `present` is false.
    func object(_ k: String, present: Bool = true, _ body: () -> Void) {
        guard present else { return }
        key(k)
        object(body)
    }

    /// `"k":[{...},{...}]`: `body` writes each element with `element`.
    func array(_ k: String, _ body: () -> Void) {
        key(k)
        bytes.append(UInt8(ascii: "["))
        first.append(true)
        body()
        first.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    /// One object element of an array.
    func element(_ body: () -> Void) {
        if first[first.count - 1] { first[first.count - 1] = false } else { bytes.append(UInt8(ascii: ",")) }
        object(body)
    }

    func number(_ k: String, _ v: Double) {
        key(k)
        bytes += Array((v == v.rounded() ? String(Int(v)) : String(v)).utf8)
    }

    private func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        // Most strings need no escaping: one append of the whole UTF-8 run.
        let plain = s.utf8.withContiguousStorageIfAvailable { buf -> Bool in
            guard !buf.contains(where: { $0 == 34 || $0 == 92 || $0 < 0x20 }) else { return false }
            bytes.append(contentsOf: buf)
            return true
        } ?? false
        if plain {
            bytes.append(UInt8(ascii: "\""))
            return
        }
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""): bytes += [92, 34]
            case 92: bytes += [92, 92]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [92, UInt8(ascii: "u"), 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
            default: bytes.append(b)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
