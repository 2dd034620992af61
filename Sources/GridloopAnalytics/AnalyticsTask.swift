import GridloopStore

/// One kind of analytics work the group's lease holder does (`AnalyticsLeader`): the scorecard's
/// facts, the at-risk gauge, the morning digest. A round is bounded (a batch, a page at a time)
/// and runs on the lease's connection; the leader runs the tasks in turn on one thread, each
/// when its round is due.
public protocol AnalyticsTask {
    /// The `task` label of `gridloop_analytics_rounds_total`, and the log lines' name.
    var name: String { get }
    /// A new lease session begins on `db` (per-session settings; the next rounds start afresh).
    mutating func opened(_ db: Database) throws
    /// One round; returns the milliseconds until the next (0: at once, there is more to do).
    mutating func round(_ db: Database) throws -> Int
    /// The lease is gone (its connection failed, or the daemon stops): stop exporting what only
    /// the holder should.
    mutating func lost()
}

extension AnalyticsTask {
    public mutating func opened(_ db: Database) throws {}
    public mutating func lost() {}
}
