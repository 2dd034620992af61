import GridloopCore

/// A consumed message, copied out of librdkafka.
public struct KafkaMessage: Sendable {
    /// The partition the message was read from (its topic one shared String per topic).
    public var topicPartition: TopicPartition
    public var topic: String { topicPartition.topic }
    public var partition: Int32 { topicPartition.partition }
    /// Its offset in the partition.
    public var offset: Int64
    /// nil for a null key.
    public var key: [UInt8]?
    /// Empty for a null payload.
    public var value: [UInt8]
    /// The record headers, in order (names may repeat).
    public var headers: [KafkaHeader]
    /// Message timestamp, epoch ms, when the broker gave one.
    public var timestamp: Int64?

    /// A message with the given fields (for tests and replays).
    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8],
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) {
        self.topicPartition = TopicPartition(topic: topic, partition: partition)
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}
