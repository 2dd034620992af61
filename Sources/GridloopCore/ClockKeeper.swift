/// Runs the SLA clocks of the four loops: starts, stops and pauses them as a case's events
/// arrive, and fires what is due (warning, overdue, escalation to the next level, urge).
/// Pure: event time in, decisions out; the caller supplies the watermark up to which time has
/// passed for the case's partition.
public struct ClockKeeper: Sendable {
    public var policy: SLAPolicy
    public var calculator: DeadlineCalculator
    /// Who takes a case one level up: the directory file's units and the default unit.
    public var directory: UnitDirectory
    /// In a replay (`ClockReplay`, `gridloopd whatif`): the policy an assignment (case id, its
    /// number) started under, when not `policy`; nil in the daemon, which assigns under `policy`.
    public var assignmentPolicy: (@Sendable (String, Int) -> SLAPolicy?)?

    /// The unit that takes a case nobody is known for when no directory file is configured.
    public static let builtInDefaultUnit = UnitRef(unitCode: "SUPERVISION", unitName: "督查室")

    public init(
        policy: SLAPolicy, calendar: WorkingCalendar,
        directory: UnitDirectory = .empty(defaultUnit: ClockKeeper.builtInDefaultUnit)
    ) {
        self.policy = policy
        self.calculator = DeadlineCalculator(calendar: calendar)
        self.directory = directory
    }

    // MARK: Events

    /// The clock after `event` was applied to the case (`state` is the case after it), and the
    /// decisions it causes (a resolution, or an escalation when an unsatisfied callback reopens
    /// the case one level up). `state` may change: such an escalation moves the case's level.
    public func apply(
        _ event: CaseEvent, to clock: CaseClock?, state: inout CaseState,
        topic: String, partition: Int32, learned: LearnedUnits = LearnedUnits()
    ) -> (clock: CaseClock?, decisions: [DecisionSnapshot]) {
        let t = event.eventTime
        guard var c = clock else {
            guard event.type == .dispatch || event.type == .redispatch else { return (nil, []) }
            let level = event.assignee?.level ?? state.level
            var c = CaseClock(caseId: state.caseId, topic: topic, partition: partition, level: level, assignedAt: t)
            assign(&c, level: level, at: t, state: state, platform: true)
            return (c, [])
        }
        c.topic = topic
        c.partition = partition
        var decisions: [DecisionSnapshot] = []
        switch event.type {
        case .dispatch, .redispatch:
            c.closed = false
            c.awaitingRedispatch = false
            assign(&c, level: event.assignee?.level ?? c.level, at: t, state: state, platform: true)
        case .sign:
            c.sign = nil
        case .reply:
            c.sign = nil
            c.handle = nil
            c.replied = true
        case .return:
            if policy.returnStopsClocks {
                c.sign = nil
                c.handle = nil
                c.awaitingRedispatch = true
            }
        case .extendApprove:
            if var h = c.handle, let days = event.days, days > 0 {
                h.limit = h.limit.extended(by: days)
                c.handle = h
                c.platformHandle = nil  // the platform approved more time: its old deadline is gone
                recompute(&c)
            }
        case .extendApply, .extendReject:
            break
        case .suspend:
            if !c.isSuspended {
                c.suspensions.append(Suspension(from: t, to: nil))
                recompute(&c)
            }
        case .resume:
            if c.isSuspended {
                c.suspensions[c.suspensions.count - 1].to = max(t, c.suspensions[c.suspensions.count - 1].from)
                recompute(&c)
            }
        case .visit:
            // As the case state machine: a callback other than UNSATISFIED closes a replied case.
            if c.replied, !c.closed, event.satisfaction != .unsatisfied {
                decisions.append(
                    resolve(
                        &c, state: state, at: t, result: state.lastResult?.rawValue ?? "RESOLVED",
                        satisfaction: event.satisfaction))
            } else if event.satisfaction == .unsatisfied, c.replied, !c.closed {
                decisions += reopen(&c, state: &state, at: t, unsatisfied: true, learned: learned)
            }
        case .reopen:
            // The platform reopens a replied case; an unsatisfied callback may already have.
            if c.replied {
                decisions += reopen(
                    &c, state: &state, at: t, unsatisfied: state.lastSatisfaction == .unsatisfied, learned: learned)
            }
        case .withdraw:
            if !c.closed { decisions.append(resolve(&c, state: state, at: t, result: "WITHDRAWN", satisfaction: nil)) }
        }
        return (c, decisions)
    }

    /// The decisions due at or before `watermark`, fired in time order, each with the case as it
    /// stood at its instant, and the clock and case after them all. An escalation hands the case
    /// to the unit that takes it one level up (`UnitResolution`: the directory, what the feeds
    /// taught, or the default unit), which is its assignee from then on.
    public func fire(_ clock: CaseClock, state: CaseState, until watermark: Int64, learned: LearnedUnits = LearnedUnits())
        -> (clock: CaseClock, state: CaseState, decisions: [DecisionSnapshot])
    {
        var c = clock
        var s = state
        var out: [DecisionSnapshot] = []
        func emit(_ id: String, _ due: Int64, _ kind: SLADecision.Kind, level: LoopLevel) {
            out.append(
                DecisionSnapshot(
                    decision: SLADecision(id: id, caseId: c.caseId, time: due, kind: kind), level: level, state: s))
        }
        // Each step announces one thing or moves the case up; a case walks at most a few dozen.
        for _ in 0..<1000 {
            guard let (kind, due) = nextAction(c), due <= watermark, var k = c[kind] else { break }
            let deadline = k.deadline!
            let prefix = "\(c.caseId)/a\(c.assignment)/\(kind.rawValue)"
            switch k.stage {
            case .running where due < deadline:
                k.stage = .warned
                c[kind] = k
                emit(
                    "\(prefix)/warning", due, .warning(limit: kind, deadline: deadline, usedShare: policy.warningShare),
                    level: c.level)
            case .running, .warned:
                emit("\(prefix)/overdue", due, .overdue(limit: kind, deadline: deadline), level: c.level)
                if let next = c.level.next {
                    let from = c.level
                    let fromUnit = UnitRef(unitCode: s.unitCode, unitName: s.unitName)
                    let to = UnitResolution.resolve(level: next, for: s, directory: directory, learned: learned)
                    c.escalations += 1
                    s.level = next
                    s.unitCode = to.unit.unitCode
                    s.unitName = to.unit.unitName
                    s.status = .dispatched
                    s.signedAt = nil
                    s.assignedAt = due
                    emit(
                        "\(prefix)/escalated", due,
                        .escalated(
                            Escalation(
                                from: from, to: next, reason: kind == .sign ? "SIGN_OVERDUE" : "HANDLE_OVERDUE",
                                deadline: deadline, count: c.escalations, fromUnit: fromUnit, toUnit: to)),
                        level: from)
                    assign(&c, level: next, at: due, state: s, platform: false)
                } else {
                    k.stage = .overdue
                    c[kind] = k
                }
            case .overdue:
                k.urges += 1
                c[kind] = k
                emit("\(prefix)/urge-\(k.urges)", due, .urge(limit: kind, deadline: deadline, count: k.urges), level: c.level)
            }
        }
        return (c, s, out)
    }

    /// The next thing due on this clock, if any: (which limit, when).
    public func nextAction(_ c: CaseClock) -> (ClockKind, Int64)? {
        guard !c.closed, !c.awaitingRedispatch else { return nil }
        var best: (ClockKind, Int64)?
        for kind in ClockKind.allCases {
            guard let k = c[kind], let deadline = k.deadline else { continue }
            let due: Int64?
            switch k.stage {
            case .running: due = min(k.warningAt ?? deadline, deadline)
            case .warned: due = deadline
            case .overdue:
                due = k.urges < policy.urgeCap ? urgeInstant(after: deadline, count: k.urges + 1) : nil
            }
            if let due, best == nil || due < best!.1 { best = (kind, due) }
        }
        return best
    }

    /// When the case next needs attention (nil: nothing pending).
    public func nextDue(_ c: CaseClock) -> Int64? { nextAction(c)?.1 }

    // MARK: Helpers

    private func urgeInstant(after deadline: Int64, count: Int) -> Int64? {
        calculator.deadline(
            start: deadline, unit: policy.urgeInterval.unit,
            budgetMillis: policy.urgeInterval.budgetMillis * Int64(count)
        ).deadline
    }

    /// Fresh sign and handle clocks at `level` from `at`.
    private func assign(_ c: inout CaseClock, level: LoopLevel, at t: Int64, state: CaseState, platform: Bool) {
        // The policy of this assignment: the keeper's, or in a replay the one it started under.
        let policy = assignmentPolicy?(c.caseId, c.assignment + 1) ?? self.policy
        let limits = policy.limits(
            level: level, source: state.source, urgency: state.order.urgency,
            categoryCode: Self.categoryCode(state))
        c.level = level
        c.replied = false
        c.assignment += 1
        c.assignedAt = t
        c.platformAssigned = platform
        c.suspensions = []
        c.recordPolicyVersion(policy.version)
        c.sign = CaseClock.Clock(kind: .sign, limit: limits.sign)
        c.handle = CaseClock.Clock(kind: .handle, limit: limits.handle)
        let platformLimits =
            platform && policy.platformLimitTightens ? platformDeadlines(state, from: t) : (sign: nil, handle: nil)
        c.platformSign = platformLimits.sign
        c.platformHandle = platformLimits.handle
        recompute(&c)
    }

    /// Reopening after an unsatisfied callback: one level up (an escalation, to the unit that
    /// takes the case there) or at the same level, per policy.
    private func reopen(
        _ c: inout CaseClock, state: inout CaseState, at t: Int64, unsatisfied: Bool, learned: LearnedUnits
    ) -> [DecisionSnapshot] {
        c.closed = false
        c.awaitingRedispatch = false
        if unsatisfied, policy.reopenUnsatisfied == .oneLevelUp, let next = c.level.next {
            let from = c.level
            let fromUnit = UnitRef(unitCode: state.unitCode, unitName: state.unitName)
            let to = UnitResolution.resolve(level: next, for: state, directory: directory, learned: learned)
            c.escalations += 1
            state.level = next
            state.unitCode = to.unit.unitCode
            state.unitName = to.unit.unitName
            let d = SLADecision(
                id: "\(c.caseId)/a\(c.assignment)/reopened/escalated", caseId: c.caseId, time: t,
                kind: .escalated(
                    Escalation(
                        from: from, to: next, reason: "REOPENED_UNSATISFIED", deadline: nil,
                        count: c.escalations, fromUnit: fromUnit, toUnit: to)))
            assign(&c, level: next, at: t, state: state, platform: false)
            return [DecisionSnapshot(decision: d, level: from, state: state)]
        }
        assign(&c, level: c.level, at: t, state: state, platform: false)
        c.sign = nil  // the unit that replied already holds the case
        return []
    }

    private func resolve(
        _ c: inout CaseClock, state: CaseState, at t: Int64, result: String,
        satisfaction: Satisfaction?
    ) -> DecisionSnapshot {
        c.closed = true
        c.sign = nil
        c.handle = nil
        let d = SLADecision(
            id: "\(c.caseId)/a\(c.assignment)/resolved", caseId: c.caseId, time: t,
            kind: .resolved(
                Resolution(
                    level: state.repliedLevel ?? state.level, result: result, escalations: c.escalations,
                    satisfaction: satisfaction, openedAt: state.order.acceptTime, resolvedAt: t)))
        return DecisionSnapshot(decision: d, level: c.level, state: state)
    }

    /// Deadlines and warning instants of the running clocks, from the assignment start, the
    /// limits and the suspensions; the platform's own deadline wins when earlier.
    private func recompute(_ c: inout CaseClock) {
        for kind in ClockKind.allCases {
            guard var k = c[kind] else { continue }
            var deadline = calculator.deadline(start: c.assignedAt, limit: k.limit, suspensions: c.suspensions).deadline
            let platform = kind == .sign ? c.platformSign : c.platformHandle
            if let d = deadline, let p = platform, p < d, c.suspensions.isEmpty { deadline = max(p, c.assignedAt) }
            k.deadline = deadline
            k.warningAt =
                deadline == nil
                ? nil
                : calculator.instant(
                    start: c.assignedAt, limit: k.limit, share: policy.warningShare,
                    suspensions: c.suspensions
                ).deadline.map { min($0, deadline!) }
            c[kind] = k
        }
    }

    private func platformDeadlines(_ s: CaseState, from t: Int64) -> (sign: Int64?, handle: Int64?) {
        let sign = s.order.platformSignHours.map { t + Int64($0) * 3_600_000 }
        var handle = s.order.platformHandleDays.flatMap {
            calculator.deadline(start: t, limit: TimeLimit(amount: $0, unit: .workingDays)).deadline
        }
        if let d = s.order.platformDeadline { handle = min(handle ?? d, d) }
        return (sign, handle)
    }

    /// The category code the policy's prefixes match: 12345's code, 12319's text before the slash.
    public static func categoryCode(_ s: CaseState) -> String? {
        s.order.categoryCode ?? s.order.categoryName.split(separator: "/").first.map(String.init)
    }
}
