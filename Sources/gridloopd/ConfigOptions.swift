import ArgumentParser
import Foundation
import GridloopSettings
import GridloopStore
import Logging

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
