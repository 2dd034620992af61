import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore

/// What kind of failure ended an intake session. The run loop decides on the kind (whether to
/// wait its backoff, what `/readyz` reports) instead of testing error types one by one.
enum FailureKind {
    /// The configuration or the schema does not fit this binary (`ConfigError`, a schema not
    /// migrated, `MigrationChecksumError`, `SchemaTooNewError`): retrying helps once a person has acted.
    case configuration
    /// PostgreSQL failed or could not be reached (`PostgresError`).
    case database
    /// The brokers failed or could not be reached (`KafkaError`).
    case broker
    /// Another member of the group moved a stored offset (`OffsetFenceError`): the partition
    /// is someone else's now.
    case fenced
    /// PostgreSQL refused a batch for the data it carried (`RefusedBatch`): a poison message.
    /// The only kind retried at once, without backoff: the next session isolates the message.
    case data(RefusedBatch)
    /// Anything else: a stored row Gridloop cannot read (`MalformedRow`), a state that should
    /// not happen.
    case invariant

    init(_ error: any Error) {
        switch error {
        case let refused as RefusedBatch: self = .data(refused)
        case is PostgresError: self = .database
        case is KafkaError: self = .broker
        case is OffsetFenceError: self = .fenced
        case is ConfigError, is MigrationChecksumError, is SchemaTooNewError: self = .configuration
        default: self = .invariant
        }
    }

    /// Whether it says the database is down, at once (the health probe would find it within a
    /// second).
    var meansDatabaseDown: Bool {
        if case .database = self { true } else { false }
    }

    /// Whether `/readyz` reports it as the intake's own problem: the database's and the brokers'
    /// are reported as theirs.
    var isIntakeProblem: Bool {
        switch self {
        case .database, .broker: false
        case .configuration, .fenced, .data, .invariant: true
        }
    }
}
