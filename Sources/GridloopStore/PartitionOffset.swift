import GridloopCore
import GridloopPostgres

/// A consumer position: the next offset to read on one partition.
public struct PartitionOffset: Sendable, Hashable {
    public var topicPartition: TopicPartition
    public var offset: Int64
    public var topic: String { topicPartition.topic }
    public var partition: Int32 { topicPartition.partition }
    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }
}
