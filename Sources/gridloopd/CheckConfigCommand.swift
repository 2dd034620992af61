import ArgumentParser
import Foundation
import GridloopSettings
import GridloopStore
import Logging

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
