import CoreMetrics
import GridloopCore
import GridloopSettings
import GridloopStore
import Synchronization

/// What `/readyz`, `STATUS=` and the watchdog need to know, kept up to date by the workers.
public struct HealthState: Sendable, Equatable {
    /// Last successful database round trip (monotonic ns), by the health probe.
    public var databaseOK = false
    public var databaseProblem = "not connected yet"
    /// Whether the consumer currently has a group session and its partitions.
    public var brokersOK = false
    public var brokersProblem = "not connected yet"
    public var assignedPartitions = 0
    /// Whether the intake's consumer is a member of its group: it has had an assignment (of
    /// partitions, or of none: a standby instance) since its session started.
    public var groupJoined = false
    /// Sum of the lag over the assigned partitions (messages), -1 if unknown.
    public var lag: Int64 = -1
    public var openCases: Int = -1
    public var outboxBacklog: Int = -1
    /// The intake gaps not acknowledged yet (`IntakeGap.summary`), by the health probe and the
    /// intake: ranges the broker deleted before they were applied.
    public var unacknowledgedGaps: [String] = []
    /// Why the intake's last session ended, when the cause is neither the database's connection
    /// nor the brokers (a schema not migrated, a migration edited since it was applied); nil
    /// once a session has started.
    public var intakeProblem: String?
    /// Heartbeats of the worker loops (monotonic ns): a hung loop stops the watchdog.
    public var intakeBeat: UInt64 = 0
    public var relayBeat: UInt64 = 0

    public init() {}
}

/// Shared, thread-safe health of the running daemon.
public final class Health: Sendable {
    private let box = Mutex(HealthState())
    public init() {}
    public var state: HealthState { box.withLock { $0 } }
    public func update(_ change: (inout HealthState) -> Void) { box.withLock { change(&$0) } }

    /// Ready: database reachable, brokers reachable, the consumer group joined (with partitions,
    /// or none: a standby instance, ready to take over), lag under `maxLag`, no intake gap
    /// waiting for an operator's acknowledgement.
    /// Returns the reasons it is not.
    public func readiness(maxLag: Int64) -> [String] {
        let s = state
        var problems: [String] = []
        if !s.databaseOK { problems.append("database: \(s.databaseProblem)") }
        if !s.brokersOK { problems.append("brokers: \(s.brokersProblem)") }
        if !s.groupJoined { problems.append("consumer group not joined yet") }
        if let p = s.intakeProblem { problems.append("intake: \(p)") }
        if s.lag > maxLag { problems.append("intake lag \(s.lag) is above \(maxLag)") }
        if !s.unacknowledgedGaps.isEmpty {
            problems.append(
                "intake gaps not acknowledged (gridloopd gaps list, then gaps ack ID): "
                    + s.unacknowledgedGaps.joined(separator: "; "))
        }
        return problems
    }

    /// What the instance does while it is ready: `"active, N partitions"`, or `"standby"` when
    /// the group gave it no partition (it takes some over when a member leaves).
    public var role: String {
        let s = state
        return s.assignedPartitions > 0 ? "active, \(s.assignedPartitions) partitions" : "standby (no partition assigned)"
    }
}
