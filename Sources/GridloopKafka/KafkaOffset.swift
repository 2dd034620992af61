import CRdKafka

/// Special offsets understood by librdkafka wherever an offset is expected.
public enum KafkaOffset {
    /// The oldest message still in the partition (`RD_KAFKA_OFFSET_BEGINNING`).
    public static let beginning = Int64(RD_KAFKA_OFFSET_BEGINNING)
    /// The next message to be produced (`RD_KAFKA_OFFSET_END`).
    public static let end = Int64(RD_KAFKA_OFFSET_END)
    /// The group's committed offset (`RD_KAFKA_OFFSET_STORED`).
    public static let stored = Int64(RD_KAFKA_OFFSET_STORED)
    /// No offset known (`RD_KAFKA_OFFSET_INVALID`).
    public static let invalid = Int64(RD_KAFKA_OFFSET_INVALID)
}
