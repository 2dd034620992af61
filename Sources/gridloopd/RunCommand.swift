import ArgumentParser
import CoreMetrics
import Dispatch
import Foundation
import GridloopAnalytics
import GridloopCore
import GridloopHTTP
import GridloopKafka
import GridloopPipeline
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
