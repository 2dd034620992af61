import Foundation

// The service keys of the configuration: the HTTP listener, the shutdown grace period and the
// secrets, which come from files (systemd's `LoadCredential=` puts them in
// $CREDENTIALS_DIRECTORY) so that they never appear on a command line or in the environment.
extension GridloopConfig {
    /// Credential names looked up in $CREDENTIALS_DIRECTORY when no file is configured.
    public static let databasePasswordCredential = "database-password"
    public static let saslPasswordCredential = "kafka-sasl-password"

    mutating func setService(_ key: String, _ value: String, file: String, line: Int?) throws {
        func fail(_ problem: String) -> ConfigError { ConfigError(file: file, line: line, key: key, problem: problem) }
        let v = value.trimmingCharacters(in: .whitespaces)
        switch key {
        case "http.listen":
            if v == "off" || v.isEmpty {
                httpListen = nil
            } else {
                guard Self.hostPort(v) != nil else {
                    throw fail("expected host:port (such as 127.0.0.1:9464 or [::1]:9464) or off, got '\(value)'")
                }
                httpListen = v
            }
        case "http.readyMaxLag":
            guard let n = Int(v), n >= 0 else { throw fail("expected a whole number of messages, got '\(value)'") }
            readyMaxLag = n
        case "shutdown.gracePeriod":
            guard let ms = Self.milliseconds(v), ms >= 1000, ms <= 600_000 else {
                throw fail("expected a duration from 1s to 10m such as 20s, got '\(value)'")
            }
            graceSeconds = ms / 1000
        case "database.passwordFile":
            guard !v.isEmpty else { throw fail("must not be empty") }
            databasePasswordFile = v
        case "kafka.saslPasswordFile":
            guard !v.isEmpty else { throw fail("must not be empty") }
            saslPasswordFile = v
        default:
            throw fail("unknown key")
        }
    }

    /// Reads the secrets: the configured files, else the systemd credentials of the same name.
    mutating func loadCredentials(environment: [String: String]) throws {
        let credentials = environment["CREDENTIALS_DIRECTORY"]
        func secret(_ file: String?, key: String, credential: String) throws -> String? {
            var path = file
            if path == nil, let credentials {
                let candidate = credentials + "/" + credential
                if FileManager.default.fileExists(atPath: candidate) { path = candidate }
            }
            guard let path else { return nil }
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
                throw ConfigError(file: path, line: nil, key: key, problem: "cannot be read (check the path and the permissions)")
            }
            let trimmed = text.trimmingCharacters(in: .newlines)
            guard !trimmed.isEmpty else { throw ConfigError(file: path, line: nil, key: key, problem: "is empty") }
            return trimmed
        }
        databasePassword = try secret(
            databasePasswordFile, key: "database.passwordFile", credential: Self.databasePasswordCredential)
        saslPassword = try secret(saslPasswordFile, key: "kafka.saslPasswordFile", credential: Self.saslPasswordCredential)
    }

    /// `host:port` split, as the HTTP listener reads `http.listen` (a bracketed IPv6 host loses
    /// its brackets), or nil if it is not one. The same rule as `HTTPServer.split`, kept here so
    /// that the configuration does not depend on the listener's target.
    static func hostPort(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}

extension GridloopConfig {
    /// The keys whose change a reload cannot apply to a running daemon (they need a restart).
    /// A reload applies the SLA policy, the calendars, the office hours and the log level.
    public func keysNeedingRestart(comparedTo new: GridloopConfig) -> [String] {
        var keys: [String] = []
        func check<T: Equatable>(_ key: String, _ a: T, _ b: T) { if a != b { keys.append(key) } }
        check("kafka.brokers", brokers, new.brokers)
        check("kafka.consumerGroup", consumerGroup, new.consumerGroup)
        check("kafka.properties", kafkaProperties, new.kafkaProperties)
        check("kafka.consumerProperties", consumerProperties, new.consumerProperties)
        check("kafka.producerProperties", producerProperties, new.producerProperties)
        check("kafka.saslPasswordFile", saslPassword, new.saslPassword)
        check("topics", topics, new.topics)
        check("database.url", databaseURL, new.databaseURL)
        check("database.passwordFile", databasePassword, new.databasePassword)
        check("intake.batchMaxMessages", batchMaxMessages, new.batchMaxMessages)
        check("intake.batchMaxWait", batchMaxWaitMillis, new.batchMaxWaitMillis)
        check("intake.holdWait", holdSeconds, new.holdSeconds)
        check("intake.onOffsetGap", onOffsetGap, new.onOffsetGap)
        check("relay.batchSize", relayBatchSize, new.relayBatchSize)
        check("deployment.name", deploymentName, new.deploymentName)
        check("sla.enabled", slaEnabled, new.slaEnabled)
        check("http.listen", httpListen, new.httpListen)
        check("http.readyMaxLag", readyMaxLag, new.readyMaxLag)
        check("shutdown.gracePeriod", graceSeconds, new.graceSeconds)
        return keys
    }
}
