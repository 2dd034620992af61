import CoreMetrics
import Foundation
import GridloopCore
import GridloopInspect
import GridloopPipeline
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging

// Threading: `run()` owns its thread and its own PostgreSQL connection (kept; opened again after a failure).

/// Keeps `gridloop_cases_at_risk{level}` current: the expected number of breaches (the sum of the
/// forecast's probabilities, docs/FORECAST.md) among the open clocks due by the end of the
/// working day (`1wd`: midnight of today when it is a working day, else of the next one), every
/// `intervalSeconds`, with the policy and calendars in force; and queues the morning digests
/// (`gridloop.unit.digest`) once a working day at `forecast.digestAt`, or at the first round
/// after it when the daemon was down then (docs/FORECAST.md). It also records each version of
/// the SLA policy the daemon runs in `policy_versions` (at start and after a reload).
final class AtRiskGauge: Sendable {
    private let config: GridloopConfig
    private let intake: IntakeService
    private let logger: Logger
    private let stop: StopSignal
    private let intervalSeconds: Int
    private let onQueued: @Sendable () -> Void

    init(
        config: GridloopConfig, intake: IntakeService, logger: Logger, stop: StopSignal, intervalSeconds: Int = 60,
        onQueued: @escaping @Sendable () -> Void
    ) {
        self.onQueued = onQueued
        self.config = config
        self.intake = intake
        self.logger = logger
        self.stop = stop
        self.intervalSeconds = intervalSeconds
    }

    func run() {
        let gauges = Dictionary(
            uniqueKeysWithValues: LoopLevel.allCases.map {
                ($0.rawValue, Gauge(label: Metric.casesAtRisk, dimensions: [("level", $0.rawValue)]))
            })
        var failing = false
        var connection: PostgresConnection?
        var recordedVersion = ""
        // The policy version in force, for the clocks that record it (`case show`, `whatif`).
        func recordPolicyVersion(_ db: PostgresConnection) throws {
            let policy = intake.keeper.policy
            guard policy.version != recordedVersion, !policy.version.isEmpty else { return }
            try PolicyVersionQueries.record(
                version: policy.version, source: policy.file, document: policy.document, db: db)
            recordedVersion = policy.version
        }
        stop.sleep(millis: 3_000)  // after start-up's work
        while !stop.isSet {
            do {
                if connection == nil || connection?.isConnected == false {
                    connection = try config.connectDatabase("gridloopd-forecast")
                }
                let db = connection!
                try recordPolicyVersion(db)
                let keeper = intake.keeper
                let inputs = Forecast.Inputs(
                    policy: keeper.policy, calendar: keeper.calculator.calendar,
                    at: Int64(Date().timeIntervalSince1970 * 1000), window: Forecast.digestWindow,
                    maxHandlings: config.forecastHistoryMaxHandlings)
                let forecast = try Forecast.load(inputs, asOfNow: true, db: db)
                switch try Forecast.queueDigests(
                    forecast, calendar: keeper.calculator.calendar, now: inputs.at,
                    digestAt: config.digestAt, threshold: config.digestThreshold, topic: config.topics.supervision,
                    deployment: config.deploymentName, db: db)
                {
                case .queued(let n):
                    logger.notice(
                        "morning digests queued", metadata: ["units": "\(n)", "topic": "\(config.topics.supervision)"])
                    onQueued()
                case .notDue, .done: break
                }
                var byLevel: [String: Double] = [:]
                for l in forecast.levels { byLevel[l.level] = l.expectedBreaches }
                for (level, gauge) in gauges { gauge.record(byLevel[level] ?? 0) }
                if failing {
                    failing = false
                    logger.notice("at-risk forecast: computing again")
                }
            } catch {
                connection = nil
                if !failing {
                    failing = true
                    let problem = "\(error)".split(separator: "\n").first.map(String.init) ?? "unknown"
                    logger.warning(
                        "at-risk forecast: cannot compute gridloop_cases_at_risk; retrying",
                        metadata: ["problem": "\(problem)"])
                }
            }
            // Until the next round; a reload that changed the policy is recorded at once.
            for _ in 0..<intervalSeconds where !stop.isSet {
                stop.sleep(millis: 1000)
                if let db = connection { try? recordPolicyVersion(db) }
            }
        }
    }
}
