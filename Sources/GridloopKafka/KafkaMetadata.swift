import CRdKafka

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
