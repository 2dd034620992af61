/// The stored form of a case's clocks (`case_clocks.clock`): the same JSON as the `Codable`
/// conformance, written and read without Foundation, because every changed clock of every
/// batch is written and every clock of a case not cached is read (JSONEncoder and JSONDecoder
/// cost tens of microseconds per clock).
extension CaseClock {
    public var json: [UInt8] {
        let w = JSONWriter()
        w.object {
            w.field("caseId", caseId)
            w.field("topic", topic)
            w.int("partition", Int(partition))
            w.field("level", level.rawValue)
            w.int("assignment", assignment)
            w.int64("assignedAt", assignedAt)
            w.bool("platformAssigned", platformAssigned)
            for (name, clock) in [("sign", sign), ("handle", handle)] {
                guard let clock else { continue }
                w.object(name) {
                    w.field("kind", clock.kind.rawValue)
                    w.field("limit", clock.limit.description)
                    w.int("stage", clock.stage.rawValue)
                    w.int64("deadline", clock.deadline)
                    w.int64("warningAt", clock.warningAt)
                    w.int("urges", clock.urges)
                }
            }
            w.int64("platformSign", platformSign)
            w.int64("platformHandle", platformHandle)
            w.array("suspensions") {
                for s in suspensions {
                    w.element {
                        w.int64("from", s.from)
                        w.int64("to", s.to)
                    }
                }
            }
            w.int("escalations", escalations)
            w.bool("awaitingRedispatch", awaitingRedispatch)
            w.bool("replied", replied)
            w.bool("closed", closed)
        }
        return w.bytes
    }

    /// Reads the stored form (also what `JSONEncoder` wrote before this existed).
    public init(json: [UInt8]) throws(ClockDecodingError) {
        let value: JSONValue
        do { value = try JSONParser.parse(json) } catch { throw ClockDecodingError(problem: "\(error)") }
        guard case .object(let o) = value else { throw ClockDecodingError(problem: "not an object") }
        func need<T>(_ key: String, _ read: (JSONValue?) -> T?, in o: [String: JSONValue]) throws(ClockDecodingError) -> T {
            guard let v = read(o[key]) else { throw ClockDecodingError(problem: "\(key) missing or invalid") }
            return v
        }
        func clock(_ key: String) throws(ClockDecodingError) -> Clock? {
            guard let v = o[key], case .object(let c) = v else { return nil }
            let kind = try need("kind", { $0?.stringValue.flatMap(ClockKind.init(rawValue:)) }, in: c)
            let limit = try need("limit", { $0?.stringValue.flatMap(TimeLimit.init) }, in: c)
            var clock = Clock(kind: kind, limit: limit)
            clock.stage = try need("stage", { $0?.intValue.flatMap { Clock.Stage(rawValue: Int($0)) } }, in: c)
            clock.deadline = c["deadline"]?.intValue
            clock.warningAt = c["warningAt"]?.intValue
            clock.urges = Int(try need("urges", { $0?.intValue }, in: c))
            return clock
        }
        self.init(caseId: try need("caseId", { $0?.stringValue }, in: o),
                  topic: try need("topic", { $0?.stringValue }, in: o),
                  partition: Int32(try need("partition", { $0?.intValue }, in: o)),
                  level: try need("level", { $0?.stringValue.flatMap(LoopLevel.init(rawValue:)) }, in: o),
                  assignedAt: try need("assignedAt", { $0?.intValue }, in: o))
        assignment = Int(try need("assignment", { $0?.intValue }, in: o))
        platformAssigned = try need("platformAssigned", { $0?.boolValue }, in: o)
        sign = try clock("sign")
        handle = try clock("handle")
        platformSign = o["platformSign"]?.intValue
        platformHandle = o["platformHandle"]?.intValue
        guard case .array(let list) = o["suspensions"] ?? .array([]) else { throw ClockDecodingError(problem: "suspensions invalid") }
        suspensions = try list.map { (e: JSONValue) throws(ClockDecodingError) -> Suspension in
            guard case .object(let s) = e else { throw ClockDecodingError(problem: "suspension invalid") }
            return Suspension(from: try need("from", { $0?.intValue }, in: s), to: s["to"]?.intValue)
        }
        escalations = Int(try need("escalations", { $0?.intValue }, in: o))
        awaitingRedispatch = try need("awaitingRedispatch", { $0?.boolValue }, in: o)
        replied = try need("replied", { $0?.boolValue }, in: o)
        closed = try need("closed", { $0?.boolValue }, in: o)
    }
}

public struct ClockDecodingError: Error, CustomStringConvertible, Sendable {
    public var problem: String
    public var description: String { "stored clock unreadable: \(problem)" }
}

extension JSONValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
    var intValue: Int64? {
        switch self {
        case .integer(let i): i
        case .double(let d) where d == d.rounded(): Int64(d)
        default: nil
        }
    }
    var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }
}
