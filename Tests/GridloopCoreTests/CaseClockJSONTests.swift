import Foundation
import XCTest

@testable import GridloopCore

/// The stored clocks are written and read by a hand-written codec; rows written earlier by
/// `JSONEncoder` must still read, and both must agree on every field.
final class CaseClockJSONTests: XCTestCase {
    func sample() -> CaseClock {
        var c = CaseClock(
            caseId: "12345:HF2611230001", topic: "hotline.12345.workorders", partition: 3,
            level: .street, assignedAt: 1_764_000_000_000)
        c.assignment = 3
        c.platformAssigned = false
        var sign = CaseClock.Clock(kind: .sign, limit: TimeLimit("2wh")!)
        sign.stage = .warned
        sign.deadline = 1_764_000_720_000
        sign.warningAt = 1_764_000_576_000
        var handle = CaseClock.Clock(kind: .handle, limit: TimeLimit("5wd")!)
        handle.stage = .overdue
        handle.urges = 2
        handle.deadline = nil  // suspended
        c.sign = sign
        c.handle = handle
        c.platformHandle = 1_764_400_000_000
        c.suspensions = [
            Suspension(from: 1_764_100_000_000, to: 1_764_200_000_000), Suspension(from: 1_764_300_000_000, to: nil),
        ]
        c.escalations = 2
        c.awaitingRedispatch = true
        c.replied = false
        c.closed = false
        return c
    }

    func testRoundTripAndAgreementWithCodable() throws {
        let clock = sample()
        XCTAssertEqual(try CaseClock(json: clock.json), clock)
        // What JSONEncoder wrote (the stored form before the codec) reads the same.
        let legacy = try JSONEncoder().encode(clock)
        XCTAssertEqual(try CaseClock(json: Array(legacy)), clock)
        // And what the codec writes, JSONDecoder reads the same.
        XCTAssertEqual(try JSONDecoder().decode(CaseClock.self, from: Data(clock.json)), clock)
        // A bare clock, without sign/handle or suspensions.
        let bare = CaseClock(caseId: "12319:12319-2026-000001", topic: "t", partition: 0, level: .estate, assignedAt: 0)
        XCTAssertEqual(try CaseClock(json: bare.json), bare)
    }

    func testDamagedRowsAreRefusedWithTheField() {
        XCTAssertThrowsError(try CaseClock(json: Array("{}".utf8))) { XCTAssertTrue("\($0)".contains("caseId")) }
        XCTAssertThrowsError(try CaseClock(json: Array("[1]".utf8)))
        var text = String(decoding: sample().json, as: UTF8.self)
        text = text.replacingOccurrences(of: "\"2wh\"", with: "\"2 weeks\"")
        XCTAssertThrowsError(try CaseClock(json: Array(text.utf8))) { XCTAssertTrue("\($0)".contains("limit")) }
    }

    /// The bytes themselves: the fast reader takes exactly this form (anything else goes through
    /// the general parser), so the writer must not drift from it unnoticed.
    func testAStoredClockIsWrittenInItsFixedForm() {
        XCTAssertEqual(
            String(decoding: sample().json, as: UTF8.self),
            #"{"caseId":"12345:HF2611230001","topic":"hotline.12345.workorders","partition":3,"level":"STREET","assignment":3,"assignedAt":1764000000000,"platformAssigned":false,"sign":{"kind":"SIGN","limit":"2wh","stage":1,"deadline":1764000720000,"warningAt":1764000576000,"urges":0},"handle":{"kind":"HANDLE","limit":"5wd","stage":2,"urges":2},"platformHandle":1764400000000,"suspensions":[{"from":1764100000000,"to":1764200000000},{"from":1764300000000}],"escalations":2,"awaitingRedispatch":true,"replied":false,"closed":false}"#
        )
    }

    /// What the writer writes takes the one-pass reader; anything else the general parser,
    /// with the same result.
    func testTheOnePassReaderTakesExactlyTheWrittenForm() throws {
        var clocks = [
            sample(), CaseClock(caseId: "12319:12319-2026-000001", topic: "t", partition: 0, level: .estate, assignedAt: 0),
        ]
        var negative = sample()
        negative.assignedAt = -5
        negative.suspensions = [Suspension(from: 0, to: 10)]
        clocks.append(negative)
        // With the policy version it started under (clocks written before versions have none).
        var versioned = sample()
        versioned.policyVersion = "3f9a0c41d2e7b658"
        clocks.append(versioned)
        var reloaded = versioned
        reloaded.policyHistory = "1:0000aaaa0000aaaa;3:3f9a0c41d2e7b658"
        clocks.append(reloaded)
        XCTAssertEqual(reloaded.policyVersion(ofAssignment: 2), "0000aaaa0000aaaa")
        XCTAssertEqual(reloaded.policyVersion(ofAssignment: 3), "3f9a0c41d2e7b658")
        XCTAssertEqual(versioned.policyVersion(ofAssignment: 1), "3f9a0c41d2e7b658")
        XCTAssertEqual(try CaseClock(json: Array(try JSONEncoder().encode(reloaded))), reloaded)
        XCTAssertTrue(
            String(decoding: versioned.json, as: UTF8.self).hasSuffix(#","closed":false,"policyVersion":"3f9a0c41d2e7b658"}"#))
        XCTAssertEqual(try CaseClock(json: Array(try JSONEncoder().encode(versioned))), versioned, "the general parser too")
        for clock in clocks {
            let read = clock.json.withUnsafeBufferPointer { CaseClock.readWritten($0) }
            XCTAssertEqual(read, clock)
        }
        // Not the writer's form: spaces, another key order, an escape, a non-ASCII id, a fraction.
        var wide = sample()
        wide.caseId = "12345:合肥\"1"
        let others = [
            Array(try JSONEncoder().encode(sample())), wide.json,
            Array(String(decoding: sample().json, as: UTF8.self).replacingOccurrences(of: ",", with: ", ").utf8),
        ]
        for json in others {
            XCTAssertNil(json.withUnsafeBufferPointer { CaseClock.readWritten($0) })
            XCTAssertNoThrow(try CaseClock(json: json))
        }
        XCTAssertEqual(try CaseClock(json: wide.json), wide)
        let fraction = String(decoding: sample().json, as: UTF8.self).replacingOccurrences(
            of: "\"escalations\":2", with: "\"escalations\":2.0")
        XCTAssertNil(Array(fraction.utf8).withUnsafeBufferPointer { CaseClock.readWritten($0) })
        XCTAssertEqual(try CaseClock(json: Array(fraction.utf8)), sample())
        // Cut short anywhere: never read by the one-pass reader, always refused by the parser.
        let full = sample().json
        for n in [0, 1, 10, full.count / 2, full.count - 1] {
            let cut = Array(full[0..<n])
            XCTAssertNil(cut.withUnsafeBufferPointer { CaseClock.readWritten($0) })
            XCTAssertThrowsError(try CaseClock(json: cut))
        }
    }
}
