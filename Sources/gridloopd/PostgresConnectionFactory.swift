import GridloopPostgres
import GridloopSettings

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
