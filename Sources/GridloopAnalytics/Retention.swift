import CoreMetrics
import Foundation
import GridloopCore
import GridloopPipeline
import GridloopSettings
import GridloopStore
import Logging

/// Retention of personal data (docs/OPERATIONS.md, "Retention of personal data"): after
/// `retention.deadLetterBytes` a dead letter's message bytes are redacted (reason, key, headers,
/// coordinates, length and SHA-256 stay); after `retention.closedCases`, if set, a closed or
/// withdrawn case goes with its events, clocks, SLA decisions and scorecard rows. Run by
/// `gridloopd purge` and, daily, by the group's analytics lease holder (`RetentionTask`).
public enum Retention {
    /// What a purge did, or would do (`dryRun`).
    public struct Report: Codable, Sendable, Equatable {
        public var dryRun: Bool
        public var deadLetters: DeadLetters
        public var closedCases: ClosedCases

        public struct DeadLetters: Codable, Sendable, Equatable {
            public var retentionDays: Int
            /// Dead letters created before this instant lose their bytes (RFC 3339).
            public var before: String
            /// Redacted by this purge (or to redact, on a dry run).
            public var redacted: Int
            public var oldest: String?
        }

        public struct ClosedCases: Codable, Sendable, Equatable {
            /// nil: `keep`, nothing is deleted.
            public var retentionDays: Int?
            public var before: String?
            public var cases: Int
            public var events: Int
            public var clocks: Int
            public var decisions: Int
            public var scorecardRows: Int
            public var oldestClosed: String?
            public var newestClosed: String?
            /// What a report then lacks: reports (721, scorecard, what-if) over a period that
            /// ends before `before` no longer count the cases closed then.
            public var reportsLack: String?
        }

        public var text: String {
            var lines: [String] = []
            let verb = dryRun ? "would redact" : "redacted"
            lines.append(
                "dead letters: \(verb) \(deadLetters.redacted) created before \(deadLetters.before) "
                    + "(retention.deadLetterBytes \(deadLetters.retentionDays)d)"
                    + (deadLetters.oldest.map { ", the oldest from \($0)" } ?? ""))
            if let days = closedCases.retentionDays, let before = closedCases.before {
                let verb = dryRun ? "would delete" : "deleted"
                var line = "closed cases: \(verb) \(closedCases.cases) closed before \(before) (retention.closedCases \(days)d)"
                if !dryRun {
                    line +=
                        " with \(closedCases.events) events, \(closedCases.clocks) clocks, \(closedCases.decisions) decisions, "
                        + "\(closedCases.scorecardRows) scorecard rows"
                }
                lines.append(line)
                if let lack = closedCases.reportsLack { lines.append("  " + lack) }
            } else {
                lines.append("closed cases: kept (retention.closedCases keep)")
            }
            return lines.joined(separator: "\n")
        }
    }

    /// Applies the retention of `config` at `now` (epoch ms), or only counts (`dryRun`).
    /// `maxBatches`: at most this many batches of each kind (`RetentionQueries.batchRows` rows
    /// each); `more` is then true if some were left for the next run.
    public static func purge(
        config: GridloopConfig, now: Int64, dryRun: Bool, maxBatches: Int = .max, db: Database
    ) throws -> (report: Report, more: Bool) {
        let letterCutoff = RFC3339.format(now - Int64(config.retentionDeadLetterDays) * LocalDate.dayMillis)
        let pending = try RetentionQueries.deadLettersToRedact(before: letterCutoff, db: db)
        var redacted = pending.count
        var more = false
        if !dryRun {
            redacted = 0
            var batches = 0
            while batches < maxBatches {
                let n = try RetentionQueries.redactDeadLetters(before: letterCutoff, db: db)
                redacted += n
                batches += 1
                if n < RetentionQueries.batchRows { break }
                if batches == maxBatches { more = true }
            }
        }
        var cases = Report.ClosedCases(
            retentionDays: config.retentionClosedCaseDays, before: nil, cases: 0, events: 0, clocks: 0, decisions: 0,
            scorecardRows: 0)
        if let days = config.retentionClosedCaseDays {
            let cutoff = RFC3339.format(now - Int64(days) * LocalDate.dayMillis)
            cases.before = cutoff
            let found = try RetentionQueries.closedCasesToDelete(before: cutoff, db: db)
            cases.oldestClosed = found.oldest
            cases.newestClosed = found.newest
            cases.cases = found.count
            if found.count > 0 {
                cases.reportsLack =
                    "reports over a period before \(cutoff) (721, scorecard, what-if) no longer count the cases closed then; "
                    + "scorecards already published (report_publications) stay as published"
            }
            if !dryRun {
                var deleted = RetentionQueries.Deleted()
                var batches = 0
                while batches < maxBatches {
                    let d = try RetentionQueries.deleteClosedCases(before: cutoff, db: db)
                    deleted.add(d)
                    batches += 1
                    if d.cases < RetentionQueries.batchRows { break }
                    if batches == maxBatches { more = true }
                }
                cases.cases = deleted.cases
                cases.events = deleted.events
                cases.clocks = deleted.clocks
                cases.decisions = deleted.decisions
                cases.scorecardRows = deleted.scorecardRows
            }
        }
        let report = Report(
            dryRun: dryRun,
            deadLetters: .init(
                retentionDays: config.retentionDeadLetterDays, before: letterCutoff, redacted: redacted, oldest: pending.oldest),
            closedCases: cases)
        return (report, more)
    }
}
