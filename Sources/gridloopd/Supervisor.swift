import Dispatch
import Foundation
import GridloopPipeline
import GridloopStore
import Logging

/// The main thread while the daemon runs: tells systemd when it is ready, what it is doing
/// (`STATUS=`), and that it is alive (`WATCHDOG=1`) only while the worker loops report in.
struct Supervisor {
    let systemd: SystemdNotifier
    let health: Health
    let logger: Logger
    let stop: StopSignal

    func run() {
        var ready = false
        var lastPartitions = 0
        var lastStatus: UInt64 = 0
        var lastWatchdog: UInt64 = 0
        var silentSince: UInt64?
        let watchdogEvery = systemd.watchdogInterval.map {
            UInt64($0.components.seconds) * 1_000_000_000 + UInt64($0.components.attoseconds / 1_000_000_000)
        }
        let hungAfter = watchdogEvery.map { $0 * 2 }
        while !stop.isSet {
            let now = monotonicNanos()
            let s = health.state
            // Ready once it can work: a standby instance (no partition) is ready too, to take
            // partitions over when a member leaves; systemd would otherwise kill it at
            // TimeoutStartSec. The watchdog below keeps working for both.
            if !ready, s.databaseOK, s.brokersOK, s.groupJoined {
                ready = true
                systemd.notify("READY=1")
                systemd.notify("STATUS=\(Self.status(s))")
                lastStatus = now
                logger.notice("ready", metadata: ["role": "\(health.role)", "partitions": "\(s.assignedPartitions)"])
            }
            if ready, s.groupJoined, (s.assignedPartitions > 0) != (lastPartitions > 0) {
                logger.notice(
                    s.assignedPartitions > 0 ? "active: partitions assigned" : "standby: no partition assigned",
                    metadata: ["partitions": "\(s.assignedPartitions)"])
            }
            if s.groupJoined { lastPartitions = s.assignedPartitions }
            if now - lastStatus >= 5_000_000_000 {
                lastStatus = now
                systemd.notify("STATUS=\(Self.status(s))")
            }
            if let every = watchdogEvery, let hungAfter, now - lastWatchdog >= every {
                // A loop is hung when it has not reported for a whole watchdog interval.
                let stale = [("intake", s.intakeBeat), ("relay", s.relayBeat)].filter {
                    $0.1 != 0 && now > $0.1 && now - $0.1 > hungAfter
                }
                if stale.isEmpty {
                    systemd.notify("WATCHDOG=1")
                    lastWatchdog = now
                    silentSince = nil
                } else if silentSince == nil {
                    silentSince = now
                    logger.critical(
                        "worker loop not responding: withholding the watchdog so that systemd restarts the daemon",
                        metadata: ["loops": "\(stale.map(\.0).joined(separator: ","))"])
                }
            }
            usleep(100_000)
        }
    }

    static func status(_ s: HealthState) -> String {
        var parts: [String] = []
        parts.append(s.databaseOK ? "db ok" : "db DOWN")
        parts.append(s.brokersOK ? "brokers ok" : "brokers DOWN")
        parts.append(
            !s.groupJoined
                ? "group not joined" : s.assignedPartitions > 0 ? "active, \(s.assignedPartitions) partitions" : "standby")
        parts.append("lag \(s.lag >= 0 ? "\(s.lag)" : "?")")
        parts.append("open cases \(s.openCases >= 0 ? "\(s.openCases)" : "?")")
        parts.append("outbox \(s.outboxBacklog >= 0 ? "\(s.outboxBacklog)" : "?")")
        if !s.unacknowledgedGaps.isEmpty { parts.append("\(s.unacknowledgedGaps.count) intake gap(s) NOT ACKNOWLEDGED") }
        return parts.joined(separator: ", ")
    }
}
