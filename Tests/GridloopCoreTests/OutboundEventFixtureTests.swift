import Foundation
import XCTest

@testable import GridloopCore

/// The events of one case that walks every kind of decision, as the daemon writes them, are
/// exactly the lines of `Fixtures/outbound-events.jsonl`: `scripts/check/check_schemas.py` validates
/// that file against `schemas/<type>.schema.json`, and `docs/EVENTS.md` quotes it. So the bytes
/// the core writes, the schemas and the documented examples cannot drift apart unnoticed.
final class OutboundEventFixtureTests: XCTestCase {
    /// Sign 60 s and handle 600 s at every level, warning at 0.8, urges every 100 s (at most 3):
    /// short limits, so that one batch walks the case through every kind of decision.
    let policy = SLAPolicy(
        levels: Dictionary(
            uniqueKeysWithValues: LoopLevel.allCases.map {
                ($0, SLAPolicy.Limits(sign: TimeLimit("60s")!, handle: TimeLimit("600s")!))
            }),
        overrides: [], warningShare: 0.8, urgeInterval: TimeLimit("100s")!, urgeCap: 3, platformLimitTightens: false)
    /// 2026-11-23T10:46:08+08:00, the accept time of HF261123000016 in the 12345 sample feed.
    let t0: Int64 = 1_795_401_968_000

    func event(
        _ type: CaseEventType, at seconds: Int64, result: ReplyResult? = nil,
        satisfaction: Satisfaction? = nil
    ) -> CaseEvent {
        CaseEvent(
            caseId: "12345:HF261123000016", source: .hotline12345, orderNo: "HF261123000016", type: type,
            eventTime: t0 + seconds * 1000, eventKey: "m\(seconds)",
            order: type == .dispatch
                ? OrderFacts(
                    channel: "QRCODE", appealType: "HELP", categoryCode: "0901", categoryName: "供水供气/停水",
                    urgency: .urgent, acceptTime: t0, districtCode: "340111", streetCode: "340111002",
                    communityCode: "340111002003", gridCode: "340111002003-11")
                : nil,
            assignee: type == .dispatch ? Assignee(unitCode: "S340111002", unitName: "包公街道办事处", level: .street) : nil,
            result: result, satisfaction: satisfaction)
    }

    /// Dispatched to a street office that does not sign: warned, overdue and escalated to the
    /// district's water department (the directory names it), warned and overdue there, urged
    /// once, then signed, replied and closed. Each event names the level and unit whose clock it
    /// was at its instant.
    func testTheEventsOfEveryKindAreTheFixtureLines() throws {
        let events = [
            event(.dispatch, at: 0), event(.sign, at: 230), event(.reply, at: 300, result: .resolved),
            event(.visit, at: 400, satisfaction: .satisfied),
        ]
        // The district's directory names its water department for category 09 (供水供气).
        let directory = UnitDirectory(
            entries: [
                .init(
                    level: .district, code: "340111", category: "09",
                    unit: UnitRef(unitCode: "D340111-09", unitName: "包河区水务局"), origin: "units.yaml:30")
            ], defaultUnit: UnitRef(unitCode: "DCS340111", unitName: "包河区督查室"), defaultOrigin: "units.yaml:3")
        var batch = IntakePlanner(
            states: [:], appliedKeys: [], held: [],
            keeper: ClockKeeper(policy: policy, calendar: WorkingCalendar(), directory: directory))
        for (i, e) in events.enumerated() {
            batch.offer(
                IntakeItem(
                    coordinates: SourceCoordinates(topic: "hotline.12345.workorders", partition: 0, offset: Int64(i)),
                    key: nil, value: [], outcome: .event(e)), now: 0)
        }
        let written = batch.decisions.map {
            String(decoding: OutboundEvent.json($0.decision, state: $0.state, deployment: "hefei-baohe"), as: UTF8.self)
        }
        if let path = ProcessInfo.processInfo.environment["GRIDLOOP_WRITE_EVENT_FIXTURE"] {
            // After a deliberate change of the contract: write the lines, review the diff, copy them in.
            try (written.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let dir = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let fixture = try String(contentsOf: dir.appendingPathComponent("outbound-events.jsonl"), encoding: .utf8)
        let lines = fixture.split(separator: "\n").map(String.init)
        XCTAssertEqual(written, lines, "the written events, one a line:\n\(written.joined(separator: "\n"))")
        XCTAssertEqual(
            Set(batch.decisions.map(\.decision.typeName)),
            [
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue", "gridloop.case.supervision.urge",
                "gridloop.case.escalated", "gridloop.case.resolved",
            ], "every kind of event")
    }
}
