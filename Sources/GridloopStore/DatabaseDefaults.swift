/// How long the daemon waits for a database that stops answering, unless the database URL says
/// otherwise (a keyword in the URL, its `PG*` environment variable, or for `statement_timeout`
/// any setting made on the server wins; see `PostgresConnection.init`).
///
/// Without them libpq waits for ever: a connection attempt to a server that accepts but never
/// answers, a query on a connection whose peer vanished without a FIN (a host or a network gone),
/// a statement stuck behind a lock. With them such a session fails within about half a minute,
/// the worker logs the error and reconnects with its backoff, and `/readyz` says so.
public enum DatabaseDefaults {
    /// libpq connection keywords for every connection (the daemon's and the commands').
    ///
    /// - `connect_timeout` 10 s: a reachable server answers a connection in milliseconds; 10 s
    ///   allows a slow TLS handshake or a server busy starting backends, and bounds an attempt on
    ///   a server that accepted the socket but is frozen (this applies to unix sockets too).
    /// - `keepalives` idle 10 s, interval 5 s, count 3: an idle connection to a host that is gone
    ///   is noticed within about 25 s instead of the kernel's 2 hours.
    /// - `tcp_user_timeout` 30 s: data sent but not acknowledged for 30 s ends the connection
    ///   (keepalives only probe idle connections); above the keepalive total, so a connection
    ///   the keepalives would keep is not cut.
    ///
    /// The TCP keywords do not apply to a unix-socket connection (libpq ignores them there): a
    /// local server that stops answering is caught by `connect_timeout`, `statement_timeout` and
    /// the health probe's own deadline (`HealthProbe.queryTimeout`).
    public static let connection: [String: String] = [
        "connect_timeout": "10",
        "keepalives": "1",
        "keepalives_idle": "10",
        "keepalives_interval": "5",
        "keepalives_count": "3",
        "tcp_user_timeout": "30000",
    ]

    /// `statement_timeout` for the daemon's sessions (intake, commit, relay, health probe): a
    /// statement blocked for longer (behind a lock held by a stuck session, say) is cancelled, and
    /// the worker retries its batch. The longest legitimate statements are an intake commit's
    /// COPYs of at most `intake.batchMaxMessages` (100,000 at most) events and a firing page of
    /// 2,000 clocks: seconds at worst, so 45 s leaves a wide margin; and it ends before the
    /// systemd watchdog (`WatchdogSec=60`, a loop silent for 60 s is hung) would restart the
    /// daemon for a statement merely waiting on a lock. `gridloopd migrate` and the
    /// other commands run without it: a migration may rewrite a large table, and a person can
    /// interrupt a command. Set `options=-c statement_timeout=...` in the URL (or on the role)
    /// to change it; `0` turns it off.
    public static let statementTimeout = "45s"

    /// The server settings of a daemon session.
    public static let daemonSettings: [String: String] = ["statement_timeout": statementTimeout]
}
