import CRdKafka
import GridloopCore
import Synchronization

/// A message to publish.
public struct ProducerRecord: Sendable {
    /// The topic to publish to.
    public var topic: String
    /// nil: librdkafka's partitioner chooses by key.
    public var partition: Int32?
    /// nil: a null key.
    public var key: [UInt8]?
    /// Sent as is (an empty value is an empty, non-null payload).
    public var value: [UInt8]
    /// Record headers, sent in order.
    public var headers: [KafkaHeader]
    /// A null value (a tombstone) instead of `value`.
    public var valueIsNull = false

    /// A record for `topic`; without `partition` the key decides (librdkafka's default partitioner).
    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Where a record landed.
public struct DeliveredOffset: Sendable, Hashable {
    /// The partition the record was written to.
    public var partition: Int32
    /// Its offset in that partition.
    public var offset: Int64

    /// The position `offset` in partition `partition`.
    public init(partition: Int32, offset: Int64) {
        self.partition = partition
        self.offset = offset
    }
}
