import Foundation
import GridloopCore
import XCTest

/// Every message type of both feeds maps to the right canonical event; every kind of damage
/// in the dirty fixtures is refused with a reason that names the problem and no personal data.
final class FeedDecoderTests: XCTestCase {
    /// Decodes with `key`, by default the message's own order number (as the platform keys it).
    func decode12345(_ json: String, key: String? = nil) -> FeedDecodeOutcome {
        FeedDecoder.decode12345(key: Array((key ?? Self.ownId(json, "orderNo")).utf8), value: Array(json.utf8))
    }

    func decode12319(_ json: String, key: String? = nil) -> FeedDecodeOutcome {
        FeedDecoder.decode12319(key: Array((key ?? Self.ownId(json, "case_id")).utf8), value: Array(json.utf8))
    }

    /// The first `"field":"value"` of `json` (the key a test message would carry), or "".
    static func ownId(_ json: String, _ field: String) -> String {
        guard let r = json.range(of: "\"\(field)\":\"") else { return "" }
        return String(json[r.upperBound...].prefix { $0 != "\"" })
    }

    func event(_ outcome: FeedDecodeOutcome, file: StaticString = #filePath, line: UInt = #line) -> CaseEvent? {
        guard case .event(let e) = outcome else {
            XCTFail("expected an event, got \(outcome)", file: file, line: line)
            return nil
        }
        return e
    }

    let dispatch12345 = """
        {"msgId":"m-1","msgType":"DISPATCH","sendTime":"2026-11-23T08:37:15+08:00","order":{"orderNo":"HF1",
        "channel":"APP","acceptTime":"2026-11-23T08:37:15+08:00","appealType":"COMPLAINT",
        "category":{"code":"0201","name":"市政设施/路灯不亮"},"urgency":"URGENT","title":"路灯不亮",
        "content":"小区门口路灯已经一周不亮","citizen":{"name":"刘阿姨","phone":"18808511523","anonymous":false},
        "location":{"address":"合肥市包河区天鹅湖花园28栋","districtCode":"340111","streetCode":"340111002",
        "communityCode":"340111002002","gridCode":"340111002002-01","estateName":"天鹅湖花园","lng":117.3,"lat":31.8},
        "assignee":{"unitCode":"C340111002002","unitName":"芜湖路社区居委会","level":"COMMUNITY"},
        "timeLimit":{"signHours":2,"handleDays":5},"newField":{"x":1}}}
        """

    func testDispatch12345KeepsTheOrderAndDropsPersonalData() throws {
        let e = try XCTUnwrap(event(decode12345(dispatch12345, key: "HF1")))
        XCTAssertEqual(e.caseId, "12345:HF1")
        XCTAssertEqual(e.type, .dispatch)
        XCTAssertEqual(e.eventKey, "m-1")
        XCTAssertEqual(e.eventTime, 1_795_394_235_000)  // 2026-11-23T00:37:15Z (python: datetime(2026,11,23,0,37,15,tzinfo=utc))
        XCTAssertEqual(e.assignee, Assignee(unitCode: "C340111002002", unitName: "芜湖路社区居委会", level: .community))
        XCTAssertEqual(e.order?.urgency, .urgent)
        XCTAssertEqual(e.order?.categoryCode, "0201")
        XCTAssertEqual(e.order?.platformSignHours, 2)
        XCTAssertEqual(e.order?.platformHandleDays, 5)
        XCTAssertEqual(e.order?.gridCode, "340111002002-01")
        let dump = "\(e)"
        for secret in ["刘阿姨", "18808511523", "路灯已经一周", "天鹅湖花园28栋"] {
            XCTAssertFalse(dump.contains(secret), "personal data \(secret) kept")
        }
    }

    func testEveryOther12345TypeMaps() throws {
        func msg(_ type: String, _ fields: String) -> String {
            #"{"msgId":"id-\#(type)","msgType":"\#(type)","sendTime":"2026-11-23T10:00:00+08:00","order":{"orderNo":"HF1","time":"2026-11-23T09:30:00+08:00"\#(fields)}}"#
        }
        let table: [(String, String, CaseEventType, (CaseEvent) -> Bool)] = [
            (
                "REDISPATCH", #","assignee":{"unitCode":"S1","unitName":"街道办","level":"STREET"},"reason":"改派""#, .redispatch,
                { $0.assignee?.level == .street }
            ),
            ("SIGN", #","unitCode":"C1""#, .sign, { $0.unitCode == "C1" }),
            ("RETURN", #","unitCode":"C1","reason":"非本单位职责""#, .return, { $0.unitCode == "C1" }),
            ("REPLY", #","unitCode":"C1","result":"EXPLAINED","content":"已解释""#, .reply, { $0.result == .explained }),
            ("EXTEND_APPLY", #","unitCode":"C1","days":3,"reason":"协调""#, .extendApply, { $0.days == 3 }),
            ("EXTEND_APPROVE", #","days":2"#, .extendApprove, { $0.days == 2 }),
            ("EXTEND_REJECT", #","reason":"不同意""#, .extendReject, { _ in true }),
            ("SUSPEND", #","reason":"等待""#, .suspend, { _ in true }),
            ("RESUME", "", .resume, { _ in true }),
            (
                "VISIT", #","satisfaction":"BASICALLY_SATISFIED","comment":"还行""#, .visit,
                { $0.satisfaction == .basicallySatisfied }
            ),
            ("REOPEN", #","reason":"不满意""#, .reopen, { _ in true }),
            ("WITHDRAW", #","reason":"已解决""#, .withdraw, { _ in true }),
        ]
        for (type, fields, expected, check) in table {
            let e = try XCTUnwrap(event(decode12345(msg(type, fields))), type)
            XCTAssertEqual(e.type, expected, type)
            XCTAssertEqual(e.eventTime, 1_795_397_400_000, "\(type): the event's own time, not sendTime")
            XCTAssertTrue(check(e), type)
        }
    }

    func testEvery12319EventMaps() throws {
        let new =
            #"{"case_id":"12319-2026-000001","event":"new","event_seq":1,"event_time":"2026-11-23 08:30:00","case_type":"市容环境/垃圾清运不及时","level":2,"content":"垃圾桶满溢","caller_name":"王先生","caller_tel":"13900000000","addr":"包河区万达公馆3栋","district":"340111","street":"340111002","community":"340111002001","grid_no":"340111002001-03","dept_code":"C340111002001","dept_name":"河滨社区居委会","dept_tier":"社区","limit_time":"2026-11-28 08:30:00"}"#
        let e = try XCTUnwrap(event(decode12319(new, key: "12319-2026-000001")))
        XCTAssertEqual(e.caseId, "12319:12319-2026-000001")
        XCTAssertEqual(e.type, .dispatch)
        XCTAssertEqual(e.sequence, 1)
        XCTAssertEqual(e.eventKey, "12319-2026-000001#1")
        XCTAssertEqual(e.eventTime, 1_795_393_800_000)  // 2026-11-23 08:30 +08:00
        XCTAssertEqual(e.order?.urgency, .urgent)
        XCTAssertEqual(e.order?.platformDeadline, 1_795_825_800_000)
        XCTAssertEqual(e.assignee?.level, .community)
        XCTAssertFalse("\(e)".contains("王先生") || "\(e)".contains("13900000000"))

        func msg(_ event: String, _ seq: Int, _ fields: String) -> String {
            #"{"case_id":"12319-2026-000001","event":"\#(event)","event_seq":\#(seq),"event_time":"2026-11-23 09:00:00"\#(fields)}"#
        }
        let table: [(String, String, CaseEventType, (CaseEvent) -> Bool)] = [
            (
                "transfer", #","dept_code":"S1","dept_name":"街道办","dept_tier":"街道""#, .redispatch,
                { $0.assignee?.level == .street }
            ),
            ("accept", "", .sign, { _ in true }),
            ("back", #","remark":"非本单位""#, .return, { _ in true }),
            ("finish", "", .reply, { $0.result == .resolved }),
            ("delay", #","delay_days":3"#, .extendApprove, { $0.days == 3 }),
            ("hang", "", .suspend, { _ in true }),
            ("unhang", "", .resume, { _ in true }),
            ("feedback", #","satisfaction":"不满意""#, .visit, { $0.satisfaction == .unsatisfied }),
            ("redo", "", .reopen, { _ in true }),
            ("cancel", "", .withdraw, { _ in true }),
        ]
        for (i, (name, fields, expected, check)) in table.enumerated() {
            let e = try XCTUnwrap(event(decode12319(msg(name, i + 2, fields))), name)
            XCTAssertEqual(e.type, expected, name)
            XCTAssertEqual(e.sequence, i + 2)
            XCTAssertTrue(check(e), name)
        }
    }

    func testUnknownTypesAreSkippedNotRejected() {
        let m = #"{"msgId":"x","msgType":"SUPERVISE","sendTime":"2026-11-23T10:00:00+08:00","order":{"orderNo":"HF1"}}"#
        XCTAssertEqual(decode12345(m), .skipped(reason: "unknown msgType 'SUPERVISE'", orderNo: "HF1"))
        let n = #"{"case_id":"C1","event":"audit","event_seq":4,"event_time":"2026-11-23 09:00:00"}"#
        XCTAssertEqual(decode12319(n), .skipped(reason: "unknown event 'audit'", orderNo: "C1"))
    }

    func testDamageIsRefusedWithAReasonNamingTheProblem() {
        let table: [(FeedDecodeOutcome, String)] = [
            (decode12345(""), "empty message"),
            (decode12345(String(dispatch12345.prefix(100))), "not valid JSON: unexpected end of input"),
            (decode12345("{'msgId': 1}"), "not valid JSON: expected a string key"),
            (decode12345("[" + dispatch12345 + "]"), "top-level value is an array, expected an object"),
            (decode12345(dispatch12345.replacingOccurrences(of: #""msgId":"m-1","#, with: "")), "missing required field msgId"),
            (
                decode12345(dispatch12345.replacingOccurrences(of: #""sendTime":"2026"#, with: #""sendTime":"2O26"#)),
                "field sendTime: not an RFC 3339 time"
            ),
            (
                decode12345(dispatch12345.replacingOccurrences(of: #""urgency":"URGENT""#, with: #""urgency":"SOON""#)),
                "field order.urgency: 'SOON' is not one of"
            ),
            (
                decode12345(dispatch12345.replacingOccurrences(of: #""orderNo":"HF1","#, with: "")),
                "missing required field order.orderNo"
            ),
            (decode12345(dispatch12345, key: "HF2"), "message key 'HF2' does not match order.orderNo"),
            (
                decode12319(#"{"case_id":"C1","event":"accept","event_seq":0,"event_time":"2026-11-23 09:00:00"}"#),
                "field event_seq: expected an integer >= 1"
            ),
            (
                decode12319(#"{"case_id":"C1","event":"accept","event_seq":2,"event_time":"2026-11-23T09:00:00"}"#),
                "field event_time: not a time of the form yyyy-MM-dd HH:mm:ss"
            ),
            (
                FeedDecoder.decode12319(key: nil, value: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]),
                "not valid JSON: invalid UTF-8"
            ),
        ]
        for (outcome, expected) in table {
            guard case .rejected(let reason) = outcome else {
                XCTFail("\(expected): got \(outcome)")
                continue
            }
            XCTAssertTrue(reason.hasPrefix(expected), "expected '\(expected)…', got '\(reason)'")
        }
    }

    /// The dirty fixtures: the decoder refuses exactly the lines an independent check finds
    /// damaged, each with a reason of a known kind, none quoting personal data.
    func testDirtyFixturesAreClassified() throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        for (file, platform) in [("12345-dirty.kafka", "12345"), ("12319-dirty.kafka", "12319")] {
            let data = try Data(contentsOf: dir.appendingPathComponent(file))
            var rejected = 0
            var damaged = 0
            var secrets: Set<String> = []
            var reasons: [String] = []
            for line in data.split(separator: UInt8(ascii: "\n")) {
                let tab = line.firstIndex(of: 9)!
                let key = Array(line[line.startIndex..<tab])
                let value = Array(line[(tab + 1)...])
                // Independent check, with Foundation's parser and the generator's damage kinds.
                let object = (try? JSONSerialization.jsonObject(with: Data(value))) as? [String: Any]
                let first = platform == "12345" ? "msgId" : "case_id"
                let time = platform == "12345" ? "sendTime" : "event_time"
                let isDamaged = object == nil || object?[first] == nil || (object?[time] as? String)?.contains("O") != false
                if isDamaged { damaged += 1 }
                if let o = object, !isDamaged {
                    let order = o["order"] as? [String: Any]
                    let citizen = order?["citizen"] as? [String: Any]
                    for v in [citizen?["name"], citizen?["phone"], o["caller_name"], o["caller_tel"]] {
                        if let s = v as? String { secrets.insert(s) }
                    }
                }
                let outcome =
                    platform == "12345"
                    ? FeedDecoder.decode12345(key: key.isEmpty ? nil : key, value: value)
                    : FeedDecoder.decode12319(key: key.isEmpty ? nil : key, value: value)
                switch outcome {
                case .rejected(let reason):
                    rejected += 1
                    reasons.append(reason)
                    XCTAssertTrue(isDamaged, "\(file): refused an intact line: \(reason)")
                case .event, .skipped:
                    XCTAssertFalse(isDamaged, "\(file): accepted a damaged line")
                }
            }
            XCTAssertEqual(rejected, damaged, file)
            XCTAssertGreaterThan(damaged, 0, file)
            let kinds = [
                "not valid JSON", "top-level value is", "missing required field", "field sendTime", "field event_time",
                "empty message",
            ]
            for r in reasons {
                XCTAssertTrue(kinds.contains { r.hasPrefix($0) }, "\(file): unexpected reason \(r)")
                for s in secrets where r.contains(s) { XCTFail("\(file): reason quotes personal data") }
            }
        }
    }

    func testJSONParser() throws {
        XCTAssertEqual(
            try JSONParser.parse(Array(#" {"a":[1,-2.5e3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"]} "#.utf8)),
            .object([
                "a": .array([
                    .integer(1), .double(-2500), .bool(true), .bool(false), .null,
                    .string("x\"\\/\u{8}\u{c}\n\r\té😀"),
                ])
            ]))
        XCTAssertEqual(try JSONParser.parse(Array("9007199254740993".utf8)), .integer(9_007_199_254_740_993))
        let bad: [(String, String)] = [
            ("", "unexpected end of input at byte 0"), ("{", "unexpected end of input at byte 1"),
            ("[1,]", "unexpected character ']' at byte 3"), ("01", "unexpected data after the JSON value at byte 1"),
            (#"{"a" 1}"#, "expected ':'"), (#""\x""#, "invalid escape"), (#""\ud800""#, "unpaired UTF-16 surrogate"),
            ("tru", "unexpected end of input"), ("1.", "invalid number"), ("\"a\u{1}\"", "control character"),
        ]
        for (text, message) in bad {
            XCTAssertThrowsError(try JSONParser.parse(Array(text.utf8)), text) { error in
                XCTAssertTrue("\(error)".contains(message), "\(text): \(error)")
            }
        }
        XCTAssertThrowsError(try JSONParser.parse([0x22, 0xC0, 0xAF, 0x22])) { XCTAssertTrue("\($0)".contains("invalid UTF-8")) }
    }

    /// Decoding speed of the fixture lines (printed, never asserted).
    func testDecodeThroughputIsPrinted() throws {
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let lines = try Data(contentsOf: dir.appendingPathComponent("12345-sample.kafka")).split(separator: 10).map { line in
            let tab = line.firstIndex(of: 9)!
            return (Array(line[..<tab]), Array(line[(tab + 1)...]))
        }
        let clock = ContinuousClock()
        var n = 0
        let elapsed = clock.measure {
            for _ in 0..<50 { for (k, v) in lines { if case .event = FeedDecoder.decode12345(key: k, value: v) { n += 1 } } }
        }
        print("decoded \(n) 12345 messages in \(elapsed)")
    }
}
