import XCTest

@testable import GridloopCore

/// The SLA clocks against every kind of event, with an injected clock: time is whatever
/// watermark the test passes to `fire`.
final class ClockKeeperTests: XCTestCase {
    /// A policy in natural seconds, so that the arithmetic is visible: sign 60 s, handle 600 s
    /// at every level, warning at 0.8, urges every 100 s, at most 3.
    let policy = SLAPolicy(
        levels: Dictionary(
            uniqueKeysWithValues: LoopLevel.allCases.map {
                ($0, SLAPolicy.Limits(sign: TimeLimit("60s")!, handle: TimeLimit("600s")!))
            }),
        overrides: [SLAPolicy.Override(urgency: .extraUrgent, sign: TimeLimit("10s")!)],
        warningShare: 0.8, urgeInterval: TimeLimit("100s")!, urgeCap: 3, platformLimitTightens: false)
    let t0: Int64 = 1_764_000_000_000  // some instant, ms

    func event(
        _ type: CaseEventType, at seconds: Int64, level: LoopLevel = .estate, days: Int? = nil,
        satisfaction: Satisfaction? = nil, urgency: Urgency = .normal
    ) -> CaseEvent {
        CaseEvent(
            caseId: "12345:HF1", source: .hotline12345, orderNo: "HF1", type: type,
            eventTime: t0 + seconds * 1000, eventKey: "m\(type.rawValue)\(seconds)",
            order: type == .dispatch ? OrderFacts(categoryName: "市政设施/路灯不亮", urgency: urgency, acceptTime: t0) : nil,
            assignee: type == .dispatch || type == .redispatch ? Assignee(unitCode: "U", unitName: "单位", level: level) : nil,
            days: days, satisfaction: satisfaction)
    }

    /// Applies events in order as one intake batch; returns the clock, state and decisions.
    func run(_ events: [CaseEvent], keeper: ClockKeeper? = nil) -> (CaseClock?, CaseState?, [SLADecision]) {
        let k = keeper ?? ClockKeeper(policy: policy, calendar: WorkingCalendar())
        var planner = IntakePlanner(states: [:], appliedKeys: [], held: [], keeper: k)
        for (i, e) in events.enumerated() {
            planner.offer(
                IntakeItem(
                    coordinates: SourceCoordinates(topic: "t", partition: 0, offset: Int64(i)), key: nil, value: [],
                    outcome: .event(e)), now: 0)
        }
        return (planner.clock(of: "12345:HF1"), planner.states["12345:HF1"], planner.decisions.map(\.decision))
    }

    func fire(_ clock: CaseClock, _ state: CaseState, until seconds: Int64) -> (CaseClock, CaseState, [SLADecision]) {
        let r = snapshots(clock, state, until: seconds)
        return (r.0, r.1, r.2.map(\.decision))
    }

    func snapshots(_ clock: CaseClock, _ state: CaseState, until seconds: Int64, keeper: ClockKeeper? = nil)
        -> (CaseClock, CaseState, [DecisionSnapshot])
    {
        let k = keeper ?? ClockKeeper(policy: policy, calendar: WorkingCalendar())
        let r = k.fire(clock, state: state, until: t0 + seconds * 1000)
        return (r.clock, r.state, r.decisions)
    }

    func testAnUnsignedOrderWalksAllFourLevelsAndIsUrgedAtTheTop() {
        let (clock, state, _) = run([event(.dispatch, at: 0)])
        let (c, s, d) = fire(clock!, state!, until: 600)
        // Each level: warning at 48 s, overdue + escalation at 60 s; the top: overdue, then 3 urges.
        XCTAssertEqual(
            d.map(\.typeName),
            [
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue", "gridloop.case.escalated",
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue", "gridloop.case.escalated",
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue", "gridloop.case.escalated",
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue",
                "gridloop.case.supervision.urge", "gridloop.case.supervision.urge", "gridloop.case.supervision.urge",
            ])
        XCTAssertEqual(d.map { ($0.time - t0) / 1000 }, [48, 60, 60, 108, 120, 120, 168, 180, 180, 228, 240, 340, 440, 540])
        let levels = d.compactMap {
            if case .escalated(let e) = $0.kind { "\(e.from.rawValue)>\(e.to.rawValue)" } else { nil }
        }
        XCTAssertEqual(levels, ["ESTATE>COMMUNITY", "COMMUNITY>STREET", "STREET>DISTRICT"])
        XCTAssertEqual(s.level, .district)
        XCTAssertEqual(c.escalations, 3)
        XCTAssertEqual(Set(d.map(\.id)).count, d.count, "every decision has its own id")
        // The handle clock of the top level started at 180 s: warning, overdue, 3 urges, then nothing.
        let (done, _, more) = fire(c, s, until: 100_000)
        XCTAssertEqual(more.map { ($0.time - t0) / 1000 }, [660, 780, 880, 980, 1080])
        XCTAssertNil(ClockKeeper(policy: policy, calendar: WorkingCalendar()).nextDue(done), "urge cap reached")
    }

    func testFiringInStepsGivesTheSameDecisionsAsAtOnce() {
        let (clock, state, _) = run([event(.dispatch, at: 0)])
        let whole = fire(clock!, state!, until: 1_000).2
        var c = clock!
        var s = state!
        var stepped: [SLADecision] = []
        for t in stride(from: Int64(0), through: 1_000, by: 7) {
            let r = fire(c, s, until: t)
            c = r.0
            s = r.1
            stepped += r.2
        }
        XCTAssertEqual(stepped, whole, "a replay or a crash between firings decides the same, with the same ids")
    }

    func testAnOrderSignedAndRepliedInTimeIsNeverEscalated() {
        let (clock, state, _) = run([event(.dispatch, at: 0), event(.sign, at: 30), event(.reply, at: 500)])
        let d = fire(clock!, state!, until: 100_000).2
        XCTAssertTrue(d.isEmpty, "\(d.map(\.typeName))")
        // Signed after the warning (48 s), before the deadline: a warning only, even when the
        // sign arrives in the same batch as the dispatch (a backlog).
        let (c2, s2, d2) = run([event(.dispatch, at: 0), event(.sign, at: 50)])
        XCTAssertEqual(d2.map(\.typeName), ["gridloop.case.supervision.warning"])
        XCTAssertTrue(fire(c2!, s2!, until: 55).2.isEmpty)
        // Signed after the deadline in a backlog: the escalation happened first, as it would have live.
        let (c3, s3, d3) = run([event(.dispatch, at: 0), event(.sign, at: 70)])
        XCTAssertEqual(
            d3.map(\.typeName),
            [
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue",
                "gridloop.case.escalated",
            ])
        XCTAssertEqual(s3!.level, .community)
        XCTAssertNil(c3!.sign, "the sign at 70 s stopped the new level's sign clock")
    }

    func testSignedButNotRepliedEscalatesOnTheHandleLimit() {
        let (clock, state, _) = run([event(.dispatch, at: 0), event(.sign, at: 10)])
        let d = fire(clock!, state!, until: 600).2
        XCTAssertEqual(
            d.map(\.typeName),
            [
                "gridloop.case.supervision.warning", "gridloop.case.supervision.overdue",
                "gridloop.case.escalated",
            ])
        if case .escalated(let e) = d[2].kind { XCTAssertEqual(e.reason, "HANDLE_OVERDUE") }
    }

    func testSuspensionStopsTheClockAndResumeMovesTheDeadline() {
        let (clock, state, _) = run([event(.dispatch, at: 0), event(.sign, at: 1), event(.suspend, at: 100)])
        XCTAssertNil(clock!.handle?.deadline, "no deadline while suspended")
        XCTAssertTrue(fire(clock!, state!, until: 10_000).2.isEmpty, "nothing fires while suspended")
        let (resumed, s2, _) = run([
            event(.dispatch, at: 0), event(.sign, at: 1), event(.suspend, at: 100), event(.resume, at: 400),
        ])
        XCTAssertEqual(resumed!.handle!.deadline, t0 + 900_000, "600 s budget, 300 s suspended")
        XCTAssertEqual(fire(resumed!, s2!, until: 899).2.map(\.typeName), ["gridloop.case.supervision.warning"])
    }

    func testAnApprovedExtensionAddsToTheHandleBudgetInItsUnit() {
        let (clock, _, _) = run([event(.dispatch, at: 0), event(.sign, at: 1), event(.extendApprove, at: 100, days: 50)])
        XCTAssertEqual(clock!.handle!.limit, TimeLimit("650s")!)
        XCTAssertEqual(clock!.handle!.deadline, t0 + 650_000)
    }

    func testReturnStopsTheClocksUntilRedispatch() {
        let (clock, state, _) = run([event(.dispatch, at: 0), event(.return, at: 20)])
        XCTAssertTrue(fire(clock!, state!, until: 10_000).2.isEmpty)
        let (c2, s2, _) = run([event(.dispatch, at: 0), event(.return, at: 20), event(.redispatch, at: 1_000, level: .street)])
        XCTAssertEqual(c2!.level, .street)
        XCTAssertEqual(c2!.sign!.deadline, t0 + 1_060_000, "fresh clocks from the redispatch")
        XCTAssertEqual(fire(c2!, s2!, until: 1_060).2.last?.typeName, "gridloop.case.escalated")
    }

    func testUnsatisfiedCallbackReopensOneLevelUpAndSatisfiedOneResolves() {
        let (clock, state, d) = run([
            event(.dispatch, at: 0), event(.sign, at: 1), event(.reply, at: 10),
            event(.visit, at: 20, satisfaction: .unsatisfied),
        ])
        XCTAssertEqual(d.map(\.typeName), ["gridloop.case.escalated"])
        XCTAssertEqual(state!.level, .community)
        XCTAssertEqual(clock!.handle!.deadline, t0 + 620_000, "handled again, with fresh clocks at the new level")
        if case .escalated(let e) = d[0].kind { XCTAssertEqual(e.reason, "REOPENED_UNSATISFIED") }

        let (_, _, d2) = run([
            event(.dispatch, at: 0), event(.sign, at: 1), event(.reply, at: 10),
            event(.visit, at: 20, satisfaction: .unsatisfied), event(.reopen, at: 25),
            event(.reply, at: 30), event(.visit, at: 40, satisfaction: .satisfied),
        ])
        XCTAssertEqual(d2.map(\.typeName), ["gridloop.case.escalated", "gridloop.case.resolved"])
        if case .resolved(let r) = d2[1].kind {
            XCTAssertEqual(r.level, .community, "resolved where it was replied: the 721 count")
            XCTAssertEqual(r.escalations, 1)
            XCTAssertEqual(r.satisfaction, .satisfied)
        } else {
            XCTFail()
        }
    }

    func testSameLevelReopenPolicyKeepsTheLevel() {
        var p = policy
        p.reopenUnsatisfied = .sameLevel
        let keeper = ClockKeeper(policy: p, calendar: WorkingCalendar())
        let (clock, state, d) = run(
            [
                event(.dispatch, at: 0), event(.sign, at: 1), event(.reply, at: 10),
                event(.visit, at: 20, satisfaction: .unsatisfied),
            ], keeper: keeper)
        XCTAssertTrue(d.isEmpty)
        XCTAssertEqual(state!.level, .estate)
        XCTAssertNil(clock!.sign, "the unit that replied holds the case: no new sign clock")
        XCTAssertEqual(clock!.handle!.deadline, t0 + 620_000)
    }

    func testOverrideByUrgencyAndWithdrawResolves() {
        let (clock, _, d) = run([event(.dispatch, at: 0, urgency: .extraUrgent), event(.withdraw, at: 5)])
        XCTAssertEqual(clock!.closed, true)
        XCTAssertEqual(d.map(\.typeName), ["gridloop.case.resolved"])
        let (c2, _, _) = run([event(.dispatch, at: 0, urgency: .extraUrgent)])
        XCTAssertEqual(c2!.sign!.deadline, t0 + 10_000, "EXTRA_URGENT signs in 10 s")
    }

    func testTheEmittedEventCarriesTheContractFieldsAndNoPersonalData() throws {
        let (clock, state, _) = run([event(.dispatch, at: 0)])
        let (_, _, d) = snapshots(clock!, state!, until: 60)
        let json = String(
            decoding: OutboundEvent.json(d[2].decision, state: d[2].state, deployment: "hefei-baohe"), as: UTF8.self)
        for needle in [
            "\"specversion\":\"1.0\"", "\"type\":\"gridloop.case.escalated\"", "\"source\":\"/gridloop/hefei-baohe\"",
            "\"subject\":\"12345:HF1\"", "\"fromLevel\":\"ESTATE\"", "\"toLevel\":\"COMMUNITY\"",
            "\"reason\":\"SIGN_OVERDUE\"", "\"escalationCount\":1", "\"caseId\":\"12345:HF1\"",
        ] {
            XCTAssertTrue(json.contains(needle), "\(needle) in \(json)")
        }
        let parsed = try JSONParser.parse(Array(json.utf8))
        XCTAssertNotNil(parsed)
    }

    func testEventsAreWrittenInTheirFixedForm() {
        let (clock, state, _) = run([event(.dispatch, at: 0)])
        let (_, _, d) = snapshots(clock!, state!, until: 60)
        let texts = d.map {
            String(decoding: OutboundEvent.json($0.decision, state: $0.state, deployment: "hefei-baohe"), as: UTF8.self)
        }
        XCTAssertEqual(
            texts,
            [
                #"{"specversion":"1.0","id":"12345:HF1/a1/SIGN/warning","source":"/gridloop/hefei-baohe","type":"gridloop.case.supervision.warning","subject":"12345:HF1","time":"2025-11-24T16:00:48.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"ESTATE","grid":{},"assignee":{"unitCode":"U","unitName":"单位"},"limit":"SIGN","deadline":"2025-11-24T16:01:00.000Z","usedShare":0.8,"clock":{"kind":"SIGN","level":"ESTATE","unitCode":"U","unitName":"单位"}}}"#,
                #"{"specversion":"1.0","id":"12345:HF1/a1/SIGN/overdue","source":"/gridloop/hefei-baohe","type":"gridloop.case.supervision.overdue","subject":"12345:HF1","time":"2025-11-24T16:01:00.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"ESTATE","grid":{},"assignee":{"unitCode":"U","unitName":"单位"},"limit":"SIGN","deadline":"2025-11-24T16:01:00.000Z","overdueBy":"PT0H0M0S","clock":{"kind":"SIGN","level":"ESTATE","unitCode":"U","unitName":"单位"}}}"#,
                #"{"specversion":"1.0","id":"12345:HF1/a1/SIGN/escalated","source":"/gridloop/hefei-baohe","type":"gridloop.case.escalated","subject":"12345:HF1","time":"2025-11-24T16:01:00.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"COMMUNITY","grid":{},"assignee":{"unitCode":"SUPERVISION","unitName":"督查室"},"fromLevel":"ESTATE","toLevel":"COMMUNITY","reason":"SIGN_OVERDUE","deadline":"2025-11-24T16:01:00.000Z","escalationCount":1,"clock":{"kind":"SIGN","level":"ESTATE","unitCode":"U","unitName":"单位"},"toUnit":{"unitCode":"SUPERVISION","unitName":"督查室","resolvedBy":"default"}}}"#,
            ])
    }

    func testEveryKindOfEventAndEveryEscapeIsWrittenInItsFixedForm() {
        let (clock, state, _) = run([event(.dispatch, at: 0)])
        var (_, s, _) = fire(clock!, state!, until: 60)
        s.unitName = "A \"B\" \\ C/\n\u{1}\u{7F}"
        let t = s.order.acceptTime
        let kinds: [SLADecision.Kind] = [
            .urge(limit: .handle, deadline: t - 1, count: 3),
            .escalated(
                Escalation(
                    from: .street, to: .district, reason: "HANDLE_OVERDUE", deadline: nil, count: 3,
                    fromUnit: UnitRef(unitCode: "S1", unitName: "街道"),
                    toUnit: UnitResolution(
                        unit: UnitRef(unitCode: "D1", unitName: "区\"局\""), key: nil,
                        source: .directory(origin: "units.yaml:9")))),
            .resolved(
                Resolution(
                    level: .community, result: "SOLVED", escalations: 1, satisfaction: .satisfied, openedAt: t,
                    resolvedAt: t + 90_061_001)),
            .resolved(
                Resolution(level: .estate, result: "SOLVED", escalations: 0, satisfaction: nil, openedAt: t, resolvedAt: t)),
            .warning(limit: .sign, deadline: t, usedShare: 0.8125),
        ]
        let texts = kinds.enumerated().map { i, k in
            String(
                decoding: OutboundEvent.json(
                    SLADecision(id: "x/\(i)", caseId: s.caseId, time: t - 86_400_000 * 400, kind: k),
                    state: s, deployment: "d"), as: UTF8.self)
        }
        XCTAssertEqual(
            texts,
            [
                #"{"specversion":"1.0","id":"x/0","source":"/gridloop/d","type":"gridloop.case.supervision.urge","subject":"12345:HF1","time":"2024-10-20T16:00:00.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"COMMUNITY","grid":{},"assignee":{"unitCode":"SUPERVISION","unitName":"A \"B\" \\ C/\u000a\u0001\#u{7F}"},"limit":"HANDLE","deadline":"2025-11-24T15:59:59.999Z","urgeCount":3,"clock":{"kind":"HANDLE","level":"COMMUNITY","unitCode":"SUPERVISION","unitName":"A \"B\" \\ C/\u000a\u0001\#u{7F}"}}}"#,
                #"{"specversion":"1.0","id":"x/1","source":"/gridloop/d","type":"gridloop.case.escalated","subject":"12345:HF1","time":"2024-10-20T16:00:00.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"COMMUNITY","grid":{},"assignee":{"unitCode":"SUPERVISION","unitName":"A \"B\" \\ C/\u000a\u0001\#u{7F}"},"fromLevel":"STREET","toLevel":"DISTRICT","reason":"HANDLE_OVERDUE","escalationCount":3,"clock":{"kind":"HANDLE","level":"STREET","unitCode":"S1","unitName":"街道"},"toUnit":{"unitCode":"D1","unitName":"区\"局\"","resolvedBy":"directory"}}}"#,
                #"{"specversion":"1.0","id":"x/2","source":"/gridloop/d","type":"gridloop.case.resolved","subject":"12345:HF1","time":"2024-10-20T16:00:00.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"COMMUNITY","grid":{},"assignee":{"unitCode":"SUPERVISION","unitName":"A \"B\" \\ C/\u000a\u0001\#u{7F}"},"resolvedLevel":"COMMUNITY","result":"SOLVED","escalationCount":1,"satisfaction":"SATISFIED","openedAt":"2025-11-24T16:00:00.000Z","resolvedAt":"2025-11-25T17:01:01.001Z"}}"#,
                #"{"specversion":"1.0","id":"x/3","source":"/gridloop/d","type":"gridloop.case.resolved","subject":"12345:HF1","time":"2024-10-20T16:00:00.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"COMMUNITY","grid":{},"assignee":{"unitCode":"SUPERVISION","unitName":"A \"B\" \\ C/\u000a\u0001\#u{7F}"},"resolvedLevel":"ESTATE","result":"SOLVED","escalationCount":0,"openedAt":"2025-11-24T16:00:00.000Z","resolvedAt":"2025-11-24T16:00:00.000Z"}}"#,
                #"{"specversion":"1.0","id":"x/4","source":"/gridloop/d","type":"gridloop.case.supervision.warning","subject":"12345:HF1","time":"2024-10-20T16:00:00.000Z","datacontenttype":"application/json","data":{"caseId":"12345:HF1","source":"12345","orderNo":"HF1","category":{"code":"市政设施","name":"市政设施/路灯不亮"},"urgency":"NORMAL","level":"COMMUNITY","grid":{},"assignee":{"unitCode":"SUPERVISION","unitName":"A \"B\" \\ C/\u000a\u0001\#u{7F}"},"limit":"SIGN","deadline":"2025-11-24T16:00:00.000Z","usedShare":0.8125,"clock":{"kind":"SIGN","level":"COMMUNITY","unitCode":"SUPERVISION","unitName":"A \"B\" \\ C/\u000a\u0001\#u{7F}"}}}"#,
            ])
    }
}
