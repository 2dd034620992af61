import GridloopPostgres

/// The connection the Store's queries run on, as the targets above the Store name it. Only
/// GridloopStore and GridloopPipeline (which owns the connections' life: connect, transaction,
/// reconnect) import GridloopPostgres; a view, a report or a command holds a `Database` and
/// hands it to the Store's queries, which return rows of their own types, never result columns
/// by position.
public typealias Database = PostgresConnection

extension Database {
    /// Whether `error` says the connection itself failed (the server went away, the session
    /// ended), not a statement: what ends the session of a worker holding a lease on it.
    public static func lostConnection(_ error: any Error) -> Bool {
        (error as? PostgresError)?.isConnectionFailure == true
    }
}
