import ArgumentParser
import Foundation
import GridloopCore
import GridloopPostgres
import GridloopWorker

struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case", abstract: "Look at cases.", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one case: its state and the events applied to it, in order.",
            discussion: "CASEID is <source>:<order number>, e.g. 12345:HF261123000095.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The case id, <source>:<order number>.") var caseId: String
        @Flag(help: "Print one JSON object.") var json = false

        func run() throws {
            let config = try options.load()
            let db = try PostgresConnectionFactory.connect(config)
            guard var view = try CaseView.load(caseId: caseId, from: db) else {
                throw ValidationError("no case \(caseId) (case ids look like 12345:HF261123000095 or 12319:12319-2026-000001)")
            }
            let sla = try options.loadSLA(config)
            try view.loadSLA(from: db, keeper: ClockKeeper(policy: sla.policy, calendar: sla.calendar),
                             now: Int64(Date().timeIntervalSince1970 * 1000))
            if json {
                print(try view.json())
            } else {
                print(view.text())
            }
        }
    }
}

struct DLQCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Look at dead letters.", subcommands: [List.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List dead letters, newest first.")
        @OptionGroup var options: ConfigOptions
        @Option(help: "At most this many.") var limit = 100
        @Flag(help: "Print a JSON array.") var json = false

        func run() throws {
            let config = try options.load()
            let db = try PostgresConnectionFactory.connect(config)
            let letters = try DeadLetterView.list(limit: limit, from: db)
            if json {
                print(try DeadLetterView.json(letters))
            } else {
                print(DeadLetterView.table(letters))
            }
        }
    }
}
