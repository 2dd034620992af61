import Foundation

// The secrets of the configuration and the `http.listen` rule (the keys themselves are parsed
// by their entries in GridloopConfig+Keys.swift). Secrets come from files (systemd's `LoadCredential=` puts them in
// $CREDENTIALS_DIRECTORY) so that they never appear on a command line or in the environment.
extension GridloopConfig {
    /// Credential names looked up in $CREDENTIALS_DIRECTORY when no file is configured.
    public static let databasePasswordCredential = "database-password"
    public static let saslPasswordCredential = "kafka-sasl-password"

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
    /// The keys whose change a reload cannot apply to a running daemon (they need a restart), in
    /// the order of `keys`. A reload applies the others (`ConfigKey.Change.reload`): the SLA
    /// policy, the calendars, the office hours and the log level.
    public func keysNeedingRestart(comparedTo new: GridloopConfig) -> [String] {
        Self.keys.filter { $0.change == .restart && $0.differs(self, new) }.map(\.path)
    }
}
