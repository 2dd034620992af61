import CoreMetrics
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging

// Threading: `run()` owns its thread and its own PostgreSQL connection.

/// Keeps the scorecard's facts current (`scorecard_handlings`, migration 012): takes the cases
/// whose history changed (queued by the triggers on case_events and sla_decisions) and
/// recomputes their handlings, `ScorecardQueries.refreshBatch` cases a transaction, until the
/// queue is empty; then waits `idleSeconds`. So `report scorecard` only aggregates. Several
/// daemons share the queue (each takes rows the others are not taking). Off the intake's
/// connection and thread: a recomputation never holds up a batch.
public final class ScorecardWorker: Sendable {
    private let config: GridloopConfig
    private let logger: Logger
    private let stop: StopSignal
    private let idleSeconds: Int

    public init(config: GridloopConfig, logger: Logger, stop: StopSignal, idleSeconds: Int = 5) {
        self.config = config
        self.logger = logger
        self.stop = stop
        self.idleSeconds = idleSeconds
    }

    public func run() {
        var connection: PostgresConnection?
        var failing = false
        let counter = Counter(label: Metric.scorecardRefreshed)
        let setAside = Counter(label: Metric.scorecardSetAside)
        while !stop.isSet {
            var drained = true
            do {
                if connection == nil || connection?.isConnected == false {
                    connection = try config.connectDatabase("gridloopd-scorecard")
                    try ScorecardQueries.prepareSession(connection!)
                }
                let r = try ScorecardQueries.refresh(limit: ScorecardQueries.refreshBatch, db: connection!)
                counter.increment(by: r.taken - r.setAside.count)
                for (caseId, problem) in r.setAside {
                    setAside.increment()
                    logger.error(
                        "scorecard worker: cannot recompute a case's handlings; set aside (its earlier handlings stay counted; its next change queues it again)",
                        metadata: ["case_id": "\(caseId)", "problem": "\(problem)"])
                }
                drained = r.taken < ScorecardQueries.refreshBatch
                if failing {
                    failing = false
                    logger.notice("scorecard worker: recomputing again")
                }
            } catch {
                connection = nil
                if !failing {
                    failing = true
                    let problem = "\(error)".split(separator: "\n").first.map(String.init) ?? "unknown"
                    logger.warning(
                        "scorecard worker: cannot recompute the scorecard's facts; retrying (reports recompute what is queued themselves)",
                        metadata: ["problem": "\(problem)"])
                }
            }
            if drained { stop.sleep(millis: idleSeconds * 1000) }
        }
    }
}
