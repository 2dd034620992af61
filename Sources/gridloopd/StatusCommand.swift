import ArgumentParser
import Foundation
import GridloopCore
import GridloopEvaluation
import GridloopSettings
import GridloopStore
import GridloopViews

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Lag per partition, outbox backlog, oldest due timer, dead letters today, open cases by level.")
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        let config = try options.load()
        let db = try CommandDatabase.connectMigrated(config)
        let status = try StatusView.load(config: config, db: db)
        print(json ? try status.json() : status.text())
    }
}
