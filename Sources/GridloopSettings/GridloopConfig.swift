import Foundation
import Yams

/// The daemon's configuration: a YAML file (`--config`), then environment variables on top.
/// Its keys, their variables, defaults and parsers are the table `GridloopConfig.keys`.
public struct GridloopConfig: Sendable, Equatable {
    public struct Topics: Sendable, Equatable {
        public var intake12345 = "hotline.12345.workorders"
        public var intake12319 = "hotline.12319.cases"
        public var deadLetter = "gridloop.intake.dlq"
        /// The outbound topics of `docs/EVENTS.md`.
        public var escalations = "gridloop.escalations"
        public var supervision = "gridloop.supervision"
        public var outcomes = "gridloop.outcomes"
        /// Published reports (`gridloopd report scorecard --publish`).
        public var reports = "gridloop.reports"
    }

    public var brokers = "localhost:9092"
    public var consumerGroup = "gridloop"
    /// librdkafka properties for both clients (TLS, SASL, ...), passed through as given.
    public var kafkaProperties: [String: String] = [:]
    public var consumerProperties: [String: String] = [:]
    public var producerProperties: [String: String] = [:]
    public var topics = Topics()
    /// A libpq connection URL or `key=value` string (`sslmode=verify-full` and so on pass through).
    public var databaseURL = "postgresql:///gridloop"
    /// Largest batch: messages applied in one transaction.
    public var batchMaxMessages = 5000
    /// `intake.cacheMemory`: estimated memory for the intake's cache of open cases, in bytes.
    public var cacheMemoryBytes = 64 << 20
    /// Longest a batch waits to fill before it is applied, in milliseconds.
    public var batchMaxWaitMillis = 50
    /// How long an event that cannot be applied yet (no DISPATCH, 12319 gap) is held, in seconds.
    public var holdSeconds = 30
    /// What the intake does with a range of a partition it can no longer read (deleted by the
    /// broker before it was applied, or a stored offset beyond the end of a recreated topic).
    /// Either way the gap is recorded (`intake_gaps`), logged and counted.
    public enum OffsetGapPolicy: String, Sendable, Equatable, CaseIterable {
        /// Read on from the log start.
        case `continue`
        /// Leave the partition unread until an operator acknowledges the gap (`gridloopd gaps ack`).
        case stop
    }
    /// `intake.onOffsetGap`: continue by default, so that one lost range does not stop the
    /// hotline's intake; `/readyz` fails until the gap is acknowledged either way.
    public var onOffsetGap = OffsetGapPolicy.continue
    /// Outbox rows published per relay round.
    public var relayBatchSize = 2000
    public var logLevel = "info"
    /// Names this deployment in the `source` of every emitted event: `/gridloop/<name>`.
    public var deploymentName = "gridloop"
    /// Whether the SLA clocks run (off: intake only, no supervision or escalation events).
    public var slaEnabled = true

    // SLA policy and calendars (sla.policyFile, sla.calendarDirectory, sla.officeHours):
    // parsed by their entries in GridloopConfig+Keys.swift (the office hours' rule is in
    // GridloopConfig+SLA.swift), loaded by PolicyLoader and CalendarLoader.
    /// The policy file; nil: the default policy built into the binary (deploy/policy.yaml).
    public var policyFile: String?
    /// A directory of `cn-<year>.yaml` calendars that replaces the built-in ones; nil: built-in.
    public var calendarDirectory: String?
    /// Office hours on working days for `wh` limits, minutes after local midnight.
    public var officeHours: [Range<Int>] = GridloopConfig.defaultOfficeHours
    /// `units.directory`: the unit directory file (who takes a case one level up); nil: the
    /// sample built into the binary (deploy/units.yaml). Loaded by UnitDirectoryLoader.
    public var unitDirectoryFile: String?

    /// `forecast.digestAt`: when the morning digests (gridloop.unit.digest) go out on a working
    /// day, minutes after local midnight (Asia/Shanghai).
    public var digestAt = 8 * 60 + 30
    /// `forecast.digestThreshold`: a clock is at risk, for the digest, from this probability of breaching.
    public var digestThreshold = 0.5
    /// `forecast.historyMaxHandlings`: the forecast reads at most this many handlings (the latest).
    public var forecastHistoryMaxHandlings = 100_000

    /// `analytics.*`: the analytics workers, run by the one instance of the group that holds the
    /// analytics lease; each can be turned off (a small host, or to measure its cost).
    /// `analytics.scorecard`: keep the scorecard's facts current (otherwise a report recomputes
    /// what is queued itself, and the queue grows until it does).
    public var analyticsScorecard = true
    /// `analytics.atRiskGauge`: `gridloop_cases_at_risk{level}` every minute.
    public var analyticsGauge = true
    /// `analytics.digest`: the morning digests.
    public var analyticsDigest = true
    /// `retention.deadLetterBytes`: days after which a dead letter's message bytes (a citizen's
    /// name, phone number, appeal text) are redacted, its reason, headers, coordinates and
    /// SHA-256 kept. 30 days: long enough to fix a feed and `dlq retry`, short as the Personal
    /// Information Protection Law asks.
    public var retentionDeadLetterDays = 30
    /// `retention.closedCases`: days after its closing at which a closed or withdrawn case is
    /// deleted with its events, clocks, decisions and scorecard rows; nil (`keep`, the default):
    /// never. Reports over a period before it lack those cases.
    public var retentionClosedCaseDays: Int?

    // Service (http.*, shutdown.*, credentials): reading the secrets is in GridloopConfig+Service.swift.
    /// Address of the `/metrics`, `/healthz`, `/readyz` listener; nil: no listener.
    public var httpListen: String? = "127.0.0.1:9464"
    /// `/readyz` fails while the intake lag (messages, summed over the assigned partitions) is above this.
    public var readyMaxLag = 10_000
    /// After SIGTERM, how long the daemon may take to finish its batch and leave, in seconds.
    public var graceSeconds = 20
    /// Files holding secrets (systemd `LoadCredential=`); read at load time, never logged.
    public var databasePasswordFile: String?
    public var saslPasswordFile: String?
    public var databasePassword: String?
    public var saslPassword: String?

    public init() {}

    /// Loads the file (if any), then applies the environment. Never connects to anything.
    public static func load(file: String?, environment: [String: String]) throws -> GridloopConfig {
        var config = GridloopConfig()
        if let file {
            let text = try ConfigError.text(of: file)
            try config.apply(yaml: text, file: file)
        }
        for key in keys {
            guard let variable = key.variable, let value = environment[variable] else { continue }
            try key.parse(&config, ConfigInput(key: key.path, variable: variable, text: value))
        }
        try config.validate(file: file ?? "(defaults)")
        try config.loadCredentials(environment: environment)
        return config
    }

    mutating func apply(yaml: String, file: String) throws {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch let error as YamlError {
            throw ConfigError(file: file, line: Self.line(of: error), key: "(syntax)", problem: "not valid YAML: \(error)")
        }
        guard let root else { return }
        guard case .mapping(let top) = root else {
            throw ConfigError(file: file, line: root.mark?.line, key: "(top level)", problem: "expected a mapping of sections")
        }
        let sections = Self.sections
        for (k, v) in top {
            let section = k.string ?? ""
            guard let names = sections.first(where: { $0.name == section })?.keys else {
                throw ConfigError(
                    file: file, line: k.mark?.line, key: section,
                    problem: "unknown section (known: \(sections.map(\.name).sorted().joined(separator: ", ")))")
            }
            guard case .mapping(let body) = v else {
                throw ConfigError(file: file, line: v.mark?.line, key: section, problem: "expected a mapping")
            }
            for (kk, vv) in body {
                let name = kk.string ?? ""
                guard let key = Self.key("\(section).\(name)") else {
                    throw ConfigError(
                        file: file, line: kk.mark?.line, key: "\(section).\(name)",
                        problem: "unknown key (known in \(section): \(names.joined(separator: ", ")))")
                }
                try key.parse(&self, ConfigInput(key: key.path, file: file, node: vv))
            }
        }
    }

    func validate(file: String) throws {
        let names = [
            topics.intake12345, topics.intake12319, topics.deadLetter, topics.escalations,
            topics.supervision, topics.outcomes, topics.reports,
        ]
        if Set(names).count != names.count {
            throw ConfigError(
                file: file, line: nil, key: "topics",
                problem: "the intake, dead-letter and outbound topics must be distinct")
        }
    }

    /// `250ms`, `30s`, `5m`, `1h` → milliseconds.
    public static func milliseconds(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        for (suffix, factor) in [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)] where t.hasSuffix(suffix) {
            guard let n = Int(t.dropLast(suffix.count)), n >= 0 else { return nil }
            return n * factor
        }
        return nil
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    /// Properties for the consumer: the shared ones, then the consumer's own, then the essentials.
    public var consumerConfiguration: [String: String] {
        var p = kafkaProperties.merging(consumerProperties) { _, b in b }
        p["bootstrap.servers"] = brokers
        p["group.id"] = consumerGroup
        if p["client.id"] == nil { p["client.id"] = "gridloopd" }
        // An instance that dies without leaving (kill -9, a lost host) holds its partitions, and
        // so the SLA clocks of their cases, until the group coordinator gives up on it: 6 s (the
        // least a broker accepts by default, `group.min.session.timeout.ms`) rather than
        // librdkafka's 45 s, with a heartbeat every 2 s, so that it takes three lost heartbeats in
        // a row. Heartbeats come from librdkafka's own thread, so a long batch does not count
        // against it. The development broker also waits this long, less 1 s, before it assigns
        // the partitions of a group whose last member left: a restart.
        if p["session.timeout.ms"] == nil { p["session.timeout.ms"] = "6000" }
        if p["heartbeat.interval.ms"] == nil { p["heartbeat.interval.ms"] = "2000" }
        if let saslPassword { p["sasl.password"] = saslPassword }
        return p
    }

    public var producerConfiguration: [String: String] {
        var p = kafkaProperties.merging(producerProperties) { _, b in b }
        p["bootstrap.servers"] = brokers
        if p["client.id"] == nil { p["client.id"] = "gridloopd" }
        if let saslPassword { p["sasl.password"] = saslPassword }
        return p
    }
}
