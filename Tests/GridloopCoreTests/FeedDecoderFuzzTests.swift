import Foundation
import GridloopCore
import XCTest

/// A mutation fuzzer for the two feed decoders: the valid sample messages, damaged byte by
/// byte and field by field, must each be decided (an event, a skip, or a rejection with a
/// reason) without a crash, and nothing accepted may carry a string PostgreSQL text or a log
/// line cannot take.
///
/// 100,000 mutations a run; `GRIDLOOP_FUZZ_COUNT` sets another number, `GRIDLOOP_FUZZ_SEED` (decimal
/// or 0x-hex) replays a run (the seed is random otherwise and printed), `GRIDLOOP_FUZZ_FIRST` starts
/// at a given case (with COUNT, to narrow down a crash), `GRIDLOOP_FUZZ_VERBOSE=1` prints every
/// case's number before it is decoded.
final class FeedDecoderFuzzTests: XCTestCase {
    /// One seed message: platform, key, value and its fields in a fixed order.
    struct Seed {
        var is12345: Bool
        var key: [UInt8]
        var value: [UInt8]
        var tree: Node
    }

    func testMutatedMessagesAreDecidedSafely() throws {
        let env = ProcessInfo.processInfo.environment
        let count = env["GRIDLOOP_FUZZ_COUNT"].flatMap { Int($0) } ?? 100_000
        let first = env["GRIDLOOP_FUZZ_FIRST"].flatMap { Int($0) } ?? 0
        let verbose = env["GRIDLOOP_FUZZ_VERBOSE"] == "1"
        let seed =
            try env["GRIDLOOP_FUZZ_SEED"].map { text in
                try XCTUnwrap(
                    text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text), "GRIDLOOP_FUZZ_SEED: \(text)")
            } ?? UInt64.random(in: 1...UInt64.max)
        let replay = "GRIDLOOP_FUZZ_SEED=0x\(String(seed, radix: 16)) GRIDLOOP_FUZZ_COUNT=\(count) GRIDLOOP_FUZZ_FIRST=\(first)"
        Self.say("fuzz: \(replay)")

        let seeds = try Self.seeds()
        var fuzzer = Fuzzer(seeds: seeds)
        var outcomes: [String: Int] = [:]
        var reasons: [String: Int] = [:]
        var failures = 0
        let clock = ContinuousClock()
        let started = clock.now
        for n in first..<(first + count) {
            // Every case has its own generator: case n replays alone with FIRST=n COUNT=1.
            var rng = SeededGenerator(seed: seed ^ (UInt64(n) &* 0xD1B5_4A32_D192_ED03))
            let c = fuzzer.make(&rng)
            if verbose { Self.say("fuzz case \(n): \(c.what)") }
            let outcome =
                c.is12345
                ? FeedDecoder.decode12345(key: c.key, value: c.value)
                : FeedDecoder.decode12319(key: c.key, value: c.value)
            let problems = Self.problems(outcome, c)
            switch outcome {
            case .event: outcomes["event", default: 0] += 1
            case .skipped: outcomes["skipped", default: 0] += 1
            case .rejected(let r):
                outcomes["rejected", default: 0] += 1
                reasons[Self.kind(r), default: 0] += 1
            }
            if !problems.isEmpty {
                failures += 1
                if failures <= 20 {
                    XCTFail(
                        """
                        fuzz case \(n) (\(c.what)): \(problems.joined(separator: "; "))
                          outcome: \(outcome)
                          key: \(c.key.map { Self.hex($0) } ?? "nil")
                          value (\(c.value.count) bytes): \(Self.hex(c.value.prefix(600)))
                          replay: GRIDLOOP_FUZZ_SEED=0x\(String(seed, radix: 16)) GRIDLOOP_FUZZ_FIRST=\(n) GRIDLOOP_FUZZ_COUNT=1
                        """)
                }
            }
        }
        let elapsed = clock.now - started
        Self.say(
            "fuzz: \(count) cases in \(elapsed): \(outcomes.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))"
        )
        for (kind, n) in reasons.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }).prefix(30) {
            Self.say("fuzz:   \(n) \(kind)")
        }
        if failures > 0 { Self.say("fuzz: \(failures) failing cases; replay with \(replay)") }
    }

    /// To standard error, unbuffered: the seed is on the screen even if a case crashes the process.
    static func say(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// What is wrong with the outcome of one case (nothing: empty).
    static func problems(_ outcome: FeedDecodeOutcome, _ c: Fuzzer.Case) -> [String] {
        var out: [String] = []
        func checkText(_ s: String?, _ name: String, max: Int, nonEmpty: Bool = false) {
            guard let s else { return }
            if nonEmpty, s.isEmpty { out.append("\(name) is empty") }
            if s.unicodeScalars.count > max { out.append("\(name) has \(s.unicodeScalars.count) characters, more than \(max)") }
            if s.unicodeScalars.contains(where: SafeText.isControl) { out.append("\(name) holds a control character") }
            if s.utf8.contains(0) { out.append("\(name) holds a NUL") }
        }
        switch outcome {
        case .event(let e):
            checkText(e.orderNo, "orderNo", max: FeedLimits.orderNumber, nonEmpty: true)
            checkText(e.caseId, "caseId", max: FeedLimits.orderNumber + 6, nonEmpty: true)
            checkText(e.eventKey, "eventKey", max: c.is12345 ? FeedLimits.code : FeedLimits.orderNumber + 11, nonEmpty: true)
            if e.caseId != CaseEvent.caseId(source: c.is12345 ? .hotline12345 : .hotline12319, orderNo: e.orderNo) {
                out.append("caseId \(e.caseId) is not the order number's")
            }
            if c.key.map({ $0.elementsEqual(e.orderNo.utf8) }) != true {
                out.append("accepted with a key other than the order number")
            }
            checkText(e.unitCode, "unitCode", max: FeedLimits.code, nonEmpty: true)
            checkText(e.assignee?.unitCode, "assignee.unitCode", max: FeedLimits.code, nonEmpty: true)
            checkText(e.assignee?.unitName, "assignee.unitName", max: FeedLimits.name)
            if let o = e.order {
                checkText(o.categoryName, "categoryName", max: FeedLimits.name)
                for (name, v) in [
                    ("categoryCode", o.categoryCode), ("districtCode", o.districtCode), ("streetCode", o.streetCode),
                    ("communityCode", o.communityCode), ("gridCode", o.gridCode), ("repeatOf", o.repeatOf),
                ] {
                    checkText(v, name, max: FeedLimits.code)
                }
            }
            if let s = e.sequence, s < 1 { out.append("event_seq \(s)") }
            if let d = e.days, d < 1 { out.append("days \(d)") }
        case .skipped(let reason, let orderNo):
            checkText(reason, "skip reason", max: SafeText.defaultMaxLength, nonEmpty: true)
            checkText(orderNo, "skipped orderNo", max: FeedLimits.orderNumber, nonEmpty: true)
        case .rejected(let reason):
            if reason.isEmpty { out.append("empty reason") }
            if SafeText.text(reason).utf8.contains(0) { out.append("reason through SafeText holds a NUL") }
            if reason.unicodeScalars.contains(where: SafeText.isControl) { out.append("reason holds a control character") }
            if reason.unicodeScalars.count > SafeText.defaultMaxLength + 30 {
                out.append("reason of \(reason.unicodeScalars.count) characters")
            }
        }
        // What a single structure mutation must lead to, whatever else the message holds.
        if let expected = c.expect {
            if case .rejected(let r) = outcome, r.contains(expected) {
            } else {
                out.append("expected a rejection containing '\(expected)'")
            }
        }
        return out
    }

    /// A reason's kind: its words before the first quote or digit.
    static func kind(_ reason: String) -> String {
        String(reason.prefix { $0 != "'" && $0 != "\"" && !$0.isNumber }.prefix(70))
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The valid messages of the sample feeds, both platforms.
    static func seeds() throws -> [Seed] {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        var out: [Seed] = []
        for (file, is12345) in [("12345-sample.kafka", true), ("12319-sample.kafka", false)] {
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            for line in data.split(separator: UInt8(ascii: "\n")) {
                let tab = try XCTUnwrap(line.firstIndex(of: 9))
                let key = Array(line[line.startIndex..<tab])
                let value = Array(line[(tab + 1)...])
                let outcome =
                    is12345 ? FeedDecoder.decode12345(key: key, value: value) : FeedDecoder.decode12319(key: key, value: value)
                if case .rejected(let r) = outcome {
                    XCTFail("\(file): a sample line is refused: \(r)")
                    continue
                }
                out.append(Seed(is12345: is12345, key: key, value: value, tree: Node(try JSONParser.parse(value))))
            }
        }
        XCTAssertGreaterThan(out.count, 300)
        return out
    }
}

/// A JSON document with its members in a fixed order, which can say what `JSONValue` cannot:
/// a key twice, a number out of range, bytes that are not JSON.
indirect enum Node {
    case value(JSONValue)
    case raw([UInt8])
    case array([Node])
    case object([(String, Node)])

    init(_ v: JSONValue) {
        switch v {
        case .array(let a): self = .array(a.map(Node.init))
        // Sorted: a dictionary's order changes from run to run, a replay must not.
        case .object(let o): self = .object(o.keys.sorted().map { ($0, Node(o[$0]!)) })
        default: self = .value(v)
        }
    }

    func write(to out: inout [UInt8]) {
        switch self {
        case .raw(let b): out += b
        case .array(let a):
            out.append(UInt8(ascii: "["))
            for (i, n) in a.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                n.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            for (i, (k, n)) in o.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Node.string(k, to: &out)
                out.append(UInt8(ascii: ":"))
                n.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .value(let v):
            switch v {
            case .null: out += Array("null".utf8)
            case .bool(let b): out += Array((b ? "true" : "false").utf8)
            case .integer(let i): out += Array(String(i).utf8)
            case .double(let d): out += Array("\(d)".utf8)
            case .string(let s): Node.string(s, to: &out)
            case .array, .object: Node(v).write(to: &out)
            }
        }
    }

    static func string(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), b]
            case 0..<0x20: out += Array(String(format: "\\u%04x", b).utf8)
            default: out.append(b)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Makes one damaged message from the seeds.
struct Fuzzer {
    struct Case {
        var is12345: Bool
        var key: [UInt8]?
        var value: [UInt8]
        /// What was done, for a failure message.
        var what: String
        /// A substring the rejection reason must contain, when the damage decides it.
        var expect: String?
    }

    let seeds: [Seed]
    /// No input grows beyond this (above the decoders' message bound, so that bound is tried too).
    static let maxBytes = FeedLimits.messageBytes + 4096

    typealias Seed = FeedDecoderFuzzTests.Seed

    init(seeds: [Seed]) { self.seeds = seeds }

    static func below(_ n: Int, _ rng: inout SeededGenerator) -> Int { n <= 1 ? 0 : Int(rng.next() % UInt64(n)) }
    static func pick<T>(_ a: [T], _ rng: inout SeededGenerator) -> T { a[below(a.count, &rng)] }

    static let specials: [[UInt8]] = {
        let bytes: [[UInt8]] = [
            [0x00], [0xFF], [0xC0], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF], [0xC2, 0x85], [0x7F],
            [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80], [0xE4, 0xB8],
        ]
        let texts: [String] = [
            "\"", "{", "}", "[", "]", "\\", ",", ":", #"\u0000"#, #"\ud800"#, #"\udc00"#, #"\ud800\u0041"#,
            "1e999999", "-", "null", "true", " ", "\t", ".", "e", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
        ]
        return bytes + texts.map { Array($0.utf8) }
    }()

    static let hugeNumbers = [
        "1e999999", "-1e999999", "1E400", "123456789012345678901234567890", "9223372036854775808",
        "-9223372036854775809", "2147483648", "2147483647", "-1", "0", "1.5", "1e-999999", "-0", "3",
    ]
    static let oddStrings = [
        "", " ", "A\u{0}B", "\u{0}", "\t", "a\nb", "\u{7F}", "\u{85}", "\u{1B}[31m", "2026-13-45 08:00:00",
        "2026-02-30T08:00:00+08:00", "2026-11-23T24:61:00+08:00", "2026-11-23 24:61:00",
        "2026-11-23T08:00:00+08:00", "2026-11-23 08:00:00", "DISPATCH", "new", "URGENT", "社区", "满意",
        "H\u{301}\u{301}\u{301}", "\u{FEFF}", "😀", "\u{202E}",
    ]
    static let badEscapes = [
        #""\ud800""#, #""\udc00x""#, #""\ud800\u0041""#, #""\ud83d\ud83d""#, #""\x""#, #""\u12""#,
        #""a\u0000b""#,
    ]
    /// Around every bound; 90,000 × "长" is over the message bound.
    static let lengths = [39, 40, 41, 63, 64, 65, 199, 200, 201, 4000, 4001, 20_000, 90_000]
    static let depths = [2, 10, 63, 64, 65, 200, 5000]

    mutating func make(_ rng: inout SeededGenerator) -> Case {
        let seed = Self.pick(seeds, &rng)
        var c = Case(is12345: seed.is12345, key: seed.key, value: seed.value, what: "", expect: nil)
        var steps: [String] = []
        if rng.next() % 2 == 0 {
            var tree = seed.tree
            let rounds = rng.next() % 4 == 0 ? 2 : 1
            for _ in 0..<rounds { steps.append(mutateTree(&tree, &c, &rng)) }
            if rounds > 1 { c.expect = nil }  // a second change may be refused first
            c.value = []
            tree.write(to: &c.value)
            if c.value.count > FeedLimits.messageBytes { c.expect = nil }
        } else {
            for _ in 0..<(1 + Self.below(4, &rng)) { steps.append(mutateBytes(&c.value, &rng)) }
        }
        if rng.next() % 8 == 0 { steps.append(mutateKey(&c, &rng)) }
        if c.value.count > Self.maxBytes { c.value.removeLast(c.value.count - Self.maxBytes) }
        c.what = steps.joined(separator: ", ")
        return c
    }

    mutating func mutateKey(_ c: inout Case, _ rng: inout SeededGenerator) -> String {
        switch rng.next() % 5 {
        case 0:
            c.key = nil
            return "no key"
        case 1:
            c.key = []
            return "empty key"
        case 2:
            c.key = (c.key ?? []) + Self.pick(Self.specials, &rng)
            return "key plus special bytes"
        case 3:
            c.key = Self.pick(seeds, &rng).key
            return "another message's key"
        default:
            c.key = (0..<Self.below(20, &rng)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            return "random key"
        }
    }

    mutating func mutateBytes(_ v: inout [UInt8], _ rng: inout SeededGenerator) -> String {
        let n = v.count
        switch rng.next() % 10 {
        case 0 where n > 0:
            v[Self.below(n, &rng)] ^= UInt8(1) << UInt8(rng.next() % 8)
            return "flip a bit"
        case 1 where n > 0:
            v[Self.below(n, &rng)] = UInt8(truncatingIfNeeded: rng.next())
            return "set a byte"
        case 2:
            let bytes = (0..<(1 + Self.below(8, &rng))).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            v.insert(contentsOf: bytes, at: Self.below(n + 1, &rng))
            return "insert random bytes"
        case 3, 4:
            let s = Self.pick(Self.specials, &rng)
            v.insert(contentsOf: s, at: Self.below(n + 1, &rng))
            return "insert \(FeedDecoderFuzzTests.hex(s))"
        case 5 where n > 0:
            let at = Self.below(n, &rng)
            v.removeSubrange(at..<min(n, at + 1 + Self.below(16, &rng)))
            return "delete a range"
        case 6 where n > 0:
            let at = Self.below(n, &rng)
            let range = Array(v[at..<min(n, at + 1 + Self.below(64, &rng))])
            let times = rng.next() % 16 == 0 ? 1 + Self.below(5000, &rng) : 1
            var copies: [UInt8] = []
            copies.reserveCapacity(range.count * times)
            for _ in 0..<min(times, Self.maxBytes / max(1, range.count)) { copies.append(contentsOf: range) }
            v.insert(contentsOf: copies, at: Self.below(n + 1, &rng))
            return "duplicate a range \(times) times"
        case 7 where n > 0:
            v.removeSubrange(Self.below(n, &rng)...)
            return "truncate"
        case 8:
            let other = Self.pick(seeds, &rng).value
            v = Array(v.prefix(Self.below(n + 1, &rng))) + other.suffix(Self.below(other.count + 1, &rng))
            return "splice with another message"
        default:
            if let d = v.indices.filter({ v[$0] >= 0x30 && v[$0] <= 0x39 }).randomElement(using: &rng) {
                v[d] = UInt8(ascii: "0") + UInt8(rng.next() % 10)
                return "change a digit"
            }
            return "nothing"
        }
    }

    /// Changes one member of one object of the tree; sets `c.expect` when the change alone decides
    /// the rejection.
    mutating func mutateTree(_ tree: inout Node, _ c: inout Case, _ rng: inout SeededGenerator) -> String {
        var paths: [[Int]] = []
        Self.memberPaths(tree, [], &paths)
        guard !paths.isEmpty else { return "no member" }
        let path = Self.pick(paths, &rng)
        var what = ""
        var expect: String?
        Self.edit(&tree, path[...]) { members, i in
            let (key, node) = members[i]
            switch rng.next() % 12 {
            case 0:
                members.remove(at: i)
                what = "drop \(key)"
            case 1:
                members.insert((key, rng.next() % 2 == 0 ? node : .value(.integer(7))), at: Self.below(members.count + 1, &rng))
                what = "duplicate \(key)"
                expect = "duplicate key"
            case 2:
                if let other = members.indices.filter({ $0 != i }).randomElement(using: &rng) {
                    members[i].0 = members[other].0
                    what = "rename \(key) to \(members[other].0)"
                    expect = "duplicate key"
                } else {
                    members[i].0 = key + "_"
                    what = "rename \(key)"
                }
            case 3:
                members[i].1 = .value(.null)
                what = "\(key) = null"
            case 4:
                let values: [JSONValue] = [
                    .bool(true), .integer(1), .double(2.5), .string("1"), .array([]), .object([:]),
                    .array([.string("x")]), .object(["code": .string("0201")]),
                ]
                let v = Self.pick(values, &rng)
                members[i].1 = .value(v)
                what = "\(key) = \(v)"
            case 5:
                let n = Self.pick(Self.hugeNumbers, &rng)
                members[i].1 = .raw(Array(n.utf8))
                what = "\(key) = \(n)"
                if ["1e999999", "-1e999999", "1E400"].contains(n) { expect = "number out of range" }
            case 6:
                let n = Self.pick(Self.lengths, &rng)
                let ch = Self.pick(["H", "长", "\u{301}"], &rng)
                // Written as bytes at once: a byte-by-byte escape pass over 270 KB is slow in a debug build.
                members[i].1 = .raw([UInt8(ascii: "\"")] + Array(String(repeating: ch, count: n).utf8) + [UInt8(ascii: "\"")])
                what = "\(key) = \(n) × \(ch)"
            case 7:
                let s = Self.pick(Self.oddStrings, &rng)
                members[i].1 = .value(.string(s))
                what = "\(key) = \(s.debugDescription)"
            case 8:
                let s = Self.pick(Self.badEscapes, &rng)
                members[i].1 = .raw(Array(s.utf8))
                what = "\(key) = \(s)"
                if s.contains("d800\"") || s.contains("dc00") { expect = "unpaired UTF-16 surrogate" }
                if s.contains("\\u0041") || s.contains("ud83d\\ud83d") { expect = "invalid UTF-16 surrogate pair" }
            case 9:
                let d = Self.pick(Self.depths, &rng)
                let open = rng.next() % 2 == 0
                members[i].1 = .raw(
                    open
                        ? Array(repeating: UInt8(ascii: "["), count: d) + Array(repeating: UInt8(ascii: "]"), count: d)
                        : Array(String(repeating: #"{"a":"#, count: d).utf8) + [UInt8(ascii: "1")]
                            + Array(repeating: UInt8(ascii: "}"), count: d))
                what = "\(key) nested \(d) deep"
                // The member sits at depth path.count (objects and arrays on the way).
                if path.count + d > JSONParser.maxDepth { expect = "nesting deeper than \(JSONParser.maxDepth)" }
            case 10:
                members.insert(("\(key)\u{0}", .value(.string("x"))), at: Self.below(members.count + 1, &rng))
                what = "add a key with a NUL"
            default:
                members[i].1 = .value(
                    .string(
                        String(
                            decoding: (0..<Self.below(12, &rng)).map { _ in UInt8(truncatingIfNeeded: rng.next()) },
                            as: UTF8.self)))
                what = "\(key) = random text"
            }
        }
        c.expect = expect
        return what
    }

    /// The paths of every object member: at each level, the index in the object's members or in the array.
    static func memberPaths(_ n: Node, _ prefix: [Int], _ out: inout [[Int]]) {
        switch n {
        case .object(let members):
            for (i, (_, child)) in members.enumerated() {
                out.append(prefix + [i])
                memberPaths(child, prefix + [i], &out)
            }
        case .array(let items):
            for (i, child) in items.enumerated() { memberPaths(child, prefix + [i], &out) }
        default: break
        }
    }

    /// Calls `change` with the members of the object holding the member at `path`, and its index.
    static func edit(_ n: inout Node, _ path: ArraySlice<Int>, _ change: (inout [(String, Node)], Int) -> Void) {
        let i = path.first!
        switch n {
        case .object(var members):
            if path.count == 1 {
                change(&members, i)
            } else {
                edit(&members[i].1, path.dropFirst(), change)
            }
            n = .object(members)
        case .array(var items):
            edit(&items[i], path.dropFirst(), change)
            n = .array(items)
        default: break
        }
    }
}
