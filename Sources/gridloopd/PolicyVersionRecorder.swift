import GridloopCore
import GridloopPipeline
import GridloopSettings
import GridloopStore
import Logging

// Threading: `run()` owns its thread and its connection.

/// Records each version of the SLA policy this instance runs in `policy_versions` (with its
/// text), at start and after a reload, for the clocks that name the version they started
/// under (`case show`, `whatif`). Every instance: each records what it runs. Looks once a
/// second (no query unless the version changed).
final class PolicyVersionRecorder: Sendable {
    private let config: GridloopConfig
    private let logger: Logger
    private let stop: StopSignal
    private let policy: @Sendable () -> SLAPolicy

    init(config: GridloopConfig, logger: Logger, stop: StopSignal, policy: @escaping @Sendable () -> SLAPolicy) {
        self.config = config
        self.logger = logger
        self.stop = stop
        self.policy = policy
    }

    func run() {
        var recorded = ""
        WorkerLoop(name: "policy version recorder", logger: logger, stop: stop).run(
            open: { try config.connectDatabase("gridloopd-policies") },
            round: { db in
                let policy = policy()
                if policy.version != recorded, !policy.version.isEmpty {
                    try PolicyVersionQueries.record(
                        version: policy.version, source: policy.file, document: policy.document, db: db)
                    recorded = policy.version
                }
                return .after(millis: 1_000)
            })
    }
}
