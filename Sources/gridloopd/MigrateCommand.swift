import ArgumentParser
import Foundation
import GridloopSettings
import GridloopStore
import Logging

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or upgrade the database schema.")
    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let connection = try CommandDatabase.connect(config)
        let applied = try Migrator.migrate(connection, appliedBy: gridloopVersion)
        print(applied.isEmpty ? "schema is up to date" : "applied: \(applied.joined(separator: ", "))")
    }
}
