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
        ])
}

/// Options every command shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "YAML configuration file (environment variables override it).")
    var config: String?

    func load() throws -> GridloopConfig {
        do {
            return try GridloopConfig.load(file: config, environment: ProcessInfo.processInfo.environment)
        } catch let error as ConfigError {
            throw ValidationError("configuration refused: \(error)")
        }
    }

    /// The SLA policy, calendars and unit directory of `config`, validated.
    func loadSLA(_ config: GridloopConfig) throws -> SLASettings {
        do {
            return try SLASettings.load(config)
        } catch let error as ConfigError {
            throw ValidationError("SLA policy, calendar or unit directory refused: \(error)")
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
        let connection = try PostgresConnectionFactory.connect(config)
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
        print("configuration OK: \(options.config ?? "(no file)")")
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
