/// The stored form of a case's clocks (`case_clocks.clock`): the same JSON as the `Codable`
/// conformance, written and read without Foundation, because every changed clock of every
/// batch is written and every clock of a case not cached is read (JSONEncoder and JSONDecoder
/// cost tens of microseconds per clock).
extension CaseClock {
    public var json: [UInt8] {
        var w = JSONWriter(capacity: 512)
        w.beginObject()
        w.field("caseId", caseId)
        w.field("topic", topic)
        w.int("partition", Int(partition))
        w.field("level", level.rawValue)
        w.int("assignment", assignment)
        w.int64("assignedAt", assignedAt)
        w.bool("platformAssigned", platformAssigned)
        func write(_ clock: Clock) {
            w.field("kind", clock.kind.rawValue)
            w.field("limit", clock.limit.description)
            w.int("stage", clock.stage.rawValue)
            w.int64("deadline", clock.deadline)
            w.int64("warningAt", clock.warningAt)
            w.int("urges", clock.urges)
            w.endObject()
        }
        if let sign {
            w.beginObject("sign")
            write(sign)
        }
        if let handle {
            w.beginObject("handle")
            write(handle)
        }
        w.int64("platformSign", platformSign)
        w.int64("platformHandle", platformHandle)
        w.beginArray("suspensions")
        for s in suspensions {
            w.beginElement()
            w.int64("from", s.from)
            w.int64("to", s.to)
            w.endObject()
        }
        w.endArray()
        w.int("escalations", escalations)
        w.bool("awaitingRedispatch", awaitingRedispatch)
        w.bool("replied", replied)
        w.bool("closed", closed)
        if let policyVersion { w.field("policyVersion", policyVersion) }
        if let policyHistory { w.field("policyHistory", policyHistory) }
        w.endObject()
        return w.bytes
    }

    /// Reads the stored form from a text cell, without copying it when it is in the writer's form.
    public init(jsonText text: String) throws(ClockDecodingError) {
        var text = text
        if let clock = text.withUTF8({ CaseClock.readWritten($0) }) {
            self = clock
            return
        }
        try self.init(json: Array(text.utf8))
    }

    /// Reads the stored form (also what `JSONEncoder` wrote before this existed).
    public init(json: [UInt8]) throws(ClockDecodingError) {
        if let clock = json.withUnsafeBufferPointer({ CaseClock.readWritten($0) }) {
            self = clock
            return
        }
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
        self.init(
            caseId: try need("caseId", { $0?.stringValue }, in: o),
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
        guard case .array(let list) = o["suspensions"] ?? .array([]) else {
            throw ClockDecodingError(problem: "suspensions invalid")
        }
        suspensions = try list.map { (e: JSONValue) throws(ClockDecodingError) -> Suspension in
            guard case .object(let s) = e else { throw ClockDecodingError(problem: "suspension invalid") }
            return Suspension(from: try need("from", { $0?.intValue }, in: s), to: s["to"]?.intValue)
        }
        escalations = Int(try need("escalations", { $0?.intValue }, in: o))
        awaitingRedispatch = try need("awaitingRedispatch", { $0?.boolValue }, in: o)
        replied = try need("replied", { $0?.boolValue }, in: o)
        closed = try need("closed", { $0?.boolValue }, in: o)
        policyVersion = o["policyVersion"]?.stringValue
        policyHistory = o["policyHistory"]?.stringValue
    }
}

extension CaseClock {
    /// The clock, if `json` is exactly what `json` writes (keys in its order, no spaces, ASCII
    /// strings without escapes): read in one pass, without building a JSON tree. Anything
    /// else (rows written by `JSONEncoder`, unusual text, damage) is nil, for the general parser
    /// to read or refuse with the reason. Firing reads a stored clock for every due clock.
    static func readWritten(_ json: UnsafeBufferPointer<UInt8>) -> CaseClock? {
        var r = WrittenClockReader(b: json)
        guard r.lit("{\"caseId\":"), let caseId = r.string(),
            r.lit(",\"topic\":"), let topic = r.string(),
            r.lit(",\"partition\":"), let partition = r.int(), let p32 = Int32(exactly: partition),
            r.lit(",\"level\":"), let level = r.string().flatMap(LoopLevel.init(rawValue:)),
            r.lit(",\"assignment\":"), let assignment = r.int(),
            r.lit(",\"assignedAt\":"), let assignedAt = r.int(),
            r.lit(",\"platformAssigned\":"), let platformAssigned = r.bool()
        else { return nil }
        var c = CaseClock(caseId: caseId, topic: topic, partition: p32, level: level, assignedAt: assignedAt)
        c.assignment = Int(assignment)
        c.platformAssigned = platformAssigned
        func clock() -> Clock? {
            guard r.lit("\"kind\":"), let kind = r.string().flatMap(ClockKind.init(rawValue:)),
                r.lit(",\"limit\":"), let limit = r.string().flatMap(TimeLimit.init),
                r.lit(",\"stage\":"), let stage = r.int().flatMap({ Clock.Stage(rawValue: Int($0)) })
            else { return nil }
            var k = Clock(kind: kind, limit: limit)
            k.stage = stage
            if r.lit(",\"deadline\":") {
                guard let v = r.int() else { return nil }
                k.deadline = v
            }
            if r.lit(",\"warningAt\":") {
                guard let v = r.int() else { return nil }
                k.warningAt = v
            }
            guard r.lit(",\"urges\":"), let urges = r.int(), r.lit("}") else { return nil }
            k.urges = Int(urges)
            return k
        }
        if r.lit(",\"sign\":{") {
            guard let k = clock() else { return nil }
            c.sign = k
        }
        if r.lit(",\"handle\":{") {
            guard let k = clock() else { return nil }
            c.handle = k
        }
        if r.lit(",\"platformSign\":") {
            guard let v = r.int() else { return nil }
            c.platformSign = v
        }
        if r.lit(",\"platformHandle\":") {
            guard let v = r.int() else { return nil }
            c.platformHandle = v
        }
        guard r.lit(",\"suspensions\":[") else { return nil }
        if !r.lit("]") {
            repeat {
                guard r.lit("{\"from\":"), let from = r.int() else { return nil }
                var to: Int64?
                if r.lit(",\"to\":") {
                    guard let v = r.int() else { return nil }
                    to = v
                }
                guard r.lit("}") else { return nil }
                c.suspensions.append(Suspension(from: from, to: to))
            } while r.lit(",")
            guard r.lit("]") else { return nil }
        }
        guard r.lit(",\"escalations\":"), let escalations = r.int(),
            r.lit(",\"awaitingRedispatch\":"), let awaiting = r.bool(),
            r.lit(",\"replied\":"), let replied = r.bool(),
            r.lit(",\"closed\":"), let closed = r.bool()
        else { return nil }
        if r.lit(",\"policyVersion\":") {
            guard let v = r.string() else { return nil }
            c.policyVersion = v
        }
        if r.lit(",\"policyHistory\":") {
            guard let h = r.string() else { return nil }
            c.policyHistory = h
        }
        guard r.lit("}"), r.atEnd else { return nil }
        c.escalations = Int(escalations)
        c.awaitingRedispatch = awaiting
        c.replied = replied
        c.closed = closed
        return c
    }
}

/// A cursor over the bytes of a stored clock in the writer's exact form.
private struct WrittenClockReader {
    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    var atEnd: Bool { i == b.count }

    /// Consumes `s` if the input continues with it.
    mutating func lit(_ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard b.count - i >= n else { return false }
        let p = s.utf8Start
        for k in 0..<n where b[i + k] != p[k] { return false }
        i += n
        return true
    }

    /// A string of printable ASCII without escapes.
    mutating func string() -> String? {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
        let start = i + 1
        var j = start
        while j < b.count {
            let c = b[j]
            if c == UInt8(ascii: "\"") {
                i = j + 1
                return String(decoding: UnsafeBufferPointer(rebasing: b[start..<j]), as: UTF8.self)
            }
            if c == UInt8(ascii: "\\") || c < 0x20 || c >= 0x80 { return nil }
            j += 1
        }
        return nil
    }

    /// An integer of at most 18 digits, as the writer writes it (no leading zeros but `0`).
    mutating func int() -> Int64? {
        var j = i
        let negative = j < b.count && b[j] == UInt8(ascii: "-")
        if negative { j += 1 }
        let first = j
        var v: Int64 = 0
        while j < b.count, b[j] >= UInt8(ascii: "0"), b[j] <= UInt8(ascii: "9") {
            v = v * 10 + Int64(b[j] - UInt8(ascii: "0"))
            j += 1
        }
        let n = j - first
        guard n > 0, n <= 18, n == 1 || b[first] != UInt8(ascii: "0") else { return nil }
        i = j
        return negative ? -v : v
    }

    mutating func bool() -> Bool? {
        if lit("true") { return true }
        if lit("false") { return false }
        return nil
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
