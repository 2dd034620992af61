import CoreMetrics
import GridloopCore
import GridloopPipeline
import GridloopSettings
import GridloopStore
import Logging

// Threading: `run()` owns its thread, its connection (the lease's) and its tasks.

/// Runs the analytics (`AnalyticsTask`s: the scorecard's facts, the at-risk gauge, the morning
/// digest) in one instance of the consumer group at a time: the one whose connection holds the
/// group's lease (`AnalyticsLease`, a session-level advisory lock). The others try to take it
/// every `leaseRetryMillis` and do no analytics work meanwhile; when the holder dies, its
/// session ends, and a survivor's next try takes over. Every round runs on the lease's
/// connection, so none runs after the lease is lost. Off the engine's threads and connections.
public final class AnalyticsLeader: Sendable {
    private let config: GridloopConfig
    private let logger: Logger
    private let stop: StopSignal
    private let keeper: @Sendable () -> ClockKeeper
    private let onQueued: @Sendable () -> Void
    private let leaseRetryMillis: Int

    /// Whether there is any task: the retention purge always runs, whatever `analytics.*` say.
    public var runsAnything: Bool { true }

    /// `keeper`: the policy and calendars in force (the intake's, after a reload too);
    /// `onQueued`: the digests are in the outbox (wakes the relay). 10 s between tries: a
    /// survivor takes over within a quarter of a minute of the holder's death.
    public init(
        config: GridloopConfig, logger: Logger, stop: StopSignal, keeper: @escaping @Sendable () -> ClockKeeper,
        leaseRetryMillis: Int = 10_000, onQueued: @escaping @Sendable () -> Void
    ) {
        self.config = config
        self.logger = logger
        self.stop = stop
        self.keeper = keeper
        self.onQueued = onQueued
        self.leaseRetryMillis = leaseRetryMillis
    }

    private func makeTasks() -> [any AnalyticsTask] {
        var tasks: [any AnalyticsTask] = []
        if config.analyticsScorecard { tasks.append(ScorecardTask(logger: logger)) }
        if config.analyticsGauge { tasks.append(AtRiskGauge(config: config, keeper: keeper)) }
        if config.analyticsDigest {
            tasks.append(DigestTask(config: config, keeper: keeper, logger: logger, onQueued: onQueued))
        }
        // Not analytics but housekeeping, once per group as well: the retention of personal data.
        tasks.append(RetentionTask(config: config, logger: logger))
        return tasks
    }

    public func run() {
        var tasks = makeTasks()
        guard !tasks.isEmpty else { return }
        let names = tasks.map(\.name).joined(separator: ",")
        let leader = Gauge(label: Metric.analyticsLeader)
        leader.record(0)
        let rounds = tasks.map { Counter(label: Metric.analyticsRounds, dimensions: [("task", $0.name)]) }
        let seconds = tasks.map { Gauge(label: Metric.analyticsRoundSeconds, dimensions: [("task", $0.name)]) }
        var next = [UInt64](repeating: 0, count: tasks.count)
        var failing = [Bool](repeating: false, count: tasks.count)
        var holding = false
        func release() {
            guard holding else { return }
            holding = false
            leader.record(0)
            for i in tasks.indices { tasks[i].lost() }
        }
        WorkerLoop(name: "analytics", logger: logger, stop: stop).run(
            open: { try config.connectDatabase("gridloopd-analytics") },
            round: { db in
                if !holding {
                    guard try AnalyticsLease.tryTake(group: config.consumerGroup, db: db) else {
                        return .after(millis: leaseRetryMillis)
                    }
                    holding = true
                    for i in tasks.indices {
                        try tasks[i].opened(db)
                        next[i] = 0
                    }
                    leader.record(1)
                    logger.notice(
                        "analytics lease taken: this instance runs the group's analytics",
                        metadata: ["tasks": "\(names)", "group": "\(config.consumerGroup)"])
                }
                for i in tasks.indices where !stop.isSet && next[i] <= monotonicNanos() {
                    let started = monotonicNanos()
                    var wait: Int
                    do {
                        wait = try tasks[i].round(db)
                        if failing[i] {
                            failing[i] = false
                            logger.notice("analytics: \(tasks[i].name) computing again")
                        }
                    } catch {
                        // The lease went with the connection.
                        if !db.isConnected || Database.lostConnection(error) { throw error }
                        // This task's problem (its data, a statement refused): the others go on.
                        wait = 60_000
                        if !failing[i] {
                            failing[i] = true
                            let problem = "\(error)".split(separator: "\n").first.map(String.init) ?? "unknown"
                            logger.warning(
                                "analytics: \(tasks[i].name) round failed; retrying every minute",
                                metadata: ["problem": "\(problem)"])
                        }
                    }
                    let now = monotonicNanos()
                    rounds[i].increment()
                    seconds[i].record(Double(now - started) / 1e9)
                    next[i] = now + UInt64(wait) * 1_000_000
                }
                let now = monotonicNanos()
                let soonest = next.min() ?? now
                return soonest <= now ? .now : .after(millis: Int((soonest - now + 999_999) / 1_000_000))
            },
            failed: { _, _ in
                if holding {
                    logger.warning("analytics lease lost with its connection: another instance may take it over")
                }
                release()
            })
    }
}
