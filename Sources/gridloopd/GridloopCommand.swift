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

/// Options every command shares.
struct ConfigOptions: ParsableArguments {
    /// Where an installed package keeps the configuration: used when it exists and neither
    /// `--config` nor `GRIDLOOP_CONFIG` names a file.
    static let installedConfig = "/etc/gridloop/gridloopd.yaml"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "YAML configuration file (environment variables override it).",
            discussion: "Default: $GRIDLOOP_CONFIG, else \(installedConfig) if it exists (GRIDLOOP_CONFIG= empty: no file)."))
    var config: String?

    /// The file the configuration comes from: `--config`, else `$GRIDLOOP_CONFIG` (empty: none),
    /// else the installed package's file when it exists; nil: built-in defaults and environment.
    var file: String? {
        if let config { return config }
        if let named = ProcessInfo.processInfo.environment["GRIDLOOP_CONFIG"] { return named.isEmpty ? nil : named }
        return FileManager.default.fileExists(atPath: Self.installedConfig) ? Self.installedConfig : nil
    }

    func load() throws -> GridloopConfig {
        do {
            return try GridloopConfig.load(file: file, environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigError {
            throw StartupFailure.config("configuration", error)
        }
    }

    /// The SLA policy, calendars and unit directory of `config`, validated.
    func loadSLA(_ config: GridloopConfig) throws -> SLASettings {
        do {
            return try SLASettings.load(config)
        } catch let error as ConfigError {
            throw StartupFailure.config("SLA policy, calendar or unit directory", error)
        }
    }
}

func makeLogger(_ label: String, level: String) -> Logger {
    let levels = LogLevelSwitch(Logger.Level(rawValue: level) ?? .info)
    return Logger(label: label) { label in JournalLogHandler(label: label, level: levels) }
}

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

struct CheckConfig: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract:
            "Validate the configuration, the SLA policy, the calendars and the unit directory without connecting to anything."
    )
    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print the table of configuration keys (markdown, as in docs/OPERATIONS.md) instead.") var keys = false

    func run() throws {
        if keys {
            print(GridloopConfig.keysTable())
            return
        }
        let config = try options.load()
        let sla = try options.loadSLA(config)
        print("configuration OK: \(options.file ?? "(no file: built-in defaults and environment)")")
        print("  kafka.brokers        \(config.brokers)")
        print("  kafka.consumerGroup  \(config.consumerGroup)")
        print(
            "  topics               \(config.topics.intake12345), \(config.topics.intake12319) -> dlq \(config.topics.deadLetter)"
        )
        print("  database.url         \(redact(config.databaseURL))")
        print(
            "  intake               batch \(config.batchMaxMessages) / \(config.batchMaxWaitMillis) ms, hold \(config.holdSeconds) s, on offset gap \(config.onOffsetGap.rawValue)"
        )
        print("  sla policy           \(sla.policySource)")
        print("  sla calendars        \(sla.calendarSource): \(sla.calendarYears)")
        print("  sla office hours     \(GridloopConfig.describe(officeHours: config.officeHours))")
        print("  units.directory      \(sla.unitsSource): \(sla.unitsSummary)")
    }
}

/// Hides a password in a connection URL or string.
func redact(_ url: String) -> String {
    if let r = url.range(of: #"://[^:/@]+:[^@]*@"#, options: .regularExpression) {
        let user = url[r].dropFirst(3).prefix { $0 != ":" }
        return url.replacingCharacters(in: r, with: "://\(user):***@")
    }
    return url.replacingOccurrences(of: #"password=\S+"#, with: "password=***", options: .regularExpression)
}
