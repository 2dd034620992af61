import ArgumentParser
import Foundation
import GridloopCore
import GridloopForesight
import GridloopSettings
import GridloopStore

/// `gridloopd whatif`: what a candidate policy would have decided on a period's history.
struct WhatIfCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whatif",
        abstract: "Replay the stored events of every case dispatched in a period under a candidate SLA policy and "
            + "under the policy in force, in memory (no write, no event), and print both side by side.",
        discussion: """
            Warnings, overdue, escalations per level, urges, the 7-2-1 shares, breach rates per level and \
            category, and the cases whose outcome differs; then how exactly the replay under the policy in \
            force reproduces the decisions stored (same ids, types and instants). A replay keeps every event \
            where it happened: it cannot know how the units would have behaved under other limits. \
            Definitions: docs/WHATIF.md.
            Example: gridloopd whatif --policy /etc/gridloop/policy-next.yaml --from 2026-11-01 --to 2026-11-30
            """)

    @OptionGroup var options: ConfigOptions
    @Option(help: "The candidate policy file (the format of deploy/policy.yaml).", completion: .file()) var policy: String
    @Option(help: "First day of dispatch, YYYY-MM-DD (Asia/Shanghai), inclusive.") var from: String
    @Option(help: "Last day of dispatch, YYYY-MM-DD (Asia/Shanghai), inclusive.") var to: String
    @Option(help: "Let time pass to this instant (RFC 3339); default now.") var until: String?
    @Option(help: "How many differing cases the text lists.") var sample = 20
    @Flag(help: "Print one JSON object (every differing case).") var json = false
    @Option(
        help:
            "Also write a self-contained HTML page (both policies side by side, bars, a sample of the differing cases) to this file."
    )
    var html: String?

    func validate() throws {
        for (name, value) in [("--from", from), ("--to", to)] where LocalDate(value) == nil {
            throw ValidationError("\(name): expected a date YYYY-MM-DD, got '\(value)'")
        }
        if let a = LocalDate(from), let b = LocalDate(to), a.day > b.day { throw ValidationError("--from is after --to") }
        if let until, RFC3339.parse(until) == nil {
            throw ValidationError("--until: an instant in RFC 3339 with an offset, got '\(until)'")
        }
    }

    func run() throws {
        let config = try options.load()
        let sla = try options.loadSLA(config)
        let candidate: SLAPolicy
        do {
            candidate = try PolicyLoader.load(file: policy)
        } catch let error as ConfigError {
            throw ValidationError("candidate policy refused: \(error)")
        }
        let db = try CommandDatabase.connectMigrated(config)
        let end = until.flatMap(RFC3339.parse) ?? Int64(Date().timeIntervalSince1970 * 1000)
        let result = try WhatIf.run(from: from, to: to, candidate: candidate, inForce: sla.keeper, until: end, db: db)
        if let html {
            do {
                try result.html(deployment: config.deploymentName).write(toFile: html, atomically: true, encoding: .utf8)
            } catch {
                throw CommandFailure(message: "cannot write the HTML page \(html): \(error.localizedDescription)")
            }
        }
        print(json ? try result.json() : result.text(sample: sample))
        if let html, !json { print("\nHTML page written to \(html)") }
    }
}
