import Foundation
import GridloopCore
import GridloopSettings
import GridloopStore
import GridloopViews

/// `gridloopd whatif` (docs/WHATIF.md): the stored history of every case dispatched in a period
/// replayed through the pure core (`ClockReplay`) under a candidate policy and under the policy
/// in force, in memory (no write, no event), side by side; and how exactly the replay under the
/// policy in force reproduces the decisions stored.
public struct WhatIf: Encodable, Sendable {
    public struct Step: Encodable, Sendable {
        public var from: String
        public var to: String
        public var count: Int
    }

    public struct LevelRate: Encodable, Sendable {
        public var level: String
        /// Cases handled at the level (assigned there at least once).
        public var handled: Int
        /// Of those, cases that went overdue there (an overdue, or an escalation for a missed limit).
        public var breached: Int
        public var rate: Double?
    }

    public struct CategoryRate: Encodable, Sendable {
        public var category: String
        public var cases: Int
        public var breached: Int
        public var rate: Double?
    }

    /// What one policy's replay decided.
    public struct Tally: Encodable, Sendable {
        public var version: String
        public var source: String
        public var warnings = 0
        public var overdue = 0
        public var urges = 0
        public var escalations = 0
        public var resolved = 0
        public var escalationSteps: [Step] = []
        /// Shares of the resolved cases by the level that resolved them: ESTATE+COMMUNITY, STREET, DISTRICT (7-2-1).
        public var shares721: [String: Double] = [:]
        public var breachByLevel: [LevelRate] = []
        public var breachByCategory: [CategoryRate] = []
    }

    /// A case whose outcome differs.
    public struct Difference: Encodable, Sendable {
        public var caseId: String
        public var inForce: String
        public var candidate: String
    }

    /// The replay under the policy in force against `sla_decisions`.
    public struct Consistency: Encodable, Sendable {
        /// Stored decisions of the period's cases up to `until`.
        public var stored: Int
        /// Of those, replayed with the same id, type and instant.
        public var reproduced: Int
        /// Stored, not replayed so (id, type or instant differ).
        public var missing: Int
        /// Replayed, not stored.
        public var extra: Int
        /// The first 20 of each, `id type instant(ms)`.
        public var missingExamples: [String]
        public var extraExamples: [String]
    }

    public var from: String
    public var to: String
    /// Time was let pass to this instant (RFC 3339).
    public var until: String
    public var cases: Int
    public var events: Int
    public var inForce: Tally
    public var candidate: Tally
    public var consistency: Consistency
    public var differing: Int
    /// Every case whose outcome differs (the text shows a sample).
    public var differences: [Difference]
    public var readSeconds: Double
    public var replaySeconds: Double
    public var caveat =
        "A replay keeps every event where it happened: under other limits the units would have signed, replied and "
        + "escalated at other times, which no replay can know. It shows what the candidate's clocks would have decided "
        + "on the history as it happened."

    /// Replays the cases dispatched `from`–`to` under `candidate` and under the policy in force
    /// (each assignment under the version of the policy its clock recorded for it, when that
    /// version is kept in `policy_versions`; else `inForce`'s), letting time pass to `until`
    /// (epoch ms).
    public static func run(
        from: String, to: String, candidate: SLAPolicy, inForce: ClockKeeper, until: Int64, db: Database
    ) throws -> WhatIf {
        let clock = ContinuousClock()
        let started = clock.now
        let caseRows = try ReplayQueries.cases(from: from, to: to, db: db)
        let eventRows = try ReplayQueries.events(from: from, to: to, db: db)
        let storedRows = try ReplayQueries.decisions(from: from, to: to, db: db)
        let learned = LearnedUnits(try LearnedUnitQueries.all(from: db))
        // The versions the clocks recorded (each assignment's), other than the one loaded now.
        var versions: Set<String> = []
        for c in caseRows {
            if let v = c.policyVersion { versions.insert(v) }
            for entry in (c.policyHistory ?? "").split(separator: ";") {
                if let v = entry.split(separator: ":", maxSplits: 1).last { versions.insert(String(v)) }
            }
        }
        var policies: [String: SLAPolicy] = [inForce.policy.version: inForce.policy]
        for (version, doc) in try PolicyVersionQueries.documents(Array(versions.subtracting([inForce.policy.version])), db: db) {
            if let p = try? PolicyLoader.parse(doc.document, file: doc.source) { policies[version] = p }
        }
        // Each assignment under the version it started under, when that version is kept.
        var histories: [String: (current: String?, history: String?)] = [:]
        for c in caseRows { histories[c.caseId] = (c.policyVersion, c.policyHistory) }
        var recordedKeeper = inForce
        recordedKeeper.assignmentPolicy = { [policies, histories] caseId, n in
            guard let h = histories[caseId],
                let v = CaseClock.policyVersion(ofAssignment: n, current: h.current, history: h.history)
            else { return nil }
            return policies[v]
        }
        let candidateKeeper = ClockKeeper(
            policy: candidate, calendar: inForce.calculator.calendar, directory: inForce.directory)

        // The steps of each case, in the order applied.
        struct Seed {
            var steps: [ClockReplay.Step] = []
            var category = ""
        }
        var seeds: [String: Seed] = [:]
        var facts: [String: (source: CaseSource, orderNo: String, unitName: String, order: OrderFacts)] = [:]
        for c in caseRows {
            facts[c.caseId] = (c.source, c.orderNo, c.unitName, c.order)
            seeds[c.caseId] = Seed(category: c.order.categoryName)
        }
        for e in eventRows {
            guard let f = facts[e.caseId] else { continue }
            let (id, type, t, key, level, unit) = (e.caseId, e.type, e.time, e.key, e.level, e.unitCode)
            var assignee: Assignee?
            if type == .dispatch || type == .redispatch, let level, let unit {
                assignee = Assignee(unitCode: unit, unitName: type == .dispatch ? f.unitName : unit, level: level)
            }
            let event = CaseEvent(
                caseId: id, source: f.source, orderNo: f.orderNo, type: type, eventTime: t, eventKey: key,
                sequence: e.sequence, order: type == .dispatch ? f.order : nil, assignee: assignee,
                unitCode: type == .dispatch || type == .redispatch ? nil : unit,
                result: e.result, days: e.days, satisfaction: e.satisfaction)
            seeds[id]?.steps.append(
                ClockReplay.Step(
                    event: event, gapBefore: e.gapBefore, topic: e.topicPartition.topic,
                    partition: e.topicPartition.partition))
        }
        var stored: Set<String> = []
        for d in storedRows where d.decidedAt <= until { stored.insert("\(d.id) \(d.type) \(d.decidedAt)") }
        let read = clock.now

        var a = Tally(version: inForce.policy.version, source: inForce.policy.file)
        var b = Tally(version: candidate.version, source: candidate.file)
        var acc = (Accumulator(), Accumulator())
        var replayed: Set<String> = []
        var differences: [Difference] = []
        for id in seeds.keys.sorted() {
            let seed = seeds[id]!
            let x = ClockReplay.run(seed.steps, keeper: recordedKeeper, learned: learned, until: until)
            let y = ClockReplay.run(seed.steps, keeper: candidateKeeper, learned: learned, until: until)
            for d in x.decisions { replayed.insert("\(d.decision.id) \(d.decision.typeName) \(d.decision.time)") }
            let ox = acc.0.add(x, steps: seed.steps, category: seed.category)
            let oy = acc.1.add(y, steps: seed.steps, category: seed.category)
            if ox != oy { differences.append(Difference(caseId: id, inForce: ox, candidate: oy)) }
        }
        acc.0.finish(into: &a)
        acc.1.finish(into: &b)
        let missing = stored.subtracting(replayed).sorted()
        let extra = replayed.subtracting(stored).sorted()
        let done = clock.now
        func seconds(_ d: Duration) -> Double {
            ((Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) * 1000).rounded() / 1000
        }
        return WhatIf(
            from: from, to: to, until: RFC3339.format(until), cases: seeds.count, events: eventRows.count, inForce: a,
            candidate: b,
            consistency: Consistency(
                stored: stored.count, reproduced: stored.intersection(replayed).count,
                missing: missing.count, extra: extra.count, missingExamples: Array(missing.prefix(20)),
                extraExamples: Array(extra.prefix(20))),
            differing: differences.count, differences: differences, readSeconds: seconds(read - started),
            replaySeconds: seconds(done - read))
    }

    /// Sums of one policy's replays.
    struct Accumulator {
        var warnings = 0, overdue = 0, urges = 0, escalations = 0, resolved = 0
        var steps: [String: Int] = [:]
        var resolvedAt: [LoopLevel: Int] = [:]
        var handled: [LoopLevel: Int] = [:]
        var breached: [LoopLevel: Int] = [:]
        var categories: [String: (cases: Int, breached: Int)] = [:]

        /// Adds a case; returns its outcome in words (what `differences` compares).
        mutating func add(_ o: ClockReplay.Outcome, steps: [ClockReplay.Step], category: String) -> String {
            var levels = Set(steps.compactMap { $0.event.assignee?.level })
            var missed: Set<LoopLevel> = []
            // The levels in the order assigned: dispatch, redispatches, escalations.
            var path: [(time: Int64, level: String)] = steps.compactMap { s in
                s.event.assignee.map { (s.event.eventTime, $0.level.rawValue) }
            }
            var resolvedLevel: LoopLevel?
            for d in o.decisions {
                switch d.decision.kind {
                case .warning: warnings += 1
                case .overdue:
                    overdue += 1
                    missed.insert(d.level)
                case .urge: urges += 1
                case .escalated(let e):
                    escalations += 1
                    self.steps["\(e.from.rawValue)>\(e.to.rawValue)", default: 0] += 1
                    levels.insert(e.to)
                    if e.reason == "SIGN_OVERDUE" || e.reason == "HANDLE_OVERDUE" { missed.insert(e.from) }
                    path.append((d.decision.time, e.to.rawValue))
                case .resolved(let r):
                    let level = r.level
                    if r.result != "WITHDRAWN" {
                        resolved += 1
                        resolvedAt[level, default: 0] += 1
                        resolvedLevel = level
                    }
                }
            }
            for l in levels { handled[l, default: 0] += 1 }
            for l in missed { breached[l, default: 0] += 1 }
            var c = categories[category] ?? (0, 0)
            c.cases += 1
            if !missed.isEmpty { c.breached += 1 }
            categories[category] = c
            let climbed = path.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }
                .map(\.element.level).joined(separator: "→")
            let overdueAt = missed.sorted { $0.rank < $1.rank }.map(\.rawValue).joined(separator: ",")
            return "\(climbed); " + (resolvedLevel.map { "resolved at \($0.rawValue)" } ?? "not resolved")
                + (overdueAt.isEmpty ? "" : "; overdue at \(overdueAt)")
        }

        func finish(into t: inout Tally) {
            t.warnings = warnings
            t.overdue = overdue
            t.urges = urges
            t.escalations = escalations
            t.resolved = resolved
            t.escalationSteps = steps.map { k, v in
                let p = k.split(separator: ">").map(String.init)
                return Step(from: p[0], to: p[1], count: v)
            }.sorted { (LoopLevel(rawValue: $0.from)?.rank ?? 9, $0.to) < (LoopLevel(rawValue: $1.from)?.rank ?? 9, $1.to) }
            let r = Double(max(resolved, 1))
            t.shares721 =
                resolved == 0
                ? [:]
                : [
                    "ESTATE+COMMUNITY": Double((resolvedAt[.estate] ?? 0) + (resolvedAt[.community] ?? 0)) / r,
                    "STREET": Double(resolvedAt[.street] ?? 0) / r, "DISTRICT": Double(resolvedAt[.district] ?? 0) / r,
                ]
            t.breachByLevel = LoopLevel.allCases.map { l in
                let h = handled[l] ?? 0
                let b = breached[l] ?? 0
                return LevelRate(level: l.rawValue, handled: h, breached: b, rate: h > 0 ? Double(b) / Double(h) : nil)
            }
            t.breachByCategory = categories.keys.sorted().map { k in
                let c = categories[k]!
                return CategoryRate(
                    category: k, cases: c.cases, breached: c.breached,
                    rate: c.cases > 0 ? Double(c.breached) / Double(c.cases) : nil)
            }
        }
    }

    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    public func text(sample: Int = 20) -> String {
        func pct(_ x: Double?) -> String { x.map { String(format: "%.1f%%", $0 * 100) } ?? "-" }
        func row(_ name: String, _ x: String, _ y: String) -> String {
            "\n\(name.rightPad(30)) \(x.leftPad(14)) \(y.leftPad(14))"
        }
        var out =
            "what-if: \(cases) cases dispatched \(from) to \(to) (\(events) events), replayed to \(until); "
            + "read \(readSeconds) s, replayed \(replaySeconds) s\n"
        out += row("", "IN FORCE", "CANDIDATE")
        out += row("policy version", inForce.version, candidate.version)
        out += row("warnings", "\(inForce.warnings)", "\(candidate.warnings)")
        out += row("overdue (top level)", "\(inForce.overdue)", "\(candidate.overdue)")
        out += row("escalations", "\(inForce.escalations)", "\(candidate.escalations)")
        let steps = Set(
            inForce.escalationSteps.map { "\($0.from)>\($0.to)" } + candidate.escalationSteps.map { "\($0.from)>\($0.to)" })
        for s in steps.sorted() {
            let p = s.split(separator: ">")
            let n = { (t: Tally) in t.escalationSteps.first { "\($0.from)>\($0.to)" == s }?.count ?? 0 }
            out += row("  \(p[0]) → \(p[1])", "\(n(inForce))", "\(n(candidate))")
        }
        out += row("urges", "\(inForce.urges)", "\(candidate.urges)")
        out += row("resolved", "\(inForce.resolved)", "\(candidate.resolved)")
        for k in ["ESTATE+COMMUNITY", "STREET", "DISTRICT"] {
            out += row("  resolved at \(k)", pct(inForce.shares721[k]), pct(candidate.shares721[k]))
        }
        for (x, y) in zip(inForce.breachByLevel, candidate.breachByLevel) where x.handled > 0 || y.handled > 0 {
            out += row("breach rate \(x.level)", pct(x.rate), pct(y.rate))
        }
        for (x, y) in zip(inForce.breachByCategory, candidate.breachByCategory) {
            out += row("breach rate \(x.category)", pct(x.rate), pct(y.rate))
        }
        out += "\n\n\(differing) cases' outcome differs"
        for d in differences.prefix(sample) {
            out += "\n  \(d.caseId): in force \(d.inForce) | candidate \(d.candidate)"
        }
        if differing > sample { out += "\n  … (all \(differing) with --json)" }
        out +=
            "\n\nreplay under the policy in force against the decisions stored: \(consistency.reproduced) of "
            + "\(consistency.stored) reproduced (same id, type and instant), \(consistency.missing) not, "
            + "\(consistency.extra) replayed that were not stored"
        for m in consistency.missingExamples.prefix(5) { out += "\n  stored, not replayed: \(m)" }
        for m in consistency.extraExamples.prefix(5) { out += "\n  replayed, not stored: \(m)" }
        out += "\n\nnote: \(caveat)"
        return out
    }
}
