import ArgumentParser
import Foundation
import GridloopCore
import GridloopEvaluation
import GridloopSettings
import GridloopStore
import GridloopViews

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
            let db = try CommandDatabase.connectMigrated(config)
            guard var view = try CaseView.load(caseId: caseId, from: db) else {
                throw CommandFailure(
                    message: "no case \(caseId) (case ids look like 12345:HF261123000095 or 12319:12319-2026-000001)")
            }
            let sla = try options.loadSLA(config)
            try view.loadSLA(
                from: db, keeper: sla.keeper,
                now: Int64(Date().timeIntervalSince1970) * 1000)  // whole seconds, as asOf shows it
            if json {
                print(try view.json())
            } else {
                print(view.text())
            }
        }
    }
}
