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
    public static let buildInfo = "gridloop_build_info"  // version: always 1
    public static let partitionsAssigned = "gridloop_intake_partitions_assigned"  // 0 on a standby instance
    public static let timersOldestDue = "gridloop_timers_oldest_due_seconds"  // how late the oldest due clock is
    public static let gapsUnacknowledged = "gridloop_intake_gaps_unacknowledged"
    public static let digestOverdue = "gridloop_digest_overdue"  // 1: a working morning past the digest's time, none sent
    public static let retentionRedacted = "gridloop_retention_dead_letters_redacted_total"
    public static let retentionDeletedCases = "gridloop_retention_cases_deleted_total"

    /// The `# HELP` text of every metric, by name: the exposition's only documentation, so it
    /// says what a value means and how to add it up across the instances of a group. The gauges
    /// marked "whole database" have the same value in every instance: aggregate them with max.
    public static let help: [String: String] = [
        intake: "Intake messages by source platform and outcome (applied, held, duplicate, dead_letter, skipped).",
        consumerLag: "Messages not yet read, per intake partition this instance holds (sum over instances).",
        intakeGapMessages: "Messages the broker deleted before they were applied (recorded intake gaps), per partition.",
        batchMessages: "Messages per intake batch.",
        batchSeconds: "Seconds from a batch's poll to its database commit.",
        cacheCases: "Cases held in this instance's intake cache.",
        cacheBytes: "Estimated bytes of this instance's intake cache (bounded by intake.cacheMemory).",
        openCases: "Open cases by loop level (whole database: the same in every instance, aggregate with max).",
        timersDue: "SLA clocks due and not fired yet (whole database: aggregate with max).",
        timersOldestDue:
            "Seconds since the oldest unfired due SLA clock fell due, 0 if none (whole database: aggregate with max).",
        timersFired: "SLA decisions by kind (supervision.warning, supervision.overdue, supervision.urge, escalated, resolved).",
        fireLag: "Seconds from a clock's due instant to its firing.",
        outboxBacklog: "Outbox rows not yet published (whole database: aggregate with max).",
        outboxOldest: "Age in seconds of the oldest unpublished outbox row (whole database: aggregate with max).",
        published: "Outbound events published, by topic.",
        publishErrors: "Outbound publish attempts that failed (retried).",
        deadLetters: "Intake messages sent to the dead-letter topic, by source platform.",
        isolated: "Messages the database refused, isolated from their batch and dead-lettered, by source.",
        escalations: "Cases escalated up the ladder, by level from and to.",
        resolved: "Cases resolved, by the level that resolved them.",
        unitResolutions: "Units resolved for new cases, by how (directory, learned, default).",
        calendarFallback: "1 while a year has no official calendar installed and is counted Monday to Friday.",
        ready: "1 when this instance is ready (database, brokers, group joined; active or standby), else 0.",
        reloads: "Configuration reloads (SIGHUP), by result.",
        scorecardRefreshed: "Cases whose scorecard facts were recomputed.",
        scorecardSetAside: "Cases set aside by the scorecard (their facts could not be computed; see the log).",
        casesAtRisk: "Open clocks expected to breach by the end of the working day, by level (analytics lease holder only).",
        scorecardYields: "One-second waits of the scorecard worker while the engine had a backlog.",
        analyticsLeader: "1 on the instance holding the group's analytics lease, else 0 (max over a group: 1).",
        analyticsRounds: "Analytics rounds run, by task.",
        analyticsRoundSeconds: "Duration in seconds of the last analytics round, by task.",
        buildInfo: "Always 1; the label version is the running build's.",
        partitionsAssigned: "Intake partitions this instance holds; 0 on a standby instance.",
        gapsUnacknowledged:
            "Intake gaps waiting for an operator's acknowledgement (gridloopd gaps list, gaps ack; whole database: aggregate with max).",
        digestOverdue:
            "1 when a working morning has passed the digest's time and no digest was written (analytics lease holder only).",
        retentionRedacted: "Dead letters whose message bytes were redacted under retention.deadLetterBytes.",
        retentionDeletedCases: "Closed cases deleted under retention.closedCases, with their events, clocks and decisions.",
    ]

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

    /// Creates the series whose labels are known in advance at 0, so that a rate or an
    /// increase over them (the alerting rules' dead letters, escalations, ...) has a series to
    /// work on before the first event, and `/metrics` names every metric from the start.
    public static func declare(_ config: GridloopConfig, version: String) {
        Gauge(label: buildInfo, dimensions: [("version", version)]).record(1)
        let sources = ["12345", "12319"]
        for s in sources {
            for outcome in ["applied", "held", "duplicate", "dead_letter", "skipped"] {
                Counter(label: intake, dimensions: [("source", s), ("outcome", outcome)]).increment(by: 0)
            }
            Counter(label: deadLetters, dimensions: [("source", s)]).increment(by: 0)
            Counter(label: isolated, dimensions: [("source", s)]).increment(by: 0)
        }
        for kind in ["supervision.warning", "supervision.overdue", "supervision.urge", "escalated", "resolved"] {
            Counter(label: timersFired, dimensions: [("kind", kind)]).increment(by: 0)
        }
        for level in LoopLevel.allCases {
            Counter(label: resolved, dimensions: [("level", level.rawValue)]).increment(by: 0)
            if let up = LoopLevel.allCases.first(where: { $0.rank == level.rank + 1 }) {
                Counter(label: escalations, dimensions: [("from", level.rawValue), ("to", up.rawValue)]).increment(by: 0)
            }
        }
        for by in UnitResolvedBy.allCases {
            Counter(label: unitResolutions, dimensions: [("resolvedBy", by.rawValue)]).increment(by: 0)
        }
        for result in ["applied", "refused"] { Counter(label: reloads, dimensions: [("result", result)]).increment(by: 0) }
        for topic in [
            config.topics.supervision, config.topics.escalations, config.topics.outcomes, config.topics.reports,
            config.topics.deadLetter,
        ] {
            Counter(label: published, dimensions: [("topic", topic)]).increment(by: 0)
        }
        Counter(label: publishErrors).increment(by: 0)
        Counter(label: scorecardRefreshed).increment(by: 0)
        Counter(label: scorecardSetAside).increment(by: 0)
        Counter(label: scorecardYields).increment(by: 0)
        Counter(label: retentionRedacted).increment(by: 0)
        Counter(label: retentionDeletedCases).increment(by: 0)
        Gauge(label: partitionsAssigned).record(0)
        Gauge(label: gapsUnacknowledged).record(0)
        Gauge(label: ready).record(0)
    }

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
            case .escalated(let e):
                escalated[Step(from: e.from, to: e.to), default: 0] += 1
                resolvedBy[e.toUnit.resolvedBy.rawValue, default: 0] += 1
            case .resolved(let r):
                resolvedAt[r.level.rawValue, default: 0] += 1
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
