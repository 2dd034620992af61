import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging
import Synchronization

extension IntakeSession {
    // MARK: Rebalance (runs inside poll, on the intake thread)

    func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        let store = reader
        try committer.drain()
        // Another member may have recorded dead letters of these partitions meanwhile.
        writer.forgetRecorded()
        let stored = try store.offsets(
            for: partitions.map { PartitionOffset($0, offset: -2) })
        cache.removeAll()
        heldCases = try store.heldCaseIds(partitions: stored)
        var start: [TopicPartition: Int64] = [:]
        for s in stored {
            let tp = s.topicPartition
            positions[tp] = s.offset
            if s.offset >= 0 { start[tp] = s.offset }
        }
        try findGaps(stored, start: &start)
        health.update {
            $0.brokersOK = true
            $0.brokersProblem = ""
            $0.assignedPartitions = positions.count
            $0.groupJoined = true
        }
        // How long the group coordinator took to hand the partitions over (since joining or the
        // last revocation): on a restart that is most of the time to ready.
        logger.info(
            "partitions assigned",
            metadata: [
                "partitions":
                    "\(partitions.map { "\($0.topic)[\($0.partition)]@\(positions[$0] ?? -2)" }.sorted().joined(separator: ","))",
                "group_wait_ms": "\((monotonicNanos() - groupWaitStart) / 1_000_000)",
            ])
        return start
    }

    func revoked(_ partitions: [TopicPartition]) {
        // Commit what was planned before giving the partitions up (a failure surfaces on the
        // next submit and restarts the session), then forget the positions so that stray
        // messages are not applied.
        do { try committer.drain() } catch { logger.error("commit before revocation failed: \(error)") }
        groupWaitStart = monotonicNanos()
        gapStopped.subtract(partitions)
        if let consumer { commitToGroup(consumer, only: partitions) }
        for p in partitions {
            groupCommitted[p] = nil
            positions[p] = nil
            eventTime[p] = nil
            Gauge(label: Metric.consumerLag, dimensions: [("topic", p.topic), ("partition", "\(p.partition)")]).record(0)
        }
        let assigned = positions.count
        health.update { $0.assignedPartitions = assigned }
        cache.removeAll()
        logger.info("partitions revoked", metadata: ["count": "\(partitions.count)"])
    }

    final class Rebalance: KafkaRebalanceHandler, @unchecked Sendable {
        // @unchecked: called only on the intake thread, inside poll.
        unowned let session: IntakeSession
        init(session: IntakeSession) { self.session = session }
        func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
            try session.assigned(partitions)
        }
        func revoked(_ partitions: [TopicPartition]) { session.revoked(partitions) }
        func pausedOnAssignment(_ partitions: [TopicPartition]) -> [TopicPartition] {
            partitions.filter { session.gapStopped.contains($0) }
        }
    }
}
