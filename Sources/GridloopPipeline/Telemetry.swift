import CoreMetrics
import GridloopCore
import GridloopSettings
import GridloopStore
import Synchronization

// Threading: swift-metrics handles are thread-safe; `Health` is a mutex-protected value read
// by the HTTP thread and the main loop, written by the workers.

/// The daemon's metrics, through swift-metrics (the daemon bootstraps the Prometheus factory;
/// commands and tests that do not get no-op handlers). Labels carry codes only: never a
/// citizen's data, never a case id (unbounded cardinality).
public enum Metric {
    public static let intake = "gridloop_intake_messages_total"  // source, outcome
    public static let consumerLag = "gridloop_consumer_lag_messages"  // topic, partition
    public static let intakeGapMessages = "gridloop_intake_gap_messages_total"  // topic, partition: deleted unread
    public static let batchMessages = "gridloop_batch_messages"  // histogram
    public static let batchSeconds = "gridloop_batch_duration_seconds"  // histogram: poll to commit
    public static let cacheCases = "gridloop_intake_cache_cases"
    public static let cacheBytes = "gridloop_intake_cache_bytes"  // estimated
    public static let openCases = "gridloop_open_cases"  // level
    public static let timersDue = "gridloop_timers_due"  // due, not yet fired
    public static let timersFired = "gridloop_timers_fired_total"  // kind
    public static let fireLag = "gridloop_fire_lag_seconds"  // histogram: due instant to fired
    public static let outboxBacklog = "gridloop_outbox_backlog"
    public static let outboxOldest = "gridloop_outbox_oldest_seconds"
    public static let published = "gridloop_outbox_published_total"  // topic
    public static let publishErrors = "gridloop_outbox_publish_errors_total"
    public static let deadLetters = "gridloop_dead_letters_total"  // source
    public static let isolated = "gridloop_intake_isolated_total"  // source: refused by the database, dead-lettered
    public static let escalations = "gridloop_escalations_total"  // from, to
    public static let resolved = "gridloop_resolved_total"  // level
    public static let unitResolutions = "gridloop_unit_resolutions_total"  // resolvedBy: directory, learned, default
    public static let calendarFallback = "gridloop_calendar_fallback"  // year: 1 while counted Mon–Fri
    public static let ready = "gridloop_ready"
    public static let reloads = "gridloop_config_reloads_total"  // result
    public static let scorecardRefreshed = "gridloop_scorecard_refreshed_cases_total"
    public static let scorecardSetAside = "gridloop_scorecard_set_aside_cases_total"
    public static let casesAtRisk = "gridloop_cases_at_risk"  // level: expected breaches by the end of the working day
    public static let scorecardYields = "gridloop_scorecard_yields_total"  // rounds skipped for the engine's backlog
    public static let analyticsLeader = "gridloop_analytics_leader"  // 1 on the instance holding the analytics lease
    public static let analyticsRounds = "gridloop_analytics_rounds_total"  // task
    public static let analyticsRoundSeconds = "gridloop_analytics_round_seconds"  // task: the last round's duration

    /// Bucket bounds of the value histograms (the duration histograms use the factory's defaults
    /// or `durationBuckets`).
    public static let valueBuckets: [String: [Double]] = [
        batchMessages: [1, 10, 50, 100, 500, 1000, 2000, 5000, 10000]
    ]
    /// Bucket bounds of the duration histograms, in seconds.
    public static let durationBuckets: [String: [Double]] = [
        batchSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        fireLag: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600, 86400],
    ]

    static func source(ofTopic topic: String, _ topics: GridloopConfig.Topics) -> String {
        topic == topics.intake12345 ? "12345" : topic == topics.intake12319 ? "12319" : "other"
    }

    /// Counts a planned batch's outcomes by source.
    static func record(_ planner: IntakePlanner, topics: GridloopConfig.Topics) {
        var counts: [String: [String: Int]] = [:]  // outcome -> source -> n
        for a in planner.applied { counts["applied", default: [:]][a.event.source.rawValue, default: 0] += 1 }
        for h in planner.newlyHeld { counts["held", default: [:]][h.event.source.rawValue, default: 0] += 1 }
        for (s, n) in planner.duplicatesBySource { counts["duplicate", default: [:]][s.rawValue, default: 0] += n }
        for d in planner.deadLetters {
            counts["dead_letter", default: [:]][source(ofTopic: d.coordinates.topic, topics), default: 0] += 1
        }
        for s in planner.skipped {
            counts["skipped", default: [:]][source(ofTopic: s.coordinates.topic, topics), default: 0] += 1
        }
        for (outcome, bySource) in counts {
            for (s, n) in bySource {
                Counter(label: intake, dimensions: [("source", s), ("outcome", outcome)]).increment(by: n)
                if outcome == "dead_letter" { Counter(label: deadLetters, dimensions: [("source", s)]).increment(by: n) }
            }
        }
    }

    /// Counts the SLA decisions of a committed batch or firing round; returns how many of each
    /// kind (short type) there were.
    @discardableResult
    static func record(_ decisions: [DecisionRecord], now: Int64) -> [String: Int] {
        guard !decisions.isEmpty else { return [:] }
        // Counted per round first: a burst is 100,000s of decisions, and each handle lookup takes
        // the registry's lock.
        var kinds: [String: Int] = [:]
        // Keyed by the levels, not by strings built per decision (a burst is 200,000 of them).
        struct Step: Hashable {
            var from: LoopLevel
            var to: LoopLevel
        }
        var escalated: [Step: Int] = [:]
        var resolvedAt: [String: Int] = [:]
        var resolvedBy: [String: Int] = [:]
        let lag = Timer(label: fireLag)
        for r in decisions {
            let d = r.decision
            kinds[d.typeName, default: 0] += 1
            switch d.kind {
            case .escalated(let from, let to, _, _, _, _, let unit):
                escalated[Step(from: from, to: to), default: 0] += 1
                resolvedBy[unit.resolvedBy.rawValue, default: 0] += 1
            case .resolved(let level, _, _, _, _, _):
                resolvedAt[level.rawValue, default: 0] += 1
            case .warning, .overdue, .urge:
                // Timers that fell due: how late, in event time, they fired.
                lag.recordNanoseconds(max(0, now - d.time) * 1_000_000)
            }
        }
        var byKind: [String: Int] = [:]
        for (type, n) in kinds {
            let kind = OutboundEvent.shortType(type)
            byKind[kind] = n
            Counter(label: timersFired, dimensions: [("kind", kind)]).increment(by: n)
        }
        for (by, n) in resolvedBy {
            Counter(label: unitResolutions, dimensions: [("resolvedBy", by)]).increment(by: n)
        }
        for (step, n) in escalated {
            Counter(label: escalations, dimensions: [("from", step.from.rawValue), ("to", step.to.rawValue)])
                .increment(by: n)
        }
        for (level, n) in resolvedAt { Counter(label: resolved, dimensions: [("level", level)]).increment(by: n) }
        return byKind
    }
}

/// What `/readyz`, `STATUS=` and the watchdog need to know, kept up to date by the workers.
public struct HealthState: Sendable, Equatable {
    /// Last successful database round trip (monotonic ns), by the health probe.
    public var databaseOK = false
    public var databaseProblem = "not connected yet"
    /// Whether the consumer currently has a group session and its partitions.
    public var brokersOK = false
    public var brokersProblem = "not connected yet"
    public var assignedPartitions = 0
    /// Sum of the lag over the assigned partitions (messages), -1 if unknown.
    public var lag: Int64 = -1
    public var openCases: Int = -1
    public var outboxBacklog: Int = -1
    /// The intake gaps not acknowledged yet (`IntakeGap.summary`), by the health probe and the
    /// intake: ranges the broker deleted before they were applied.
    public var unacknowledgedGaps: [String] = []
    /// Why the intake's last session ended, when the cause is neither the database's connection
    /// nor the brokers (a schema not migrated, a migration edited since it was applied); nil
    /// once a session has started.
    public var intakeProblem: String?
    /// Heartbeats of the worker loops (monotonic ns): a hung loop stops the watchdog.
    public var intakeBeat: UInt64 = 0
    public var relayBeat: UInt64 = 0

    public init() {}
}

/// Shared, thread-safe health of the running daemon.
public final class Health: Sendable {
    private let box = Mutex(HealthState())
    public init() {}
    public var state: HealthState { box.withLock { $0 } }
    public func update(_ change: (inout HealthState) -> Void) { box.withLock { change(&$0) } }

    /// Ready: database reachable, brokers reachable, partitions assigned, lag under `maxLag`, no
    /// intake gap waiting for an operator's acknowledgement.
    /// Returns the reasons it is not.
    public func readiness(maxLag: Int64) -> [String] {
        let s = state
        var problems: [String] = []
        if !s.databaseOK { problems.append("database: \(s.databaseProblem)") }
        if !s.brokersOK { problems.append("brokers: \(s.brokersProblem)") }
        if s.assignedPartitions == 0 { problems.append("no partitions assigned") }
        if let p = s.intakeProblem { problems.append("intake: \(p)") }
        if s.lag > maxLag { problems.append("intake lag \(s.lag) is above \(maxLag)") }
        if !s.unacknowledgedGaps.isEmpty {
            problems.append(
                "intake gaps not acknowledged (gridloopd gaps list, then gaps ack ID): "
                    + s.unacknowledgedGaps.joined(separator: "; "))
        }
        return problems
    }
}
