import CoreMetrics
import Foundation
import GridloopPipeline
import GridloopSettings
import Logging

/// SIGHUP: reads the configuration file, the policy, the calendars and the unit directory
/// again; applies them only if all are valid (a damaged directory file is refused with its file
/// and line, and the running directory stays in force). What cannot change while running (brokers, database, topics, ...) is named in the log.
final class Reloader: @unchecked Sendable {
    // @unchecked: `running` is only touched by the SIGHUP handler, which runs serially.
    private let file: String?
    private var running: GridloopConfig
    private let logger: Logger
    private let levels: LogLevelSwitch
    private let intake: IntakeService

    init(file: String?, running: GridloopConfig, logger: Logger, levels: LogLevelSwitch, intake: IntakeService) {
        self.file = file
        self.running = running
        self.logger = logger
        self.levels = levels
        self.intake = intake
    }

    func reload() {
        do {
            let new = try GridloopConfig.load(file: file, environment: ProcessInfo.processInfo.environment)
            let sla = try SLASettings.load(new)
            intake.replaceKeeper(sla.keeper)
            let restart = running.keysNeedingRestart(comparedTo: new)
            var md: Logger.Metadata = [
                "policy": "\(sla.policySource)", "calendars": "\(sla.calendarSource)",
                "years": "\(sla.calendarYears)", "units": "\(sla.unitsSource)", "log_level": "\(new.logLevel)",
            ]
            if !restart.isEmpty { md["needs_restart"] = "\(restart.joined(separator: ","))" }
            logger.notice(
                "configuration reloaded: the policy applies to clocks started from now on, the unit directory to escalations from now on",
                metadata: md)
            Run.announce(sla, config: new, logger: logger)
            levels.level = Logger.Level(rawValue: new.logLevel) ?? .info  // after saying so at the old level
            Counter(label: Metric.reloads, dimensions: [("result", "applied")]).increment()
            running = new
        } catch {
            logger.error("reload refused, keeping the running configuration", metadata: ["reason": "\(error)"])
            Counter(label: Metric.reloads, dimensions: [("result", "refused")]).increment()
        }
    }
}
