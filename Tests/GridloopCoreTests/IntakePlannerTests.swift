import GridloopCore
import XCTest

/// The planner's decisions: resends change nothing, orphans and gaps are held, holds end in
/// application (gap recorded) or a dead letter, nothing is dropped silently.
final class IntakePlannerTests: XCTestCase {
    let t = "hotline.12319.cases"
    var offset: Int64 = 0

    func ev12319(_ id: String, _ seq: Int, _ type: CaseEventType, time: Int64 = 1_000) -> CaseEvent {
        CaseEvent(
            caseId: "12319:\(id)", source: .hotline12319, orderNo: id, type: type, eventTime: time + Int64(seq),
            eventKey: "\(id)#\(seq)", sequence: seq,
            order: type == .dispatch ? OrderFacts(categoryName: "市容环境/垃圾清运不及时", urgency: .normal, acceptTime: time) : nil,
            assignee: type == .dispatch ? Assignee(unitCode: "C1", unitName: "社区", level: .community) : nil)
    }

    func ev12345(_ no: String, _ msgId: String, _ type: CaseEventType) -> CaseEvent {
        CaseEvent(
            caseId: "12345:\(no)", source: .hotline12345, orderNo: no, type: type, eventTime: 5_000,
            eventKey: msgId,
            order: type == .dispatch ? OrderFacts(categoryName: "市政设施/路灯不亮", urgency: .urgent, acceptTime: 5_000) : nil,
            assignee: type == .dispatch ? Assignee(unitCode: "E1", unitName: "物业", level: .estate) : nil)
    }

    func item(_ e: CaseEvent) -> IntakeItem {
        offset += 1
        return IntakeItem(
            coordinates: SourceCoordinates(topic: t, partition: 0, offset: offset), key: nil,
            value: Array("{}".utf8), outcome: .event(e))
    }

    func testInOrderEventsApplyAndResendsChangeNothing() {
        var p = IntakePlanner(states: [:], appliedKeys: [], held: [])
        for e in [ev12319("A", 1, .dispatch), ev12319("A", 2, .sign), ev12319("A", 2, .sign), ev12319("A", 1, .dispatch)] {
            p.offer(item(e), now: 0)
        }
        XCTAssertEqual(p.applied.map(\.eventNo), [1, 2])
        XCTAssertEqual(p.duplicates, 2)
        XCTAssertEqual(p.states["12319:A"]?.status, .signed)
        XCTAssertEqual(p.states["12319:A"]?.lastSequence, 2)
    }

    func testAlreadyAppliedMessageIdIsAResend() {
        let dispatch = ev12345("HF1", "m1", .dispatch)
        var first = IntakePlanner(states: [:], appliedKeys: [], held: [])
        first.offer(item(dispatch), now: 0)
        let stored = first.states
        var p = IntakePlanner(states: stored, appliedKeys: ["m1"], held: [])
        p.offer(item(dispatch), now: 0)
        XCTAssertTrue(p.applied.isEmpty)
        XCTAssertEqual(p.duplicates, 1)
        XCTAssertTrue(p.changedCases.isEmpty)
    }

    func testOutOfOrderEventIsHeldUntilTheMissingOneArrives() {
        var p = IntakePlanner(states: [:], appliedKeys: [], held: [])
        p.offer(item(ev12319("B", 1, .dispatch)), now: 0)
        p.offer(item(ev12319("B", 3, .reply)), now: 0)
        XCTAssertEqual(p.newlyHeld.map(\.event.eventKey), ["B#3"])
        p.offer(item(ev12319("B", 2, .sign)), now: 0)
        XCTAssertEqual(p.applied.map(\.event.eventKey), ["B#1", "B#2", "B#3"])
        XCTAssertTrue(p.newlyHeld.isEmpty, "released within the batch, never stored")
        XCTAssertEqual(p.states["12319:B"]?.gapCount, 0)
        XCTAssertEqual(p.states["12319:B"]?.status, .replied)
    }

    func testGapAcceptedAfterTheHoldAndRecorded() {
        var p = IntakePlanner(states: [:], appliedKeys: [], held: [])
        p.offer(item(ev12319("C", 1, .dispatch)), now: 0)
        p.offer(item(ev12319("C", 3, .reply)), now: 0)
        p.offer(item(ev12319("C", 4, .visit)), now: 0)
        let stored = p.states
        let held = p.newlyHeld
        XCTAssertEqual(held.count, 2)
        // A later batch: the hold is over.
        var later = IntakePlanner(states: stored, appliedKeys: [], held: held)
        later.expire([held[0]], holdSeconds: 30)
        XCTAssertEqual(later.applied.map(\.event.eventKey), ["C#3", "C#4"])
        XCTAssertEqual(later.applied.first?.gapBefore, 1)
        XCTAssertEqual(Set(later.releasedHeldKeys), ["C#3", "C#4"])
        XCTAssertEqual(later.states["12319:C"]?.gapCount, 1)
        // The missing event arriving afterwards is not applied (the contract makes it a
        // resend) but recorded, not dropped silently.
        later.offer(item(ev12319("C", 2, .sign)), now: 0)
        XCTAssertEqual(later.applied.count, 2)
        XCTAssertEqual(later.skipped.count, 1)
        XCTAssertTrue(later.skipped[0].reason.contains("arrived after case C accepted a gap"), later.skipped[0].reason)
    }

    /// Seen live: event 4 waits for 2 and 3; 3 arrives later (2 never does), so 4's wait ends
    /// first. 3 must be applied before 4, not lost as a resend once 4 is in.
    func testALaterArrivalBehindTheSameGapIsAppliedFirstWhenTheGapExpires() {
        var p = IntakePlanner(states: [:], appliedKeys: [], held: [])
        p.offer(item(ev12319("C", 1, .dispatch)), now: 0)
        p.offer(item(ev12319("C", 4, .reply)), now: 0)
        var second = IntakePlanner(states: p.states, appliedKeys: [], held: p.newlyHeld)
        second.offer(item(ev12319("C", 3, .extendApprove)), now: 8_000)
        XCTAssertTrue(second.applied.isEmpty, "3 still waits for 2")
        let allHeld = p.newlyHeld + second.newlyHeld
        var expiry = IntakePlanner(states: second.states, appliedKeys: [], held: allHeld)
        expiry.expire(p.newlyHeld, holdSeconds: 30)  // only 4's wait is over
        XCTAssertEqual(expiry.applied.map(\.event.eventKey), ["C#3", "C#4"])
        XCTAssertEqual(expiry.applied.map(\.gapBefore), [1, 0])
        XCTAssertEqual(Set(expiry.releasedHeldKeys), ["C#3", "C#4"])
        XCTAssertEqual(expiry.duplicates, 0)
    }

    func testOrphanWithoutDispatchIsDeadLetteredAfterTheHold() {
        var p = IntakePlanner(states: [:], appliedKeys: [], held: [])
        p.offer(item(ev12345("HF9", "m9", .sign)), now: 0)
        XCTAssertEqual(p.newlyHeld.count, 1)
        XCTAssertTrue(p.deadLetters.isEmpty, "not yet: the DISPATCH may still come")
        var later = IntakePlanner(states: [:], appliedKeys: [], held: p.newlyHeld)
        later.expire(p.newlyHeld, holdSeconds: 30)
        XCTAssertEqual(later.deadLetters.count, 1)
        XCTAssertTrue(later.deadLetters[0].reason.contains("never dispatched"), later.deadLetters[0].reason)
        XCTAssertTrue(later.deadLetters[0].reason.contains("HF9"))
        XCTAssertEqual(later.releasedHeldKeys, ["m9"])
    }

    func testOrphanAppliedWhenItsDispatchArrivesLater() {
        var p = IntakePlanner(states: [:], appliedKeys: [], held: [])
        p.offer(item(ev12345("HF7", "s", .sign)), now: 0)
        p.offer(item(ev12345("HF7", "d", .dispatch)), now: 0)
        XCTAssertEqual(p.applied.map(\.event.eventKey), ["d", "s"])
        XCTAssertEqual(p.states["12345:HF7"]?.status, .signed)
    }

    func testRejectedAndSkippedMessagesAreRecorded() {
        var p = IntakePlanner(states: [:], appliedKeys: [], held: [])
        let c = SourceCoordinates(topic: t, partition: 1, offset: 7)
        p.offer(IntakeItem(coordinates: c, key: nil, value: [1, 2], outcome: .rejected(reason: "not valid JSON")), now: 0)
        p.offer(
            IntakeItem(
                coordinates: SourceCoordinates(topic: t, partition: 1, offset: 8), key: nil, value: [],
                outcome: .skipped(reason: "unknown msgType 'X'", orderNo: "HF1")), now: 0)
        XCTAssertEqual(p.deadLetters.map(\.reason), ["not valid JSON"])
        XCTAssertEqual(p.deadLetters.first?.value, [1, 2], "original bytes kept")
        XCTAssertEqual(p.skipped.map(\.orderNo), ["HF1"])
    }

    func testNextOffsetsArePerPartitionAfterTheLastMessage() {
        let items = [(0, 5), (1, 9), (0, 6), (1, 10)].map { p, o in
            IntakeItem(
                coordinates: SourceCoordinates(topic: t, partition: Int32(p), offset: Int64(o)), key: nil,
                value: [], outcome: .rejected(reason: "x"))
        }
        XCTAssertEqual(IntakePlanner.nextOffsets(items).map(\.offset), [7, 11])
    }
}
