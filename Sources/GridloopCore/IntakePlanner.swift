/// The one batch step of the intake, pure: for a batch of consumed messages in partition order,
/// decides what becomes of each (applied to its case, ignored as a resend, held, dead-lettered or
/// skipped) and, with a `ClockKeeper`, moves the SLA clocks with each applied event: whatever
/// fell due before the event fires first, so a backlog decides exactly as the live feed would
/// have (a SIGN stops the clock only if it came before the deadline). Each case's state is
/// computed once, here; the result is what to write: states, clocks, decisions, learned units.
public struct IntakePlanner: Sendable {
    public private(set) var states: [String: CaseState]
    /// Cases whose state this batch changed.
    public private(set) var changedCases: Set<String> = []
    /// Cases this batch created (their DISPATCH is in it); a subset of `changedCases`.
    public private(set) var createdCases: Set<String> = []
    public private(set) var applied: [AppliedEvent] = []
    public private(set) var newlyHeld: [HeldEvent] = []
    /// Event keys of stored held events that this batch applied or dead-lettered.
    public private(set) var releasedHeldKeys: [String] = []
    public private(set) var deadLetters: [DeadLetter] = []
    public private(set) var skipped: [SkippedMessage] = []
    /// Resends recognised, by source.
    public private(set) var duplicatesBySource: [CaseSource: Int] = [:]
    public var duplicates: Int { duplicatesBySource.values.reduce(0, +) }
    /// The clocks this batch moved, as they are after it.
    public private(set) var changedClocks: [String: CaseClock] = [:]
    /// The decisions taken, in the order taken, each with the case as it stood at its instant.
    public private(set) var decisions: [DecisionSnapshot] = []
    /// What the feeds taught about the unit directory, this batch's assignments included.
    public private(set) var learned: LearnedUnits
    /// What this batch taught (to record with it).
    public private(set) var newlyLearned: [UnitKey: LearnedUnits.Learned] = [:]

    private var appliedKeys: Set<String>
    private var held: [String: [HeldEvent]]
    private var heldKeys: Set<String>
    /// Held events that were stored before this batch (releasing them deletes a row).
    private var storedHeldKeys: Set<String>
    private let keeper: ClockKeeper?
    /// The clocks as they were before this batch.
    private let knownClocks: [String: CaseClock]

    /// - Parameters:
    ///   - states: stored state of every case the batch may touch.
    ///   - appliedKeys: event keys among the batch's that are already in the history.
    ///   - held: stored held events of those cases.
    ///   - clocks: the clocks of those cases, when `keeper` runs them (nil: no SLA clocks).
    ///   - learned: the units learned so far.
    public init(
        states: [String: CaseState], appliedKeys: Set<String>, held: [HeldEvent],
        clocks: [String: CaseClock] = [:], keeper: ClockKeeper? = nil, learned: LearnedUnits = LearnedUnits()
    ) {
        self.states = states
        self.appliedKeys = appliedKeys
        var byCase: [String: [HeldEvent]] = [:]
        for h in held { byCase[h.event.caseId, default: []].append(h) }
        self.held = byCase
        self.heldKeys = Set(held.map(\.event.eventKey))
        self.storedHeldKeys = heldKeys
        self.keeper = keeper
        self.knownClocks = clocks
        self.learned = learned
    }

    /// The clock of a case as it is now in this batch.
    public func clock(of caseId: String) -> CaseClock? { changedClocks[caseId] ?? knownClocks[caseId] }

    /// When a clock next needs attention (nil: nothing pending, or no clocks run).
    public func nextDue(_ clock: CaseClock) -> Int64? { keeper?.nextDue(clock) }

    /// Fires what is due on `clock` up to `watermark` (time passing, not an event): the due
    /// clocks' pass. `state` is the case's current state.
    public mutating func fire(_ clock: CaseClock, state: CaseState, until watermark: Int64) {
        guard let keeper else { return }
        let r = keeper.fire(clock, state: state, until: watermark, learned: learned)
        changedClocks[clock.caseId] = r.clock
        decisions += r.decisions
        states[clock.caseId] = r.state
        if r.state != state { changedCases.insert(clock.caseId) }
    }

    /// Takes the next consumed message.
    public mutating func offer(_ item: IntakeItem, now: Int64) {
        switch item.outcome {
        case .rejected(let reason):
            deadLetters.append(
                DeadLetter(
                    coordinates: item.coordinates, key: item.key, value: item.value,
                    headers: item.headers, reason: reason, caseId: nil))
        case .skipped(let reason, let orderNo):
            skipped.append(SkippedMessage(coordinates: item.coordinates, reason: reason, orderNo: orderNo))
        case .event(let event):
            if appliedKeys.contains(event.eventKey) || heldKeys.contains(event.eventKey) {
                duplicatesBySource[event.source, default: 0] += 1
                return
            }
            let state = states[event.caseId]
            if let seq = event.sequence, let state, seq <= state.lastSequence {
                if state.gapCount > 0 {
                    // Possibly an event of a gap accepted after the hold, arriving too late: the
                    // contract makes it a resend, but it is recorded rather than dropped silently.
                    skipped.append(
                        SkippedMessage(
                            coordinates: item.coordinates,
                            reason: "12319 event_seq \(seq) arrived after case \(event.orderNo) accepted a gap "
                                + "(highest applied \(state.lastSequence)); treated as a resend, not applied",
                            orderNo: event.orderNo))
                } else {
                    duplicatesBySource[event.source, default: 0] += 1
                }
                return
            }
            if isApplicable(event, to: state) {
                apply(event, at: item.coordinates, gapBefore: 0)
                releaseApplicable(caseId: event.caseId)
            } else {
                let h = HeldEvent(
                    event: event, coordinates: item.coordinates, key: item.key, value: item.value,
                    headers: item.headers, heldAt: now)
                held[event.caseId, default: []].append(h)
                heldKeys.insert(event.eventKey)
                newlyHeld.append(h)
            }
        }
    }

    /// Ends the hold of stored events whose wait is over: each is applied (a 12319 gap is
    /// accepted and recorded) if its case exists by now, else dead-lettered.
    public mutating func expire(_ expired: [HeldEvent], holdSeconds: Int) {
        for h in expired where !heldKeys.contains(h.event.eventKey) {
            // Register it if the planner was not told about it (an expiry-only pass).
            held[h.event.caseId, default: []].append(h)
            heldKeys.insert(h.event.eventKey)
            storedHeldKeys.insert(h.event.eventKey)
        }
        // When an event's wait ends, the events held behind the same gap with lower sequence
        // numbers (they arrived later, so their own wait is not over) end theirs too: they fill
        // part of the gap and must be applied first, in order, or they would be lost as resends.
        var ending: [String: HeldEvent] = [:]
        for h in expired { ending[h.event.eventKey] = h }
        for (caseId, highest) in Dictionary(grouping: expired, by: \.event.caseId).mapValues({
            $0.map { $0.event.sequence ?? 0 }.max()!
        }) {
            for h in held[caseId] ?? [] where (h.event.sequence ?? 0) <= highest { ending[h.event.eventKey] = h }
        }
        let ordered = ending.values.sorted { a, b in
            if a.event.caseId != b.event.caseId { return a.event.caseId < b.event.caseId }
            return (a.event.sequence ?? 0, a.coordinates.offset) < (b.event.sequence ?? 0, b.coordinates.offset)
        }
        for h in ordered where heldKeys.contains(h.event.eventKey) {
            let event = h.event
            let state = states[event.caseId]
            removeHeld(event)
            if let seq = event.sequence, let state, seq <= state.lastSequence {
                duplicatesBySource[event.source, default: 0] += 1
            } else if state != nil || event.type == .dispatch {
                let gap = event.sequence.map { $0 - (state?.lastSequence ?? 0) - 1 } ?? 0
                apply(event, at: h.coordinates, gapBefore: max(0, gap))
                releaseApplicable(caseId: event.caseId)
            } else {
                let what = event.sequence.map { "\(event.type.rawValue) (event_seq \($0))" } ?? event.type.rawValue
                deadLetters.append(
                    DeadLetter(
                        coordinates: h.coordinates, key: h.key, value: h.value, headers: h.headers,
                        reason: "\(what) for order \(event.orderNo), which was never dispatched "
                            + "(held \(holdSeconds) s for its DISPATCH)",
                        caseId: event.caseId))
            }
        }
    }

    /// Dead-letters a stored held row whose bytes no longer decode as an event (a later
    /// version's decoder refuses what an earlier one held): the row is deleted with the plan and
    /// its bytes go to the dead letters with `letter.reason`, rather than being skipped at every
    /// expiry pass for ever.
    public mutating func deadLetterHeldRow(eventKey: String, _ letter: DeadLetter) {
        releasedHeldKeys.append(eventKey)
        deadLetters.append(letter)
    }

    /// The next offset to consume per partition after this batch, given the batch's items.
    public static func nextOffsets(_ items: [IntakeItem]) -> [SourceCoordinates] {
        var next: [TopicPartition: SourceCoordinates] = [:]
        for item in items {
            let c = item.coordinates
            if let e = next[c.topicPartition], e.offset > c.offset { continue }
            next[c.topicPartition] = SourceCoordinates(c.topicPartition, offset: c.offset + 1)
        }
        return next.values.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    private func isApplicable(_ event: CaseEvent, to state: CaseState?) -> Bool {
        if let seq = event.sequence, seq != (state?.lastSequence ?? 0) + 1 { return false }
        return state != nil || event.type == .dispatch
    }

    private mutating func apply(_ event: CaseEvent, at coordinates: SourceCoordinates, gapBefore: Int) {
        let id = event.caseId
        var prior = states[id]
        var clock = clock(of: id)
        if let keeper, let c = clock, let s = prior {
            // Time passed up to the event first: what fell due before it is decided before it.
            let r = keeper.fire(c, state: s, until: event.eventTime - 1, learned: learned)
            if !r.decisions.isEmpty {
                clock = r.clock
                changedClocks[id] = r.clock
                prior = r.state
                decisions += r.decisions
            }
        }
        var next: CaseState
        if let prior {
            next = prior.applying(event, gapBefore: gapBefore)
        } else if let started = CaseState.start(from: event) {
            next = gapBefore > 0 ? started.withGap(gapBefore) : started
            createdCases.insert(id)
        } else {
            return
        }
        if let key = learned.learn(from: event, state: next) { newlyLearned[key] = learned[key] }
        if let keeper {
            let r = keeper.apply(
                event, to: clock, state: &next, topic: coordinates.topic, partition: coordinates.partition,
                learned: learned)
            if let c = r.clock {
                changedClocks[id] = c
                next.level = c.level
            }
            decisions += r.decisions
        }
        states[id] = next
        changedCases.insert(id)
        appliedKeys.insert(event.eventKey)
        applied.append(
            AppliedEvent(
                event: event, coordinates: coordinates, eventNo: next.eventCount,
                gapBefore: gapBefore))
    }

    /// Applies held events of a case that have become applicable, in order, until none is.
    private mutating func releaseApplicable(caseId: String) {
        while let list = held[caseId], !list.isEmpty {
            let state = states[caseId]
            // Resends that the case has overtaken are dropped from the hold.
            if let stale = list.first(where: { h in h.event.sequence.map { $0 <= (state?.lastSequence ?? 0) } ?? false }) {
                removeHeld(stale.event)
                duplicatesBySource[stale.event.source, default: 0] += 1
                continue
            }
            let candidates = list.filter { isApplicable($0.event, to: state) }
                .sorted { $0.coordinates.offset < $1.coordinates.offset }
            guard let h = candidates.first else { return }
            removeHeld(h.event)
            apply(h.event, at: h.coordinates, gapBefore: 0)
        }
    }

    /// The events of a case still held after this batch (stored before, or held by it), in the
    /// order they were held.
    public func heldEvents(of caseId: String) -> [HeldEvent] { held[caseId] ?? [] }

    private mutating func removeHeld(_ event: CaseEvent) {
        held[event.caseId]?.removeAll { $0.event.eventKey == event.eventKey }
        if held[event.caseId]?.isEmpty == true { held[event.caseId] = nil }
        heldKeys.remove(event.eventKey)
        if storedHeldKeys.remove(event.eventKey) != nil {
            releasedHeldKeys.append(event.eventKey)
        } else {
            newlyHeld.removeAll { $0.event.eventKey == event.eventKey }
        }
    }
}

extension CaseState {
    /// The same state with one accepted sequence gap counted.
    func withGap(_ gap: Int) -> CaseState {
        var s = self
        if gap > 0 { s.gapCount += 1 }
        return s
    }
}
