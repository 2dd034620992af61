import CoreMetrics
import GridloopPipeline
import GridloopStore
import Logging

/// Keeps the scorecard's facts current (`scorecard_handlings`, migration 012): takes the cases
/// whose history changed (queued by the triggers on case_events and sla_decisions) and
/// recomputes their handlings, `ScorecardQueries.refreshBatch` cases a transaction, round
/// after round until the queue is empty; then every `idleMillis`. So `report scorecard` only
/// aggregates.
///
/// It yields to the ladder: while the engine has a backlog or works through one (more than
/// `busyDueClocks` clocks due and not fired, `busyOutboxRows` rows waiting in the outbox, or an
/// intake applying, or a ladder writing events, more than `busyRate` a second: a burst of
/// deadlines, a broker outage, a catch-up after downtime), it recomputes nothing and looks again after a second, for at most
/// `maxYieldMillis` in a row (then one batch, so that the facts never wait for ever on a
/// ladder that stays busy). A burst's recomputation so runs after the burst has been
/// published, and a catch-up's after the intake has caught up, not during them.
public struct ScorecardTask: AnalyticsTask {
    public let name = "scorecard"
    private let logger: Logger
    private let idleMillis: Int
    /// A trickle of due clocks is the firing's normal state (it fires within a second); a
    /// thousand is a burst.
    static let busyDueClocks = 1_000
    /// Five relay rounds' worth (`relay.batchSize` 1,000 by default).
    static let busyOutboxRows = 5_000
    /// A live ladder applies and decides tens a second; a catch-up or a burst thousands.
    static let busyRate = 1_000
    static let maxYieldMillis = 300_000
    private var yieldingSince: UInt64?
    /// The stored offsets' sum and the outbox's sequence at the last look, and when (monotonic ns).
    private var last: (offsets: Int64, written: Int64, at: UInt64)?
    private let refreshed = Counter(label: Metric.scorecardRefreshed)
    private let setAside = Counter(label: Metric.scorecardSetAside)
    private let yielded = Counter(label: Metric.scorecardYields)

    public init(logger: Logger, idleMillis: Int = 5_000) {
        self.logger = logger
        self.idleMillis = idleMillis
    }

    public mutating func opened(_ db: Database) throws {
        try ScorecardQueries.prepareSession(db)
        yieldingSince = nil
    }

    public mutating func round(_ db: Database) throws -> Int {
        let now = monotonicNanos()
        if try engineBusy(db, now: now) {
            let since = yieldingSince ?? now
            yieldingSince = since
            if now - since < UInt64(Self.maxYieldMillis) * 1_000_000 {
                yielded.increment()
                return 1_000
            }
        }
        yieldingSince = nil
        let r = try ScorecardQueries.refresh(limit: ScorecardQueries.refreshBatch, db: db)
        refreshed.increment(by: r.taken - r.setAside.count)
        if r.requeuedAll {
            logger.warning(
                "scorecard worker: the unlogged queue was reset (PostgreSQL crashed or stopped in immediate mode, a standby was promoted, or a base backup was restored); every case is queued for recomputation"
            )
        }
        for (caseId, problem) in r.setAside {
            setAside.increment()
            logger.error(
                "scorecard worker: cannot recompute a case's handlings; set aside (its earlier handlings stay counted; its next change queues it again)",
                metadata: ["case_id": "\(caseId)", "problem": "\(problem)"])
        }
        return r.taken < ScorecardQueries.refreshBatch ? idleMillis : 0
    }

    /// Whether the engine has a backlog now (see the type's comment).
    private mutating func engineBusy(_ db: Database, now: UInt64) throws -> Bool {
        let load = try AnalyticsLease.engineLoad(
            dueClocks: Self.busyDueClocks, outboxRows: Self.busyOutboxRows, db: db)
        defer { last = (load.appliedOffsets, load.outboxWritten, now) }
        if load.dueClocks > Self.busyDueClocks || load.outboxRows > Self.busyOutboxRows { return true }
        guard let last, now > last.at else { return false }
        let seconds = Double(now - last.at) / 1e9
        let applied = Double(load.appliedOffsets - last.offsets) / seconds
        let written = Double(load.outboxWritten - last.written) / seconds
        return max(applied, written) > Double(Self.busyRate)
    }
}
