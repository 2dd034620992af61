import GridloopCore
import GridloopKafka
import GridloopPostgres

/// A batch whose commit PostgreSQL refused because of the data it carried (see
/// `PostgresError.isCausedByData`). The intake reads those offsets again and commits them in
/// isolation, so that the one message at fault becomes a dead letter and the rest is applied.
struct RefusedBatch: Error, CustomStringConvertible {
    var error: PostgresError
    /// Per partition, the offsets of the refused batch.
    var ranges: [TopicPartition: Range<Int64>]
    var description: String { "batch refused for its data: \(error)" }
}
