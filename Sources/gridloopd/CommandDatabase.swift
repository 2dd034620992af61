import GridloopPipeline
import GridloopSettings
import GridloopStore

/// The database connection of a command (the daemon's connections are the workers' own).
enum CommandDatabase {
    /// Connects once for a command, with an error that says what to check.
    static func connect(_ config: GridloopConfig) throws -> Database {
        do {
            return try config.connectDatabase("gridloopd-cli", daemon: false)
        } catch {
            throw StartupFailure.fatal("cannot connect to the database \(redact(config.databaseURL)): \(error)")
        }
    }
}

extension CommandDatabase {
    /// Connects for a command that reads this version's schema; an older one is refused with what to do.
    static func connectMigrated(_ config: GridloopConfig) throws -> Database {
        let db = try connect(config)
        let current: Bool
        do {
            current = try Migrator.isCurrent(db)
        } catch let error as MigrationChecksumError {
            throw CommandFailure(message: "\(error)")
        } catch let error as SchemaTooNewError {
            throw CommandFailure(message: "\(error)")
        } catch {
            current = false
        }
        guard current else {
            throw CommandFailure(
                message: "the database \(redact(config.databaseURL)) is not migrated to this version of "
                    + "gridloopd: run `gridloopd migrate` first")
        }
        return db
    }
}
