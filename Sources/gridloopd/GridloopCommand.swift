import ArgumentParser
import Foundation
import GridloopSettings
import GridloopStore
import Logging

@main
struct Gridloopd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gridloopd",
        abstract: "Gridloop: the escalation engine behind the 12345/12319 hotline ladder.",
        discussion: """
            Consumes the hotline intake topics into PostgreSQL effectively once. Configuration comes \
            from --config (YAML) with GRIDLOOP_* environment variables on top; see the README.
            """,
        version: gridloopVersion,
        subcommands: [
            Run.self, Migrate.self, CheckConfig.self, DeadlineCommand.self, CaseCommand.self, DLQCommand.self, GapsCommand.self,
            StatusCommand.self, ReportCommand.self, UnitsCommand.self, ForecastCommand.self, WhatIfCommand.self,
            PurgeCommand.self,
        ])

    /// ArgumentParser's, except for what it would print with the usage text: only a usage error
    /// gets that (exit 64). A refused configuration exits 78, any other failure 1, each said as
    /// one journald line at error priority (`StartupFailure`).
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            exit(withError: error)
        }
        do {
            try command.run()
        } catch let failure as StartupFailure {
            failure.exit()
        } catch let error as ConfigError {
            StartupFailure.config("configuration", error).exit()
        } catch let error where String(reflecting: type(of: error)).hasPrefix("ArgumentParser.") {
            // ArgumentParser's own: a usage error (ValidationError), an exit code, the `help`
            // subcommand's help request (an internal type), ...
            exit(withError: error)
        } catch {
            StartupFailure.fatal("gridloopd \(type(of: command).configuration.commandName ?? ""): \(error)").exit()
        }
    }
}
