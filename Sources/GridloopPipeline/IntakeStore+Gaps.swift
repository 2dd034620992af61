import GridloopKafka
import GridloopStore

extension IntakeStore {
    /// Those of `partitions` with a gap not acknowledged yet.
    func unacknowledgedGaps(in partitions: [TopicPartition]) throws -> Set<TopicPartition> {
        let found = try unacknowledgedGaps(in: partitions.map { (topic: $0.topic, partition: $0.partition) })
        return Set(found.map { TopicPartition(topic: $0.topic, partition: $0.partition) })
    }
}
