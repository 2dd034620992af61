import ArgumentParser
import Dispatch
import Foundation
import GridloopCore
import GridloopPostgres
import GridloopWorker
import Logging

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: consume the intake topics, apply them, publish the outbox.")
    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let sla = try options.loadSLA(config)
        let logger = makeLogger("gridloopd", level: config.logLevel)
        let stop = StopSignal()

        // SIGTERM / SIGINT: set the stop signal; the threads finish their batch and leave.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                logger.notice("stop requested", metadata: ["signal": "\(sig == SIGTERM ? "SIGTERM" : "SIGINT")"])
                stop.set()
            }
            source.resume()
            sources.append(source)
        }

        logger.info("gridloopd starting", metadata: [
            "brokers": "\(config.brokers)", "group": "\(config.consumerGroup)",
            "database": "\(redact(config.databaseURL))",
        ])
        logger.info("SLA policy and calendars loaded", metadata: [
            "policy": "\(sla.policySource)", "calendars": "\(sla.calendarSource)", "years": "\(sla.calendarYears)",
            "officeHours": "\(GridloopConfig.describe(officeHours: config.officeHours))",
        ])
        let thisYear = LocalDate(containing: Int64(Date().timeIntervalSince1970 * 1000)).civil.year
        let missing = sla.missingYears(from: thisYear, to: thisYear + 1)
        if !missing.isEmpty {
            logger.warning("no official calendar: these years are counted Monday–Friday until one is installed", metadata: [
                "years": "\(missing.map(String.init).joined(separator: ", "))", "calendars": "\(sla.calendarSource)",
            ])
        }
        let relay = OutboxRelay(config: config, logger: logger, stop: stop)
        let intake = IntakeService(config: config, keeper: ClockKeeper(policy: sla.policy, calendar: sla.calendar), logger: logger, stop: stop, onCommit: { relay.wake() })
        let intakeThread = WorkerThread(name: "intake") { intake.run() }
        let relayThread = WorkerThread(name: "relay") { relay.run() }
        intakeThread.join()
        relayThread.join()
        _ = sources
        logger.notice("gridloopd stopped", metadata: [
            "applied": "\(intake.counters.snapshot()["applied"] ?? 0)",
            "published": "\(relay.published.load(ordering: .relaxed))",
        ])
    }
}

/// A dedicated OS thread for a blocking loop (librdkafka and libpq calls block).
final class WorkerThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let thread = Thread {
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    func join() { done.wait() }
}

enum PostgresConnectionFactory {
    /// Connects once for a command, with an error that says what to check.
    static func connect(_ config: GridloopConfig) throws -> PostgresConnection {
        do {
            return try PostgresConnection(config.databaseURL, applicationName: "gridloopd-cli")
        } catch {
            throw ValidationError("cannot connect to the database \(redact(config.databaseURL)): \(error)")
        }
    }
}
