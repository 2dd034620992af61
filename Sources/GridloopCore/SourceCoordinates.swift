/// A partition and an offset in it: where a Kafka message came from (also, as `PartitionOffset`
/// in the Store, a consumer position: the next offset to read).
public struct SourceCoordinates: Sendable, Hashable, Codable {
    public var topicPartition: TopicPartition
    public var offset: Int64
    public var topic: String { topicPartition.topic }
    public var partition: Int32 { topicPartition.partition }

    public init(_ topicPartition: TopicPartition, offset: Int64) {
        self.topicPartition = topicPartition
        self.offset = offset
    }

    public init(topic: String, partition: Int32, offset: Int64) {
        self.init(TopicPartition(topic: topic, partition: partition), offset: offset)
    }

    /// As `{"topic", "partition", "offset"}`.
    private enum CodingKeys: String, CodingKey { case topic, partition, offset }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            topic: try c.decode(String.self, forKey: .topic), partition: try c.decode(Int32.self, forKey: .partition),
            offset: try c.decode(Int64.self, forKey: .offset))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(topic, forKey: .topic)
        try c.encode(partition, forKey: .partition)
        try c.encode(offset, forKey: .offset)
    }
}
