import CoreMetrics
import GridloopCore
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging

// Threading: `run()` owns its thread and its own PostgreSQL connection.

/// Checks the database once a second (for `/readyz`) and refreshes the gauges that need a
/// query: the outbox backlog and the timers due every `gaugeSeconds`, the open cases by level
/// every `openCasesSeconds`. Its own connection, so a slow count never holds up the intake.
public final class HealthProbe: Sendable {
    private let config: GridloopConfig
    private let health: Health
    private let logger: Logger
    private let stop: StopSignal
    private let gaugeSeconds: Int
    private let openCasesSeconds: Int

    /// How long the probe waits for `SELECT 1`. A server that stops answering (frozen, or the
    /// network gone without a reset) would otherwise hold the probe in libpq for ever, and
    /// `/readyz` would keep the last answer, "ready"; `statement_timeout` does not fire in a
    /// stopped server. An answering server replies in milliseconds.
    public static let queryTimeout: Duration = .seconds(5)
    /// How long the probe waits for a gauge's count (a scan of `cases` may take a while on a
    /// large district; while it runs, `/readyz` keeps the answer of the `SELECT 1` before it).
    public static let gaugeTimeout: Duration = .seconds(30)

    /// Counting the open cases reads every row of `cases` (a million in a large district), hence
    /// its longer period; the other two counts read an index range each.
    public init(
        config: GridloopConfig, health: Health, logger: Logger, stop: StopSignal, gaugeSeconds: Int = 10,
        openCasesSeconds: Int = 60
    ) {
        self.config = config
        self.health = health
        self.logger = logger
        self.stop = stop
        self.gaugeSeconds = gaugeSeconds
        self.openCasesSeconds = openCasesSeconds
    }

    public func run() {
        var lastGauges: UInt64?
        var lastOpenCases: UInt64?
        func due(_ last: UInt64?, _ seconds: Int) -> Bool {
            last.map { monotonicNanos() - $0 >= UInt64(seconds) * 1_000_000_000 } ?? true
        }
        // Every second, also while failing: readiness follows the database within a second.
        WorkerLoop(
            name: "health probe", logger: logger, stop: stop, failureLevel: .error,
            failureMessage: "database fails the health check: not ready",
            recoveryMessage: "database answers the health check again", retryMillis: { _ in 1000 }
        ).run(
            open: { try config.connectDatabase("gridloopd-health") },
            round: { db in
                try HealthQueries.ping(db, timeout: Self.queryTimeout)
                health.update {
                    $0.databaseOK = true
                    $0.databaseProblem = ""
                }
                // A gap keeps /readyz failing until acknowledged, by this daemon or from any other
                // process (`gridloopd gaps ack`): read every second, a partial index's few rows.
                let gaps = try IntakeGapView.list(
                    consumerGroup: config.consumerGroup, open: true, limit: 10, from: db, timeout: Self.queryTimeout)
                health.update { $0.unacknowledgedGaps = gaps.reversed().map(\.summary) }
                Gauge(label: Metric.gapsUnacknowledged).record(gaps.count)
                if due(lastOpenCases, openCasesSeconds) {
                    try countOpenCases(db)
                    lastOpenCases = monotonicNanos()
                }
                if due(lastGauges, gaugeSeconds) {
                    try refreshGauges(db)
                    lastGauges = monotonicNanos()
                }
                return .after(millis: 1000)
            },
            failed: { [health] problem, _ in
                health.update {
                    $0.databaseOK = false
                    $0.databaseProblem = problem
                }
            })
    }

    private func countOpenCases(_ db: PostgresConnection) throws {
        let byLevel = try HealthQueries.openCasesByLevel(db, timeout: Self.gaugeTimeout)
        for level in LoopLevel.allCases {
            Gauge(label: Metric.openCases, dimensions: [("level", level.rawValue)]).record(byLevel[level.rawValue] ?? 0)
        }
        let total = byLevel.values.reduce(0, +)
        health.update { $0.openCases = total }
    }

    private func refreshGauges(_ db: PostgresConnection) throws {
        let (backlog, oldest) = try HealthQueries.outboxBacklog(db, timeout: Self.gaugeTimeout)
        Gauge(label: Metric.outboxBacklog).record(backlog)
        Gauge(label: Metric.outboxOldest).record(oldest)
        let due = try HealthQueries.timersDue(db, timeout: Self.gaugeTimeout)
        Gauge(label: Metric.timersDue).record(due.count)
        Gauge(label: Metric.timersOldestDue).record(due.oldestSeconds)
        health.update { $0.outboxBacklog = backlog }
    }
}
