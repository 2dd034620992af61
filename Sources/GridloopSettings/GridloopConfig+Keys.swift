import Foundation

// The table of configuration keys: the one place a key is declared. It drives the YAML parser
// (sections, known keys, refusals), the environment variables, the reload's restart check, the
// table `gridloopd check-config --keys` prints, and the tests that hold docs/OPERATIONS.md and
// deploy/gridloopd.yaml to it.
//
// Adding a key is one entry below (in its section, in the order of deploy/gridloopd.yaml), plus
// its field in GridloopConfig; then paste `gridloopd check-config --keys` into the table of
// docs/OPERATIONS.md and list the key in deploy/gridloopd.yaml (ConfigurationKeysTests says
// what is missing).
extension GridloopConfig {
    /// Every configuration key, in the order of deploy/gridloopd.yaml.
    public static let keys: [ConfigKey] = [
        .text(
            "kafka.brokers", "GRIDLOOP_KAFKA_BROKERS", .restart, "bootstrap servers, `host:port[,host:port]`", \.brokers),
        .text(
            "kafka.consumerGroup", "GRIDLOOP_CONSUMER_GROUP", .restart,
            "the consumer group: every instance of one deployment uses the same", \.consumerGroup),
        .properties(
            "kafka.properties", "GRIDLOOP_KAFKA_PROPERTIES", .restart,
            "librdkafka properties of both clients (TLS, SASL, ...); in the environment `name=value,name=value`, added to the file's",
            \.kafkaProperties),
        .properties(
            "kafka.consumerProperties", nil, .restart,
            "librdkafka properties of the consumer only (gridloopd sets `session.timeout.ms` 6000, `heartbeat.interval.ms` 2000 unless given)",
            \.consumerProperties),
        .properties(
            "kafka.producerProperties", nil, .restart, "librdkafka properties of the producer only", \.producerProperties),
        .secretFile(
            "kafka.saslPasswordFile", "GRIDLOOP_SASL_PASSWORD_FILE",
            "file holding the SASL password; not set: `$CREDENTIALS_DIRECTORY/\(saslPasswordCredential)` if present",
            \.saslPasswordFile, secret: \.saslPassword),

        .text(
            "topics.intake12345", "GRIDLOOP_TOPIC_12345", .restart, "in: 12345 work-order events", \.topics.intake12345),
        .text("topics.intake12319", "GRIDLOOP_TOPIC_12319", .restart, "in: 12319 case events", \.topics.intake12319),
        .text("topics.deadLetter", "GRIDLOOP_TOPIC_DLQ", .restart, "out: dead letters", \.topics.deadLetter),
        .text(
            "topics.escalations", "GRIDLOOP_TOPIC_ESCALATIONS", .restart, "out: `gridloop.case.escalated`",
            \.topics.escalations),
        .text(
            "topics.supervision", "GRIDLOOP_TOPIC_SUPERVISION", .restart,
            "out: `gridloop.case.supervision.warning` / `.overdue` / `.urge`", \.topics.supervision),
        .text("topics.outcomes", "GRIDLOOP_TOPIC_OUTCOMES", .restart, "out: `gridloop.case.resolved`", \.topics.outcomes),
        .text(
            "topics.reports", "GRIDLOOP_TOPIC_REPORTS", .restart,
            "out: `gridloop.report.scorecard` (`report scorecard --publish`)", \.topics.reports),

        ConfigKey(
            "deployment.name", "GRIDLOOP_DEPLOYMENT", .restart,
            "events' `source` is `/gridloop/<name>`; letters, digits, `-`, `_`, `.`",
            compared: { $0.deploymentName }, show: { $0.deploymentName },
            parse: { config, input in
                let v = try input.nonEmpty()
                guard v.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                    throw input.fail("expected letters, digits, '-', '_' or '.', got '\(try input.scalar())'")
                }
                config.deploymentName = v
            }),

        .flag(
            "sla.enabled", "GRIDLOOP_SLA_ENABLED", "`false`: intake only, no supervision or escalation events",
            \.slaEnabled),
        .optionalText(
            "sla.policyFile", "GRIDLOOP_POLICY_FILE", .reload,
            "the SLA policy; not set: the built-in `deploy/policy.yaml`", \.policyFile),
        .optionalText(
            "sla.calendarDirectory", "GRIDLOOP_CALENDAR_DIR", .reload,
            "a directory of `cn-<year>.yaml` calendars replacing the built-in ones (`deploy/calendars`)",
            \.calendarDirectory),
        ConfigKey(
            "sla.officeHours", "GRIDLOOP_OFFICE_HOURS", .reload,
            "office hours of working days, for working-hour limits; in the file a list, in the environment separated by commas",
            compared: { $0.officeHours },
            show: { c in c.officeHours.map { GridloopConfig.describe(officeHours: [$0]) }.joined(separator: ",") },
            parse: { config, input in try config.setOfficeHours(input.list(), file: input.file, line: input.line) }),
        .optionalText(
            "units.directory", "GRIDLOOP_UNIT_DIRECTORY", .reload,
            "the unit directory file (who takes a case one level up); not set: the built-in `deploy/units.yaml`",
            \.unitDirectoryFile),

        ConfigKey(
            "forecast.digestAt", "GRIDLOOP_FORECAST_DIGEST_AT", .restart,
            "local time (HH:MM, Asia/Shanghai) of each working day at which one `gridloop.unit.digest` per unit with clocks at risk is emitted",
            compared: { $0.digestAt }, show: { String(format: "%02d:%02d", $0.digestAt / 60, $0.digestAt % 60) },
            parse: { config, input in
                let value = try input.scalar().trimmingCharacters(in: .whitespaces)
                let parts = value.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2, parts[0].count == 2, parts[1].count == 2, let h = Int(parts[0]), let m = Int(parts[1]),
                    (0..<24).contains(h), (0..<60).contains(m)
                else { throw input.fail("expected a time of day HH:MM such as 08:30, got '\(value)'") }
                config.digestAt = h * 60 + m
            }),
        ConfigKey(
            "forecast.digestThreshold", "GRIDLOOP_FORECAST_DIGEST_THRESHOLD", .restart,
            "the digest lists a unit's clocks due that day whose probability of breaching is at least this (0 to 1)",
            compared: { $0.digestThreshold }, show: { "\($0.digestThreshold)" },
            parse: { config, input in
                let value = try input.scalar().trimmingCharacters(in: .whitespaces)
                guard let p = Double(value), p >= 0, p <= 1 else {
                    throw input.fail("expected a probability from 0 to 1 such as 0.5, got '\(value)'")
                }
                config.digestThreshold = p
            }),
        ConfigKey(
            "forecast.historyMaxHandlings", "GRIDLOOP_FORECAST_HISTORY_MAX", .restart,
            "the forecast reads the latest this many handlings of its 90 days at most: its memory, about 400 bytes a handling at the peak of each minute's round (10 to 10000000)",
            compared: { $0.forecastHistoryMaxHandlings }, show: { "\($0.forecastHistoryMaxHandlings)" },
            parse: { config, input in
                let n = try input.positive(max: 10_000_000)
                guard n >= 10 else { throw input.fail("expected at least 10 handlings, got \(n)") }
                config.forecastHistoryMaxHandlings = n
            }),

        .flag(
            "analytics.scorecard", "GRIDLOOP_ANALYTICS_SCORECARD",
            "`false`: no scorecard worker; `report scorecard` recomputes the queued cases itself (the queue grows until a report drains it)",
            \.analyticsScorecard),
        .flag(
            "analytics.atRiskGauge", "GRIDLOOP_ANALYTICS_GAUGE", "`false`: no `gridloop_cases_at_risk` gauge",
            \.analyticsGauge),
        .flag("analytics.digest", "GRIDLOOP_ANALYTICS_DIGEST", "`false`: no morning digests", \.analyticsDigest),
        ConfigKey(
            "retention.deadLetterBytes", "GRIDLOOP_RETENTION_DEAD_LETTER_BYTES", .restart,
            "days after which a dead letter's message bytes (personal data) are redacted, its reason, headers and SHA-256 kept (1d to 3650d); `gridloopd purge`, run daily",
            compared: { $0.retentionDeadLetterDays }, show: { "\($0.retentionDeadLetterDays)d" },
            parse: { config, input in
                let value = try input.scalar().trimmingCharacters(in: .whitespaces)
                guard let days = GridloopConfig.days(value), (1...3650).contains(days) else {
                    throw input.fail("expected days from 1d to 3650d such as 30d, got '\(value)'")
                }
                config.retentionDeadLetterDays = days
            }),
        ConfigKey(
            "retention.closedCases", "GRIDLOOP_RETENTION_CLOSED_CASES", .restart,
            "`keep`, or days after its closing at which a closed or withdrawn case is deleted with its events, clocks, decisions and scorecard rows (30d to 36500d); reports before then lack them",
            compared: { $0.retentionClosedCaseDays }, show: { $0.retentionClosedCaseDays.map { "\($0)d" } ?? "keep" },
            parse: { config, input in
                let value = try input.scalar().trimmingCharacters(in: .whitespaces)
                if value == "keep" {
                    config.retentionClosedCaseDays = nil
                    return
                }
                // At least 30 days: a resend of a deleted case's DISPATCH within the brokers'
                // retention would open it again as a new case.
                guard let days = GridloopConfig.days(value), (30...36_500).contains(days) else {
                    throw input.fail("expected `keep` or days from 30d to 36500d such as 730d, got '\(value)'")
                }
                config.retentionClosedCaseDays = days
            }),

        .text(
            "database.url", "GRIDLOOP_DATABASE_URL", .restart,
            "a libpq URL or `key=value` string (`sslmode` and the like pass through); no password in it", \.databaseURL),
        .secretFile(
            "database.passwordFile", "GRIDLOOP_DATABASE_PASSWORD_FILE",
            "file holding the database password; not set: `$CREDENTIALS_DIRECTORY/\(databasePasswordCredential)` if present",
            \.databasePasswordFile, secret: \.databasePassword),

        ConfigKey(
            "intake.batchMaxMessages", "GRIDLOOP_BATCH_MAX_MESSAGES", .restart,
            "messages applied in one transaction, at most (1 to 100000)",
            compared: { $0.batchMaxMessages }, show: { "\($0.batchMaxMessages)" },
            parse: { config, input in config.batchMaxMessages = try input.positive(max: 100_000) }),
        ConfigKey(
            "intake.cacheMemory", "GRIDLOOP_CACHE_MEMORY", .restart,
            "memory for the intake's cache of open cases, estimated at about 2 KB a case (16MB to 16GB); closed and withdrawn cases leave it once committed, and so do cases not changed for 10 minutes; past it, a quarter is dropped (read again from the database when next needed)",
            compared: { $0.cacheMemoryBytes }, show: { GridloopConfig.size(bytes: $0.cacheMemoryBytes) },
            parse: { config, input in
                let value = try input.scalar().trimmingCharacters(in: .whitespaces)
                guard let bytes = GridloopConfig.bytes(value), bytes >= 16 << 20, bytes <= 16 << 30 else {
                    throw input.fail("expected a size from 16MB to 16GB such as 64MB or 1GB, got '\(value)'")
                }
                config.cacheMemoryBytes = bytes
            }),
        ConfigKey(
            "intake.batchMaxWait", nil, .restart, "how long a batch waits to fill (1ms to 60s)",
            compared: { $0.batchMaxWaitMillis }, show: { GridloopConfig.duration(millis: $0.batchMaxWaitMillis) },
            parse: { config, input in
                config.batchMaxWaitMillis = try input.duration(
                    1...60_000, expected: "a duration from 1ms to 60s such as 50ms or 1s")
            }),
        ConfigKey(
            "intake.holdWait", "GRIDLOOP_HOLD_WAIT", .restart,
            "how long an event with no DISPATCH yet, or after a 12319 gap, is held (up to 24h)",
            compared: { $0.holdSeconds }, show: { GridloopConfig.duration(millis: $0.holdSeconds * 1000) },
            parse: { config, input in
                config.holdSeconds = try input.duration(0...86_400_000, expected: "a duration up to 24h such as 30s or 5m") / 1000
            }),
        ConfigKey(
            "intake.onOffsetGap", "GRIDLOOP_ON_OFFSET_GAP", .restart,
            "`continue`: read on from the log start; `stop`: leave the partition unread until the gap is acknowledged",
            compared: { $0.onOffsetGap }, show: { $0.onOffsetGap.rawValue },
            parse: { config, input in
                let value = try input.scalar()
                guard let policy = OffsetGapPolicy(rawValue: value) else {
                    throw input.fail(
                        "expected \(OffsetGapPolicy.allCases.map(\.rawValue).joined(separator: " or ")), got '\(value)'")
                }
                config.onOffsetGap = policy
            }),

        ConfigKey(
            "relay.batchSize", nil, .restart, "outbox rows published per relay round (1 to 100000)",
            compared: { $0.relayBatchSize }, show: { "\($0.relayBatchSize)" },
            parse: { config, input in config.relayBatchSize = try input.positive(max: 100_000) }),

        ConfigKey(
            "log.level", "GRIDLOOP_LOG_LEVEL", .reload, logLevels.map { "`\($0)`" }.joined(separator: ", "),
            compared: { $0.logLevel }, show: { $0.logLevel },
            parse: { config, input in
                let value = try input.scalar()
                guard logLevels.contains(value) else {
                    throw input.fail("expected one of \(logLevels.joined(separator: ", ")), got '\(value)'")
                }
                config.logLevel = value
            }),

        ConfigKey(
            "http.listen", "GRIDLOOP_HTTP_LISTEN", .restart,
            "`host:port` of `/metrics`, `/healthz`, `/readyz` (`[::]:9464`: all interfaces); `off`: none",
            compared: { $0.httpListen }, show: { $0.httpListen ?? "off" },
            parse: { config, input in
                let v = try input.scalar().trimmingCharacters(in: .whitespaces)
                if v == "off" || v.isEmpty {
                    config.httpListen = nil
                } else {
                    guard hostPort(v) != nil else {
                        throw input.fail(
                            "expected host:port (such as 127.0.0.1:9464 or [::1]:9464) or off, got '\(try input.scalar())'")
                    }
                    config.httpListen = v
                }
            }),
        ConfigKey(
            "http.readyMaxLag", "GRIDLOOP_READY_MAX_LAG", .restart,
            "`/readyz` fails while the intake lags by more messages than this",
            compared: { $0.readyMaxLag }, show: { "\($0.readyMaxLag)" },
            parse: { config, input in
                let value = try input.scalar()
                guard let n = Int(value.trimmingCharacters(in: .whitespaces)), n >= 0 else {
                    throw input.fail("expected a whole number of messages, got '\(value)'")
                }
                config.readyMaxLag = n
            }),

        ConfigKey(
            "shutdown.gracePeriod", "GRIDLOOP_GRACE_PERIOD", .restart,
            "after SIGTERM, how long the daemon may take to finish its batch and leave (1s to 10m)",
            compared: { $0.graceSeconds }, show: { GridloopConfig.duration(millis: $0.graceSeconds * 1000) },
            parse: { config, input in
                config.graceSeconds = try input.duration(1000...600_000, expected: "a duration from 1s to 10m such as 20s") / 1000
            }),
    ]

    /// The values `log.level` accepts, the names of swift-log's levels.
    static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    /// The key at `path` (`intake.holdWait`), if there is one.
    public static func key(_ path: String) -> ConfigKey? { keys.first { $0.path == path } }

    /// The sections in the order of the table, each with the names of its keys.
    static let sections: [(name: String, keys: [String])] = keys.reduce(into: []) { sections, key in
        if let i = sections.firstIndex(where: { $0.name == key.section }) {
            sections[i].keys.append(key.name)
        } else {
            sections.append((key.section, [key.name]))
        }
    }

    /// The keys as a markdown table, the one in docs/OPERATIONS.md (`gridloopd check-config --keys`):
    /// key, environment variable, default, what a change needs (restart, or applied on reload),
    /// and what it is for.
    public static func keysTable() -> String {
        var lines = [
            "| key | variable | default | a change | what it is |",
            "|---|---|---|---|---|",
        ]
        for key in keys {
            let variable = key.variable.map { "`\($0)`" } ?? "(file only)"
            let value = key.defaultValue.map { "`\($0)`" } ?? "not set"
            let change = key.change == .restart ? "needs a restart" : "applied on reload"
            lines.append("| `\(key.path)` | \(variable) | \(value) | \(change) | \(key.summary) |")
        }
        return lines.joined(separator: "\n")
    }

    /// `30000` → `30s`: the largest unit that divides the duration, as `milliseconds` reads it.
    /// `64MB`, `1GB`, `512KB` (powers of 1024) in bytes; nil if not such a size.
    static func bytes(_ text: String) -> Int? {
        for (suffix, factor) in [("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30)] where text.hasSuffix(suffix) {
            guard let n = Int(text.dropLast(2)), n > 0, n <= Int.max / factor else { return nil }
            return n * factor
        }
        return nil
    }

    static func size(bytes: Int) -> String {
        for (suffix, factor) in [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)] where bytes % factor == 0 {
            return "\(bytes / factor)\(suffix)"
        }
        return "\(bytes)"
    }

    /// `30d` as 30.
    static func days(_ text: String) -> Int? {
        guard text.hasSuffix("d"), let n = Int(text.dropLast()) else { return nil }
        return n
    }

    static func duration(millis: Int) -> String {
        for (suffix, factor) in [("h", 3_600_000), ("m", 60_000), ("s", 1000)] where millis > 0 && millis % factor == 0 {
            return "\(millis / factor)\(suffix)"
        }
        return "\(millis)ms"
    }
}

extension ConfigKey {
    /// A string that must not be empty (surrounding blanks are dropped).
    fileprivate static func text(
        _ path: String, _ variable: String?, _ change: Change, _ summary: String,
        _ field: WritableKeyPath<GridloopConfig, String> & Sendable
    ) -> ConfigKey {
        ConfigKey(
            path, variable, change, summary, compared: { $0[keyPath: field] }, show: { $0[keyPath: field] },
            parse: { config, input in config[keyPath: field] = try input.nonEmpty() })
    }

    /// `true` or `false`; a change needs a restart.
    fileprivate static func flag(
        _ path: String, _ variable: String?, _ summary: String, _ field: WritableKeyPath<GridloopConfig, Bool> & Sendable
    ) -> ConfigKey {
        ConfigKey(
            path, variable, .restart, summary, compared: { $0[keyPath: field] }, show: { "\($0[keyPath: field])" },
            parse: { config, input in
                let value = try input.scalar()
                guard value == "true" || value == "false" else { throw input.fail("expected true or false, got '\(value)'") }
                config[keyPath: field] = value == "true"
            })
    }

    /// A string that must not be empty when given; not set by default.
    fileprivate static func optionalText(
        _ path: String, _ variable: String?, _ change: Change, _ summary: String,
        _ field: WritableKeyPath<GridloopConfig, String?> & Sendable
    ) -> ConfigKey {
        ConfigKey(
            path, variable, change, summary, compared: { $0[keyPath: field] }, show: { $0[keyPath: field] },
            parse: { config, input in config[keyPath: field] = try input.nonEmpty() })
    }

    /// A file holding a secret: a reload compares the secret read from it, not only its path.
    fileprivate static func secretFile(
        _ path: String, _ variable: String?, _ summary: String,
        _ field: WritableKeyPath<GridloopConfig, String?> & Sendable,
        secret: KeyPath<GridloopConfig, String?> & Sendable
    ) -> ConfigKey {
        ConfigKey(
            path, variable, .restart, summary, compared: { $0[keyPath: secret] }, show: { $0[keyPath: field] },
            parse: { config, input in config[keyPath: field] = try input.nonEmpty() })
    }

    /// librdkafka properties (`ConfigInput.properties`); none by default.
    fileprivate static func properties(
        _ path: String, _ variable: String?, _ change: Change, _ summary: String,
        _ field: WritableKeyPath<GridloopConfig, [String: String]> & Sendable
    ) -> ConfigKey {
        ConfigKey(
            path, variable, change, summary, compared: { $0[keyPath: field] },
            show: { c in
                c[keyPath: field].isEmpty
                    ? nil : c[keyPath: field].sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: ",")
            },
            parse: { config, input in config[keyPath: field] = try input.properties(over: config[keyPath: field]) })
    }
}
