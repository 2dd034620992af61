import Foundation
import GridloopCore
import XCTest

/// Hostile input: repeated keys, bytes PostgreSQL text cannot hold, numbers and nesting
/// beyond bounds. Each is refused with a reason naming the field and the problem, or, where
/// it lies in data the decoder drops, accepted.
final class FeedHardeningTests: XCTestCase {
    let sign =
        #"{"msgId":"m-1","msgType":"SIGN","sendTime":"2026-11-23T10:00:00+08:00","order":{"orderNo":"HF1","time":"2026-11-23T09:30:00+08:00","unitCode":"C1"}}"#

    func reason(_ outcome: FeedDecodeOutcome, file: StaticString = #filePath, line: UInt = #line) -> String {
        guard case .rejected(let reason) = outcome else {
            XCTFail("expected a rejection, got \(outcome)", file: file, line: line)
            return ""
        }
        return reason
    }

    func decode12345(_ json: String, key: String = "HF1") -> FeedDecodeOutcome {
        FeedDecoder.decode12345(key: Array(key.utf8), value: Array(json.utf8))
    }

    func testDuplicateKeysAreRefusedNamingTheKey() throws {
        // Top level: which msgId would a second reader take?
        let top = sign.replacingOccurrences(of: #""msgType""#, with: #""msgId":"m-2","msgType""#)
        XCTAssertEqual(reason(decode12345(top)), #"not valid JSON: duplicate key "msgId" in object at byte 15"#)
        // Nested, with the same value twice: still refused (the rule does not depend on values).
        let nested = sign.replacingOccurrences(of: #""unitCode":"C1""#, with: #""unitCode":"C1","orderNo":"HF1""#)
        XCTAssertTrue(reason(decode12345(nested)).hasPrefix(#"not valid JSON: duplicate key "orderNo" in object at byte "#))
        // In an object the decoder never reads.
        let unread = sign.replacingOccurrences(of: #""order":"#, with: #""x":[{"a":1,"a":1}],"order":"#)
        XCTAssertTrue(reason(decode12345(unread)).contains(#"duplicate key "a""#))
        // 12319, flat.
        let c = #"{"case_id":"C1","event":"accept","event_seq":2,"event_time":"2026-11-23 09:00:00","event_seq":3}"#
        let r = reason(FeedDecoder.decode12319(key: Array("C1".utf8), value: Array(c.utf8)))
        XCTAssertTrue(r.hasPrefix(#"not valid JSON: duplicate key "event_seq" in object"#), r)
        // The parser says where; a key is quoted safely.
        XCTAssertThrowsError(try JSONParser.parse(Array(#"{"a":1, "a":2}"#.utf8))) {
            XCTAssertEqual("\($0)", #"duplicate key "a" in object at byte 8"#)
        }
        XCTAssertThrowsError(try JSONParser.parse(Array(#"{"\u0000":1,"\u0000":2}"#.utf8))) {
            XCTAssertEqual("\($0)", #"duplicate key "\u0000" in object at byte 12"#)
        }
        XCTAssertEqual(
            try JSONParser.parse(Array(#"{"a":{"a":1},"b":[{"a":2},{"a":3}]}"#.utf8)),
            .object(["a": .object(["a": .integer(1)]), "b": .array([.object(["a": .integer(2)]), .object(["a": .integer(3)])])]),
            "the same key in different objects is no repeat")
    }

    func testParserBounds() {
        let deep = [UInt8](repeating: UInt8(ascii: "["), count: 100_000)
        XCTAssertThrowsError(try JSONParser.parse(deep)) { XCTAssertEqual("\($0)", "nesting deeper than 64 at byte 64") }
        let ok = [UInt8](repeating: UInt8(ascii: "["), count: 64) + [UInt8](repeating: UInt8(ascii: "]"), count: 64)
        XCTAssertNoThrow(try JSONParser.parse(ok))
        for text in ["1e999999", "-1e999999", "1e309", "[0,1E400]"] {
            XCTAssertThrowsError(try JSONParser.parse(Array(text.utf8)), text) {
                XCTAssertTrue("\($0)".hasPrefix("number out of range"), "\($0)")
            }
        }
        XCTAssertEqual(try JSONParser.parse(Array("1e-999999".utf8)), .double(0))
        XCTAssertEqual(try JSONParser.parse(Array("123456789012345678901234567890".utf8)), .double(1.2345678901234568e29))
        XCTAssertThrowsError(try JSONParser.parse([0xEF, 0xBB, 0xBF, 0x7B, 0x7D])) {
            XCTAssertEqual("\($0)", "UTF-8 byte order mark at the start (JSON text has none) at byte 0")
        }
        XCTAssertThrowsError(try JSONParser.parse(Array(#""\ud800\u0041""#.utf8))) {
            XCTAssertTrue("\($0)".contains("invalid UTF-16 surrogate pair"))
        }
        XCTAssertEqual(try JSONParser.parse(Array(#""a\u0000b""#.utf8)), .string("a\u{0}b"), "a NUL escape is valid JSON")
    }

    /// NUL and other oddities in personal fields: dropped by the decoder, so accepted.
    func testOdditiesInDroppedFieldsAreAccepted() {
        let json =
            #"{"case_id":"C1","event":"new","event_seq":1,"event_time":"2026-11-23 08:30:00","case_type":"市容环境","level":2,"content":"a\u0000\u001b\t","caller_name":"\u0000","caller_tel":"","addr":"x\ud83d\ude00","district":"","street":"","community":"","grid_no":"","dept_code":"C1","dept_name":"社区","dept_tier":"社区","remark":"\u0000"}"#
        guard case .event(let e) = FeedDecoder.decode12319(key: Array("C1".utf8), value: Array(json.utf8)) else {
            return XCTFail("refused")
        }
        XCTAssertEqual(e.caseId, "12319:C1")
    }

    func testKeyIsComparedAsBytes() {
        // 0xFF decodes to U+FFFD; an order number holding U+FFFD must not match it.
        let json = sign.replacingOccurrences(of: #""orderNo":"HF1""#, with: "\"orderNo\":\"HF\u{FFFD}\"")
        XCTAssertEqual(
            reason(FeedDecoder.decode12345(key: [0x48, 0x46, 0xFF], value: Array(json.utf8))),
            "message key 'HF\u{FFFD}' does not match order.orderNo 'HF\u{FFFD}'")
        if case .rejected(let r) = FeedDecoder.decode12345(key: Array("HF\u{FFFD}".utf8), value: Array(json.utf8)) { XCTFail(r) }
        // Canonically equivalent but different bytes: a different key.
        let nfc = sign.replacingOccurrences(of: #""orderNo":"HF1""#, with: "\"orderNo\":\"H\u{E9}\"")
        XCTAssertTrue(reason(decode12345(nfc, key: "He\u{301}")).contains("does not match"))
        XCTAssertEqual(
            reason(FeedDecoder.decode12345(key: nil, value: Array(sign.utf8))),
            "message has no key (the platform keys every message by its order.orderNo)")
    }

    func testReasonsQuoteContentSafely() {
        let json = sign.replacingOccurrences(of: #""SIGN""#, with: #""SIGN\u007f""#)
        XCTAssertEqual(reason(decode12345(json)), "field msgType: contains a control character (U+007F)")
        let odd = sign.replacingOccurrences(of: #""SIGN""#, with: #""SIGNAL\u200b""#)
        XCTAssertEqual(decode12345(odd), .skipped(reason: "unknown msgType 'SIGNAL\u{200B}'", orderNo: "HF1"))
        let long = sign.replacingOccurrences(of: #""SIGN""#, with: "\"\(String(repeating: "S", count: 64))\"")
        XCTAssertEqual(
            decode12345(long),
            .skipped(reason: "unknown msgType '\(String(repeating: "S", count: 40))…(24 more bytes)'", orderNo: "HF1"))
        let key = reason(FeedDecoder.decode12345(key: [0x48, 0x00, 0x0A], value: Array(sign.utf8)))
        XCTAssertEqual(key, #"message key 'H\u0000\u000a' does not match order.orderNo 'HF1'"#)
    }

    /// The hostile corpus (Fixtures/HOSTILE.md): every message refused, the reason containing
    /// the expected words and no control character.
    func testHostileCorpusIsRefused() throws {
        for platform in ["12345", "12319"] {
            let messages = try HostileCorpus.load(platform)
            XCTAssertGreaterThan(messages.count, 100, platform)
            for m in messages {
                let outcome =
                    platform == "12345"
                    ? FeedDecoder.decode12345(key: m.key, value: m.value)
                    : FeedDecoder.decode12319(key: m.key, value: m.value)
                guard case .rejected(let r) = outcome else {
                    XCTFail("\(platform) \(m.why): accepted as \(outcome)")
                    continue
                }
                XCTAssertTrue(r.contains(m.expect), "\(platform) \(m.why): expected '\(m.expect)' in '\(r)'")
                XCTAssertFalse(r.unicodeScalars.contains(where: SafeText.isControl), "\(platform) \(m.why): \(r)")
            }
        }
    }
}

/// The messages of `Fixtures/hostile-<platform>.jsonl`, as described in `Fixtures/HOSTILE.md`.
struct HostileCorpus {
    struct Line: Decodable {
        struct Pad: Decodable {
            var offset: Int
            var hex: String
            var count: Int
        }
        var why: String
        var expect: String
        var key_hex: String?
        var value_hex: String?
        var pad: Pad?
    }

    struct Message {
        var why: String
        var expect: String
        var key: [UInt8]?
        var value: [UInt8]
    }

    static func load(_ platform: String) throws -> [Message] {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let data = try Data(contentsOf: dir.appendingPathComponent("hostile-\(platform).jsonl"))
        return try data.split(separator: UInt8(ascii: "\n")).map { line in
            let l = try JSONDecoder().decode(Line.self, from: Data(line))
            var value = bytes(l.value_hex ?? "")
            if let p = l.pad { value.insert(contentsOf: Array(repeating: bytes(p.hex), count: p.count).joined(), at: p.offset) }
            return Message(why: l.why, expect: l.expect, key: l.key_hex.map(bytes), value: value)
        }
    }

    static func bytes(_ hex: String) -> [UInt8] {
        let u = Array(hex.utf8)
        return stride(from: 0, to: u.count - 1, by: 2).map { UInt8(String(decoding: u[$0...$0 + 1], as: UTF8.self), radix: 16)! }
    }
}
