import CoreMetrics
import Foundation
import GridloopCore
import GridloopPipeline
import GridloopSettings
import GridloopStore
import Logging

/// The daily purge, on the group's analytics lease holder: once when it takes the lease, then
/// every day; a backlog (the first purge after retention was set) goes in rounds of
/// `maxBatches` batches, so the other tasks run between them.
public struct RetentionTask: AnalyticsTask {
    public let name = "retention"
    private let config: GridloopConfig
    private let logger: Logging.Logger
    /// Batches of each kind per round: 20,000 rows, seconds of work at most.
    static let maxBatches = 20
    private let redacted = Counter(label: Metric.retentionRedacted)
    private let deleted = Counter(label: Metric.retentionDeletedCases)

    public init(config: GridloopConfig, logger: Logging.Logger) {
        self.config = config
        self.logger = logger
    }

    public mutating func round(_ db: Database) throws -> Int {
        let (report, more) = try Retention.purge(
            config: config, now: Int64(Date().timeIntervalSince1970 * 1000), dryRun: false, maxBatches: Self.maxBatches,
            db: db)
        redacted.increment(by: report.deadLetters.redacted)
        deleted.increment(by: report.closedCases.cases)
        if report.deadLetters.redacted > 0 || report.closedCases.cases > 0 {
            logger.notice(
                "retention applied",
                metadata: [
                    "dead_letters_redacted": "\(report.deadLetters.redacted)",
                    "dead_letters_before": "\(report.deadLetters.before)",
                    "cases_deleted": "\(report.closedCases.cases)",
                    "cases_before": "\(report.closedCases.before ?? "keep")",
                    "more": "\(more)",
                ])
        }
        return more ? 1000 : 86_400_000
    }
}
