import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopSettings
import GridloopStore
import Logging
import Synchronization

// The consumer group's committed offsets: a copy of the database's, for lag tools.
extension IntakeSession {
    /// Commits to the consumer group, asynchronously, the offsets the database has committed:
    /// for the Kafka team's lag tools (consumer-group listings, exporters). The database stays
    /// the truth: an assignment starts from its offsets, never from these. Once a second, from
    /// `observe`, and for partitions given up, in `revoked`.
    func commitToGroup(_ consumer: KafkaConsumer, only: [TopicPartition]? = nil) {
        let done = committer.completed
        var durable: [TopicPartition: Int64]?
        if done == committer.submitted {
            durable = positions
            groupSnapshots.removeAll()
        } else {
            var n = 0
            while n < groupSnapshots.count, groupSnapshots[n].job <= done {
                durable = groupSnapshots[n].positions
                n += 1
            }
            groupSnapshots.removeFirst(n)
        }
        guard let durable else { return }
        var changed: [TopicPartition: Int64] = [:]
        for (tp, offset) in durable where offset >= 0 && positions[tp] != nil && groupCommitted[tp] != offset {
            if let only, !only.contains(tp) { continue }
            changed[tp] = offset
        }
        guard !changed.isEmpty else { return }
        consumer.commitAsync(changed)
        groupCommitted.merge(changed) { $1 }
    }
}
