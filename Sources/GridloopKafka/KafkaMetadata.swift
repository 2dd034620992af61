import CRdKafka
import GridloopCore

/// The partition ids of each of `topics` that the cluster knows, from one metadata request for
/// all topics (`rd_kafka_metadata` with `all_topics`), on any client handle. Topics the cluster
/// does not know are absent from the result; a topic whose metadata carries an error throws it.
func clusterPartitions(_ handle: OpaquePointer, topics: [String], timeout: Duration) throws -> [String: [Int32]] {
    var metadata: UnsafePointer<rd_kafka_metadata>?
    let err = rd_kafka_metadata(handle, 1, nil, &metadata, timeout.kafkaMilliseconds)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
        throw KafkaError(err, context: "read cluster metadata")
    }
    defer { rd_kafka_metadata_destroy(metadata) }
    let wanted = Set(topics)
    var out: [String: [Int32]] = [:]
    let md = metadata.pointee
    for i in 0..<Int(md.topic_cnt) {
        let t = md.topics[i]
        let name = String(cString: t.topic)
        guard wanted.contains(name) else { continue }
        if t.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART { continue }
        guard t.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(t.err, context: "metadata of topic \(name)") }
        out[name] = (0..<Int(t.partition_cnt)).map { t.partitions[$0].id }.sorted()
    }
    return out
}

/// The offset at `position` (`KafkaOffset.end`: the high watermark; `KafkaOffset.beginning`:
/// the oldest kept) of each of `partitions`, with one ListOffsets request per partition leader
/// (`rd_kafka_offsets_for_times`) rather than one round trip per partition.
func listOffsets(
    _ handle: OpaquePointer, _ partitions: [TopicPartition], at position: Int64,
    timeout: Duration
) throws -> [TopicPartition: Int64] {
    guard !partitions.isEmpty else { return [:] }
    let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
    defer { rd_kafka_topic_partition_list_destroy(list) }
    for tp in partitions { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = position }
    let err = rd_kafka_offsets_for_times(handle, list, timeout.kafkaMilliseconds)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError(err, context: "list offsets of \(partitions.count) partitions")
    }
    var out: [TopicPartition: Int64] = [:]
    for i in 0..<Int(list.pointee.cnt) {
        let e = list.pointee.elems[i]
        let tp = TopicPartition(topic: String(cString: e.topic), partition: e.partition)
        guard e.err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(e.err, context: "list offsets of \(tp)") }
        out[tp] = e.offset
    }
    return out
}
