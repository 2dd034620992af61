import GridloopPostgres
import GridloopSettings
import GridloopStore

extension GridloopConfig {
    /// A new connection to the configured database, with the password from its credential file
    /// and `DatabaseDefaults`' timeouts; a daemon session (`daemon`) also gets its
    /// `statement_timeout`, a command's (`migrate`, `status`, ...) does not.
    public func connectDatabase(_ applicationName: String, daemon: Bool = true) throws -> PostgresConnection {
        try PostgresConnection(
            databaseURL, applicationName: applicationName, password: databasePassword,
            defaults: DatabaseDefaults.connection,
            settings: daemon ? DatabaseDefaults.daemonSettings : [:])
    }
}
