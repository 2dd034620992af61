import ArgumentParser
import Foundation
import GridloopAnalytics
import GridloopCore
import GridloopViews

/// `gridloopd purge`: applies the retention of personal data now (the daemon does it daily).
struct PurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Apply the retention of personal data: redact old dead letters' bytes, delete old closed cases.",
        discussion: """
            Dead letters older than retention.deadLetterBytes (30d) lose their message bytes; their \
            reason, key, headers, coordinates, length and SHA-256 stay (dlq list shows them; dlq \
            retry refuses them). With retention.closedCases set (default keep), cases closed or \
            withdrawn longer ago are deleted with their events, clocks, SLA decisions and scorecard \
            rows; reports over that period then lack them. The daemon runs this once a day, on one \
            instance of the group. In batches of 1,000 rows, each its own transaction.
            """)
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Count what would be redacted and deleted; change nothing.") var dryRun = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let config = try options.load()
        let db = try CommandDatabase.connectMigrated(config)
        let (report, _) = try Retention.purge(
            config: config, now: Int64(Date().timeIntervalSince1970 * 1000), dryRun: dryRun, db: db)
        print(json ? try prettyJSON(report) : report.text)
    }
}
