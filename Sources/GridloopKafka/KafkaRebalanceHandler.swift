import GridloopCore

/// What the consumer's owner does when the group gives it partitions or takes them away. Both
/// methods run on the thread calling `KafkaConsumer.poll` (or `close`), inside that call.
public protocol KafkaRebalanceHandler: AnyObject {
    /// Called before consumption of `partitions` starts; returns the offset at which each
    /// partition starts (partitions left out start at the beginning of the log). Throwing
    /// cancels the assignment and makes `poll` throw that error.
    func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64]
    /// Called before `partitions` are given up; the owner finishes and commits its work on them here.
    func revoked(_ partitions: [TopicPartition])
    /// Called right after an accepted assignment: the partitions of it to keep paused (not
    /// fetched) until `KafkaConsumer.resume`. Default: none.
    func pausedOnAssignment(_ partitions: [TopicPartition]) -> [TopicPartition]
}

extension KafkaRebalanceHandler {
    public func pausedOnAssignment(_ partitions: [TopicPartition]) -> [TopicPartition] { [] }
}
