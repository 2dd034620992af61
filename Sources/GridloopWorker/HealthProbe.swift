import CoreMetrics
import GridloopCore
import GridloopPostgres
import Logging

// Threading: `run()` owns its thread and its own PostgreSQL connection.

/// Checks the database once a second (for `/readyz`) and refreshes the gauges that need a
/// query (open cases by level, outbox backlog, timers due) every `gaugeSeconds`. Its own
/// connection, so a slow count never holds up the intake.
public final class HealthProbe: Sendable {
    private let config: GridloopConfig
    private let health: Health
    private let logger: Logger
    private let stop: StopSignal
    private let gaugeSeconds: Int

    public init(config: GridloopConfig, health: Health, logger: Logger, stop: StopSignal, gaugeSeconds: Int = 10) {
        self.config = config
        self.health = health
        self.logger = logger
        self.stop = stop
        self.gaugeSeconds = gaugeSeconds
    }

    public func run() {
        var connection: PostgresConnection?
        var lastGauges: UInt64 = 0
        while !stop.isSet {
            do {
                if connection == nil || connection?.isConnected == false {
                    connection = try config.connectDatabase("gridloopd-health")
                }
                try connection!.query("SELECT 1", context: "health check")
                health.update { $0.databaseOK = true; $0.databaseProblem = "" }
                if monotonicNanos() - lastGauges >= UInt64(gaugeSeconds) * 1_000_000_000 {
                    try refreshGauges(connection!)
                    lastGauges = monotonicNanos()
                }
            } catch {
                connection = nil
                // Say why in one line; the workers log their own retries.
                let problem = "\(error)".split(separator: "\n").first.map(String.init) ?? "unreachable"
                health.update { $0.databaseOK = false; $0.databaseProblem = problem }
            }
            stop.sleep(millis: 1000)
        }
    }

    private func refreshGauges(_ db: PostgresConnection) throws {
        let open = try db.query("""
            SELECT level, count(*) FROM cases WHERE status NOT IN ('CLOSED', 'WITHDRAWN') GROUP BY level
            """, context: "count open cases")
        var byLevel: [String: Int] = [:]
        for i in 0..<open.count { byLevel[open.string(i, 0) ?? "?"] = open.int(i, 1) ?? 0 }
        for level in LoopLevel.allCases {
            Gauge(label: Metric.openCases, dimensions: [("level", level.rawValue)]).record(byLevel[level.rawValue] ?? 0)
        }
        let outbox = try db.query("""
            SELECT count(*), COALESCE(extract(epoch FROM now() - min(created_at)), 0)::float8
            FROM outbox
            """, context: "count the outbox backlog")
        let backlog = outbox.int(0, 0) ?? 0
        Gauge(label: Metric.outboxBacklog).record(backlog)
        Gauge(label: Metric.outboxOldest).record(Double(outbox.string(0, 1) ?? "0") ?? 0)
        let due = try db.query("SELECT count(*) FROM case_clocks WHERE next_due <= now()", context: "count due timers")
        Gauge(label: Metric.timersDue).record(due.int(0, 0) ?? 0)
        let openTotal = byLevel.values.reduce(0, +)
        health.update { $0.openCases = openTotal; $0.outboxBacklog = backlog }
    }
}
