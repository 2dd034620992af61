import ArgumentParser
import CoreMetrics
import Dispatch
import Foundation
import GridloopAnalytics
import GridloopCore
import GridloopHTTP
import GridloopKafka
import GridloopPipeline
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging
import Prometheus

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the daemon: consume the intake topics, apply them, publish the outbox.")
    @OptionGroup var options: ConfigOptions

    func run() throws {
        let config = try options.load()
        let sla = try options.loadSLA(config)
        let levels = LogLevelSwitch(Logger.Level(rawValue: config.logLevel) ?? .info)
        let logger = Logger(label: "gridloopd") { JournalLogHandler(label: $0, level: levels) }
        // Before any Kafka handle exists: librdkafka's own lines (a broker down, ...) in this log too.
        KafkaLog.bootstrap(logger)
        let stop = StopSignal()
        let health = Health()
        let systemd = SystemdNotifier(environment: ProcessInfo.processInfo.environment)

        // Metrics: swift-metrics handles, kept in a Prometheus registry that /metrics renders.
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.valueHistogramBuckets = Metric.valueBuckets
        factory.durationHistogramBuckets = Metric.durationBuckets.mapValues { $0.map { .milliseconds(Int64($0 * 1000)) } }
        MetricsSystem.bootstrap(HelpedMetricsFactory(inner: factory))
        Metric.declare(config, version: gridloopVersion)

        // The listener binds before anything else starts: a port in use fails start-up.
        var server: HTTPServer?
        if let address = config.httpListen {
            do {
                server = try HTTPServer(address: address) { _, path in
                    Endpoints.answer(path, registry: registry, health: health, maxLag: Int64(config.readyMaxLag))
                }
            } catch {
                throw StartupFailure.fatal("http.listen \(address): \(error)")
            }
        }

        logger.info(
            "gridloopd starting",
            metadata: [
                "brokers": "\(config.brokers)", "group": "\(config.consumerGroup)",
                "database": "\(redact(config.databaseURL))",
                "http": "\(server.map { "\(config.httpListen!.hasPrefix("[") ? "[\($0.host)]" : $0.host):\($0.port)" } ?? "off")",
            ])
        Self.announce(sla, config: config, logger: logger)

        let relay = OutboxRelay(config: config, logger: logger, stop: stop, health: health)
        let intake = IntakeService(
            config: config, keeper: sla.keeper,
            logger: logger, stop: stop, health: health, onCommit: { relay.wake() })
        let probe = HealthProbe(config: config, health: health, logger: logger, stop: stop)
        let policies = PolicyVersionRecorder(config: config, logger: logger, stop: stop) { intake.keeper.policy }
        // One instance of the group at a time runs the analytics (the others stand by for the lease).
        let analytics = AnalyticsLeader(config: config, logger: logger, stop: stop, keeper: { intake.keeper }) {
            relay.wake()
        }

        // Signals: SIGTERM / SIGINT stop (the workers finish their batch and leave the group);
        // SIGHUP reloads the configuration, the policy and the unit directory, validated first.
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
        var sources: [DispatchSourceSignal] = []
        for sig in [SIGTERM, SIGINT] {
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                logger.notice(
                    "stop requested",
                    metadata: [
                        "signal": "\(sig == SIGTERM ? "SIGTERM" : "SIGINT")",
                        "grace_s": "\(config.graceSeconds)",
                    ])
                systemd.notify("STOPPING=1")
                stop.set()
            }
            source.resume()
            sources.append(source)
        }
        let reloader = Reloader(file: options.file, running: config, logger: logger, levels: levels, intake: intake)
        let hup = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        hup.setEventHandler {
            systemd.notify("RELOADING=1")
            reloader.reload()
            systemd.notify("READY=1")
        }
        hup.resume()
        sources.append(hup)

        let threads =
            [
                WorkerThread(name: "intake") { intake.run() },
                WorkerThread(name: "relay") { relay.run() },
                WorkerThread(name: "health") { probe.run() },
                WorkerThread(name: "policies") { policies.run() },
            ] + (!analytics.runsAnything ? [] : [WorkerThread(name: "analytics") { analytics.run() }])
            + (server.map { s in [WorkerThread(name: "http") { s.run { stop.isSet } }] } ?? [])

        Supervisor(systemd: systemd, health: health, logger: logger, stop: stop).run()
        // Stopping: the workers finish their batch, commit and leave the group within the grace period.
        let deadline = DispatchTime.now() + .seconds(config.graceSeconds)
        for t in threads where !t.join(until: deadline) {
            logger.critical(
                "grace period over: exiting without waiting for the workers (nothing uncommitted is lost: it is read again at the next start)",
                metadata: ["grace_s": "\(config.graceSeconds)"])
            Foundation.exit(1)
        }
        _ = sources
        logger.notice(
            "gridloopd stopped",
            metadata: [
                "applied": "\(intake.counters.snapshot()["applied"] ?? 0)",
                "published": "\(relay.published.load(ordering: .relaxed))",
            ])
    }

    static func announce(_ sla: SLASettings, config: GridloopConfig, logger: Logger) {
        logger.info(
            "SLA policy and calendars loaded",
            metadata: [
                "policy": "\(sla.policySource)", "calendars": "\(sla.calendarSource)", "years": "\(sla.calendarYears)",
                "officeHours": "\(GridloopConfig.describe(officeHours: config.officeHours))",
            ])
        logger.info("unit directory loaded", metadata: ["units": "\(sla.unitsSource)", "entries": "\(sla.unitsSummary)"])
        let thisYear = LocalDate(containing: Int64(Date().timeIntervalSince1970 * 1000)).civil.year
        let missing = sla.missingYears(from: thisYear, to: thisYear + 1)
        for year in thisYear...(thisYear + 1) {
            Gauge(label: Metric.calendarFallback, dimensions: [("year", "\(year)")]).record(missing.contains(year) ? 1 : 0)
        }
        if !missing.isEmpty {
            logger.warning(
                "no official calendar: these years are counted Monday–Friday until one is installed",
                metadata: [
                    "years": "\(missing.map(String.init).joined(separator: ", "))", "calendars": "\(sla.calendarSource)",
                ])
        }
    }
}

/// The main thread while the daemon runs: tells systemd when it is ready, what it is doing
/// (`STATUS=`), and that it is alive (`WATCHDOG=1`) only while the worker loops report in.
struct Supervisor {
    let systemd: SystemdNotifier
    let health: Health
    let logger: Logger
    let stop: StopSignal

    func run() {
        var ready = false
        var lastPartitions = 0
        var lastStatus: UInt64 = 0
        var lastWatchdog: UInt64 = 0
        var silentSince: UInt64?
        let watchdogEvery = systemd.watchdogInterval.map {
            UInt64($0.components.seconds) * 1_000_000_000 + UInt64($0.components.attoseconds / 1_000_000_000)
        }
        let hungAfter = watchdogEvery.map { $0 * 2 }
        while !stop.isSet {
            let now = monotonicNanos()
            let s = health.state
            // Ready once it can work: a standby instance (no partition) is ready too, to take
            // partitions over when a member leaves; systemd would otherwise kill it at
            // TimeoutStartSec. The watchdog below keeps working for both.
            if !ready, s.databaseOK, s.brokersOK, s.groupJoined {
                ready = true
                systemd.notify("READY=1")
                systemd.notify("STATUS=\(Self.status(s))")
                lastStatus = now
                logger.notice("ready", metadata: ["role": "\(health.role)", "partitions": "\(s.assignedPartitions)"])
            }
            if ready, s.groupJoined, (s.assignedPartitions > 0) != (lastPartitions > 0) {
                logger.notice(
                    s.assignedPartitions > 0 ? "active: partitions assigned" : "standby: no partition assigned",
                    metadata: ["partitions": "\(s.assignedPartitions)"])
            }
            if s.groupJoined { lastPartitions = s.assignedPartitions }
            if now - lastStatus >= 5_000_000_000 {
                lastStatus = now
                systemd.notify("STATUS=\(Self.status(s))")
            }
            if let every = watchdogEvery, let hungAfter, now - lastWatchdog >= every {
                // A loop is hung when it has not reported for a whole watchdog interval.
                let stale = [("intake", s.intakeBeat), ("relay", s.relayBeat)].filter {
                    $0.1 != 0 && now > $0.1 && now - $0.1 > hungAfter
                }
                if stale.isEmpty {
                    systemd.notify("WATCHDOG=1")
                    lastWatchdog = now
                    silentSince = nil
                } else if silentSince == nil {
                    silentSince = now
                    logger.critical(
                        "worker loop not responding: withholding the watchdog so that systemd restarts the daemon",
                        metadata: ["loops": "\(stale.map(\.0).joined(separator: ","))"])
                }
            }
            usleep(100_000)
        }
    }

    static func status(_ s: HealthState) -> String {
        var parts: [String] = []
        parts.append(s.databaseOK ? "db ok" : "db DOWN")
        parts.append(s.brokersOK ? "brokers ok" : "brokers DOWN")
        parts.append(
            !s.groupJoined ? "group not joined" : s.assignedPartitions > 0 ? "active, \(s.assignedPartitions) partitions" : "standby")
        parts.append("lag \(s.lag >= 0 ? "\(s.lag)" : "?")")
        parts.append("open cases \(s.openCases >= 0 ? "\(s.openCases)" : "?")")
        parts.append("outbox \(s.outboxBacklog >= 0 ? "\(s.outboxBacklog)" : "?")")
        if !s.unacknowledgedGaps.isEmpty { parts.append("\(s.unacknowledgedGaps.count) intake gap(s) NOT ACKNOWLEDGED") }
        return parts.joined(separator: ", ")
    }
}

/// The HTTP endpoints: `/metrics` (Prometheus text), `/healthz` (the process answers),
/// `/readyz` (database and brokers reachable, consumer group joined, lag under the threshold, no
/// intake gap waiting for acknowledgement; its body says whether the instance is active, with
/// its partitions, or a standby).
enum Endpoints {
    static func answer(_ path: String, registry: PrometheusCollectorRegistry, health: Health, maxLag: Int64) -> HTTPResponse {
        switch path {
        case "/metrics":
            Gauge(label: Metric.ready).record(health.readiness(maxLag: maxLag).isEmpty ? 1 : 0)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            registry.emit(into: &buffer)
            var r = HTTPResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: "")
            r.body = buffer
            return r
        case "/healthz":
            return HTTPResponse(status: 200, body: "ok\n")
        case "/readyz":
            let problems = health.readiness(maxLag: maxLag)
            return problems.isEmpty
                ? HTTPResponse(status: 200, body: "ready: \(health.role)\n")
                : HTTPResponse(status: 503, body: "not ready: " + problems.joined(separator: "; ") + "\n")
        default:
            return HTTPResponse(status: 404, body: "not found: try /metrics, /healthz or /readyz\n")
        }
    }
}

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

/// A dedicated OS thread for a blocking loop (librdkafka and libpq calls block).
final class WorkerThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let thread = Thread {
            nameCurrentThread(name)
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    func join() { done.wait() }

    /// Waits until the thread ends or `deadline` passes; false if it passed.
    func join(until deadline: DispatchTime) -> Bool { done.wait(timeout: deadline) == .success }
}

enum PostgresConnectionFactory {
    /// Connects once for a command, with an error that says what to check.
    static func connect(_ config: GridloopConfig) throws -> PostgresConnection {
        do {
            return try config.connectDatabase("gridloopd-cli", daemon: false)
        } catch {
            throw StartupFailure.fatal("cannot connect to the database \(redact(config.databaseURL)): \(error)")
        }
    }
}
