import XCTest

@testable import GridloopCore

/// The two kinds of outbound message, byte for byte as subscribers and the relay's take-over
/// (which looks for `gridloop-id`) expect them.
final class OutboxMessageTests: XCTestCase {
    func header(_ m: OutboxMessage) -> [String] {
        m.headers.map { "\($0.name)=\($0.value.map { String(decoding: $0, as: UTF8.self) } ?? "<none>")" }
    }

    func testADecisionIsKeyedByItsCaseAndCarriesItsIdAndContentType() {
        let d = SLADecision(
            id: "12345:HF1/a1/sign/overdue", caseId: "12345:HF1", time: 0, kind: .overdue(limit: .sign, deadline: 0))
        let m = OutboxMessage.decision(d, topic: "gridloop.supervision", event: Array("{}".utf8))
        XCTAssertEqual(m.id, "12345:HF1/a1/sign/overdue")
        XCTAssertEqual(m.topic, "gridloop.supervision")
        XCTAssertEqual(m.key, Array("12345:HF1".utf8))
        XCTAssertEqual(m.value, Array("{}".utf8))
        XCTAssertEqual(
            header(m),
            ["content-type=application/cloudevents+json; charset=UTF-8", "gridloop-id=12345:HF1/a1/sign/overdue"])
    }

    func testADeadLetterKeepsTheOriginalBytesAndSaysWhyAndWhence() {
        let letter = DeadLetter(
            coordinates: SourceCoordinates(topic: "hotline.12319.events", partition: 3, offset: 1207),
            key: Array("k".utf8), value: [0xFF, 0x00], headers: [MessageHeader(name: "trace", value: nil)],
            reason: "field \"event_seq\": not an integer", caseId: nil)
        let m = OutboxMessage.deadLetter(letter, topic: "gridloop.deadletter")
        XCTAssertEqual(m.id, "dlq:hotline.12319.events:3:1207")
        XCTAssertEqual(m.topic, "gridloop.deadletter")
        XCTAssertEqual(m.key, Array("k".utf8))
        XCTAssertEqual(m.value, [0xFF, 0x00])
        XCTAssertEqual(
            header(m),
            [
                "gridloop-id=dlq:hotline.12319.events:3:1207", "gridloop-reason=field \"event_seq\": not an integer",
                "gridloop-source-topic=hotline.12319.events", "gridloop-source-partition=3",
                "gridloop-source-offset=1207",
            ], "the original headers stay in dead_letters, for a redrive")
    }
}
