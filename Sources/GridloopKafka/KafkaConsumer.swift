import CRdKafka
import GridloopCore

// Threading: a `KafkaConsumer` belongs to ONE thread, the intake loop thread that creates it and
// calls `poll` (it is deliberately not Sendable). With `rd_kafka_poll_set_consumer` every event
// (messages, rebalances, errors, commit results) comes through the consumer queue, so librdkafka
// invokes the rebalance, error and offset-commit callbacks inside `poll` (or `close`) on that
// thread: the rebalance handler and the error sink never run concurrently with the owner's own
// work and need no locking. librdkafka's internal threads (broker I/O, main) never call into Swift
// here. The `ConsumerContext` box reached through the handle's opaque pointer is owned by the
// `KafkaConsumer` and outlives the handle (released after `rd_kafka_destroy`).

/// A consumer in a consumer group (classic eager rebalancing) with manual offsets: nothing is
/// committed or stored automatically, and each assignment starts where the rebalance handler says.
public final class KafkaConsumer {
    private let handle: OpaquePointer
    private let context: Unmanaged<ConsumerContext>
    /// Topic names interned by `rd_kafka_topic_t*`; the name pointer detects a reused address.
    private var topicNames: [OpaquePointer: (cName: UnsafePointer<CChar>, name: String)] = [:]
    private var closed = false
    /// Partitions whose fetch offset the broker refused as out of range since `takeOutOfRange`.
    private var outOfRange: [TopicPartition: Int64] = [:]

    /// Creates the consumer and subscribes to `topics`.
    /// - Parameters:
    ///   - configuration: librdkafka properties (`bootstrap.servers`, `group.id`, TLS, SASL, ...);
    ///     `enable.auto.commit`, `enable.auto.offset.store` and `enable.partition.eof` are forced
    ///     off, `auto.offset.reset` is forced to `error` (an offset the broker no longer has is
    ///     reported by `takeOutOfRange`, never skipped silently), a cooperative
    ///     `partition.assignment.strategy` is refused, and `queued.min.messages` (500,000) gets a default.
    ///   - rebalanceHandler: decides where assigned partitions start; kept until the consumer is gone.
    ///   - errorHandler: non-fatal errors (broker down, per-message errors, failed async commits,
    ///     a failed assignment), called on the polling thread.
    public convenience init(
        configuration: [String: String], topics: [String], rebalanceHandler: KafkaRebalanceHandler,
        errorHandler: @escaping (KafkaError) -> Void
    ) throws {
        var props = configuration
        // The owner keeps its offsets elsewhere and must hear of every range it cannot read.
        props["auto.offset.reset"] = "error"
        try self.init(
            configuration: props, source: .group(topics), rebalanceHandler: rebalanceHandler,
            errorHandler: errorHandler)
    }

    /// Creates a consumer that reads `start` (each partition from its offset) outside any group:
    /// `rd_kafka_assign`, no subscription, no rebalances, nothing committed. `configuration`
    /// still needs a `group.id` (librdkafka's consumer queue hangs off it); no group is joined.
    public convenience init(
        configuration: [String: String], reading start: [TopicPartition: Int64],
        errorHandler: @escaping (KafkaError) -> Void
    ) throws {
        final class NoGroup: KafkaRebalanceHandler {
            func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] { [:] }
            func revoked(_ partitions: [TopicPartition]) {}
        }
        try self.init(
            configuration: configuration, source: .partitions(start), rebalanceHandler: NoGroup(),
            errorHandler: errorHandler)
    }

    private enum Source {
        case group([String])
        case partitions([TopicPartition: Int64])
    }

    private init(
        configuration: [String: String], source: Source, rebalanceHandler: KafkaRebalanceHandler,
        errorHandler: @escaping (KafkaError) -> Void
    ) throws {
        var props = configuration
        props["enable.auto.commit"] = "false"
        props["enable.auto.offset.store"] = "false"
        props["enable.partition.eof"] = "false"
        if props["auto.offset.reset"] == nil { props["auto.offset.reset"] = "earliest" }
        // librdkafka 2.0.2 applies queued.min.messages to the whole consumer queue (every
        // partition is forwarded to it) and, once the queue holds that many, stops fetching until
        // its broker thread next wakes up (up to 1 s later). With the default 100,000 an intake
        // faster than 100k msg/s drains the queue and then stalls. 500,000 tiny messages cost
        // about 160 MB (~320 B each, measured); queued.max.messages.kbytes (64 MB of payload)
        // still bounds big messages.
        if props["queued.min.messages"] == nil { props["queued.min.messages"] = "500000" }
        let strategy = props["partition.assignment.strategy"] ?? "range,roundrobin"
        guard !strategy.contains("cooperative") else {
            throw KafkaError(
                RD_KAFKA_RESP_ERR__INVALID_ARG,
                message: """
                    librdkafka property "partition.assignment.strategy": "\(strategy)" is cooperative; \
                    KafkaConsumer implements the eager protocol only (use range and/or roundrobin)
                    """)
        }
        props["partition.assignment.strategy"] = strategy

        let conf = try KafkaConfig.make(props)
        let ctx = Unmanaged.passRetained(ConsumerContext(handler: rebalanceHandler, errorHandler: errorHandler))
        rd_kafka_conf_set_opaque(conf, ctx.toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, _ in
            guard let rk, let box = rd_kafka_opaque(rk) else { return }
            Unmanaged<ConsumerContext>.fromOpaque(box).takeUnretainedValue().rebalance(rk, err, partitions)
        }
        rd_kafka_conf_set_error_cb(conf) { rk, err, reason, _ in
            guard let rk, let box = rd_kafka_opaque(rk) else { return }
            let text = reason.map { String(cString: $0) } ?? ""
            Unmanaged<ConsumerContext>.fromOpaque(box).takeUnretainedValue()
                .clientError(rk, rd_kafka_resp_err_t(rawValue: err), text)
        }
        rd_kafka_conf_set_offset_commit_cb(conf) { rk, err, offsets, _ in
            // Commits are for monitoring only; "nothing to commit" is not a failure.
            guard let rk, let box = rd_kafka_opaque(rk), err != RD_KAFKA_RESP_ERR_NO_ERROR,
                err != RD_KAFKA_RESP_ERR__NO_OFFSET
            else { return }
            let which = offsets.map { partitions(of: $0).map(\.description).joined(separator: ", ") } ?? ""
            Unmanaged<ConsumerContext>.fromOpaque(box).takeUnretainedValue()
                .errorHandler(KafkaError(err, context: "offset commit of \(which)"))
        }
        let rk: OpaquePointer
        do {
            rk = try makeClient(RD_KAFKA_CONSUMER, conf, what: "consumer")
        } catch {
            ctx.release()
            throw error
        }
        handle = rk
        context = ctx
        // From here on deinit cleans up (closes, destroys, releases the context).
        let err = rd_kafka_poll_set_consumer(rk)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "poll_set_consumer") }
        switch source {
        case .group(let topics):
            let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for t in topics { rd_kafka_topic_partition_list_add(list, t, RD_KAFKA_PARTITION_UA) }
            let subscribed = rd_kafka_subscribe(rk, list)
            guard subscribed == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(subscribed, context: "subscribe to \(topics.joined(separator: ", "))")
            }
        case .partitions(let start):
            let list = rd_kafka_topic_partition_list_new(Int32(start.count))
            defer { rd_kafka_topic_partition_list_destroy(list) }
            for (tp, offset) in start { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset }
            let assigned = rd_kafka_assign(rk, list)
            guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(assigned, context: "assign \(start.keys.map(\.description).sorted().joined(separator: ", "))")
            }
        }
    }

    deinit {
        close()
        rd_kafka_destroy(handle)
        context.release()
    }

    /// Up to `maxMessages` messages: waits up to `timeout` for the first, then takes whatever else
    /// is immediately available. Rebalance callbacks run inside this call; messages of partitions
    /// revoked during it are dropped. Throws a fatal client error or a failed assignment.
    public func poll(maxMessages: Int, timeout: Duration) throws -> [KafkaMessage] {
        let ctx = context.takeUnretainedValue()
        try ctx.throwFailure()
        guard !closed else { throw KafkaError(RD_KAFKA_RESP_ERR__STATE, context: "poll after close") }
        guard maxMessages > 0 else { return [] }
        var out: [KafkaMessage] = []
        out.reserveCapacity(min(maxMessages, 8192))
        var wait = timeout.kafkaMilliseconds
        while out.count < maxMessages {
            let m = rd_kafka_consumer_poll(handle, wait)
            // Callbacks served by that call ran before `m` was dequeued: drop what they revoked
            // from the messages gathered so far, but not `m` itself.
            if ctx.revokedDuringPoll { ctx.dropRevoked(from: &out) }
            guard let m else { break }
            wait = 0
            defer { rd_kafka_message_destroy(m) }
            let err = m.pointee.err
            if err == RD_KAFKA_RESP_ERR_NO_ERROR {
                out.append(copy(m))
            } else if err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET, let rkt = m.pointee.rkt {
                // auto.offset.reset=error: the partition stopped fetching; its owner decides.
                outOfRange[TopicPartition(topic: topicName(rkt), partition: m.pointee.partition)] = m.pointee.offset
            } else if err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                try messageError(m)
            }
            if ctx.failed { break }
        }
        try ctx.throwFailure()
        return out
    }

    /// A per-message error: thrown if the client is in a fatal state, else given to the sink.
    private func messageError(_ m: UnsafeMutablePointer<rd_kafka_message_t>) throws {
        if let fatal = fatalClientError() { throw fatal }
        let msg = m.pointee
        var text = String(cString: rd_kafka_err2str(msg.err))
        if let p = msg.payload, msg.len > 0 {  // librdkafka's errstr for consumer errors
            text = String(decoding: UnsafeRawBufferPointer(start: p, count: msg.len).prefix { $0 != 0 }, as: UTF8.self)
        }
        var whereText = "consume"
        if let rkt = msg.rkt { whereText = "consume \(topicName(rkt))[\(msg.partition)]" }
        context.takeUnretainedValue().errorHandler(KafkaError(msg.err, message: "\(whereText): \(text)"))
    }

    private func fatalClientError() -> KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(err, message: "fatal consumer error: \(cString(errstr))")
    }

    private func topicName(_ rkt: OpaquePointer) -> String {
        let cName = rd_kafka_topic_name(rkt)!
        if let cached = topicNames[rkt], cached.cName == cName { return cached.name }
        let name = String(cString: cName)
        topicNames[rkt] = (cName, name)
        return name
    }

    private func copy(_ m: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage {
        let msg = m.pointee
        let topic = topicName(msg.rkt)
        var key: [UInt8]?
        if let k = msg.key { key = Array(UnsafeRawBufferPointer(start: k, count: msg.key_len)) }
        var value: [UInt8] = []
        if let p = msg.payload, msg.len > 0 { value = Array(UnsafeRawBufferPointer(start: p, count: msg.len)) }
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            let count = rd_kafka_header_cnt(hdrs)
            headers.reserveCapacity(count)
            var name: UnsafePointer<CChar>?
            var val: UnsafeRawPointer?
            var size = 0
            for idx in 0..<count where rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(
                    KafkaHeader(
                        name: name.map { String(cString: $0) } ?? "",
                        value: val.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
            }
        }
        var tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &tstype)
        return KafkaMessage(
            topic: topic, partition: msg.partition, offset: msg.offset, key: key, value: value,
            headers: headers, timestamp: tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
    }

    /// Low and high watermarks of a partition, asked of its leader (one round trip).
    public func watermarks(topic: String, partition: Int32, timeout: Duration = .seconds(5)) throws
        -> (low: Int64, high: Int64)
    {
        try queryWatermarks(handle, topic: topic, partition: partition, timeout: timeout)
    }

    /// Low and high watermarks of `tp`, asked of its leader (one round trip).
    public func watermarks(_ tp: TopicPartition, timeout: Duration = .seconds(5)) throws -> (low: Int64, high: Int64) {
        try watermarks(topic: tp.topic, partition: tp.partition, timeout: timeout)
    }

    /// Watermarks as last seen in fetch responses, without a round trip; `KafkaOffset.invalid`
    /// (-1001) for what is not known yet (e.g. a partition not fetched from).
    public func cachedWatermarks(topic: String, partition: Int32) -> (low: Int64, high: Int64) {
        var low = KafkaOffset.invalid
        var high = KafkaOffset.invalid
        if rd_kafka_get_watermark_offsets(handle, topic, partition, &low, &high) != RD_KAFKA_RESP_ERR_NO_ERROR {
            return (KafkaOffset.invalid, KafkaOffset.invalid)
        }
        return (low, high)
    }

    /// Cached watermarks of `tp` (see `cachedWatermarks(topic:partition:)`).
    public func cachedWatermarks(_ tp: TopicPartition) -> (low: Int64, high: Int64) {
        cachedWatermarks(topic: tp.topic, partition: tp.partition)
    }

    /// The partitions whose fetch offset the broker answered "out of range" (deleted by retention,
    /// or beyond the end of the log) since the last call, each with the offset refused. Such a
    /// partition fetches nothing more until `reassign` gives it a new start.
    public func takeOutOfRange() -> [TopicPartition: Int64] {
        defer { outOfRange = [:] }
        return outOfRange
    }

    /// The offset at `position` (`KafkaOffset.beginning`: the log start, the low watermark;
    /// `KafkaOffset.end`: the high watermark) of each of `partitions`, one ListOffsets request
    /// per partition leader.
    public func offsets(
        _ partitions: [TopicPartition], at position: Int64,
        timeout: Duration = .seconds(5)
    ) throws -> [TopicPartition: Int64] {
        try listOffsets(handle, partitions, at: position, timeout: timeout)
    }

    /// Replaces the assignment with `start` (each partition from its offset), outside a rebalance:
    /// the way to restart a partition that stopped on an out-of-range offset (librdkafka refuses
    /// to seek it). Messages fetched and not polled yet are dropped; paused partitions stay paused.
    public func reassign(_ start: [TopicPartition: Int64]) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(start.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, offset) in start { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = offset }
        let err = rd_kafka_assign(handle, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(err, context: "reassign \(start.keys.map(\.description).sorted().joined(separator: ", "))")
        }
    }

    /// Stops fetching `partitions` (assigned ones) until `resume`; a rebalance that takes them
    /// away resumes them, so that a later assignment starts unpaused.
    public func pause(_ partitions: [TopicPartition]) throws {
        try context.takeUnretainedValue().pause(handle, partitions)
    }

    /// Fetches `partitions` again, from where they were paused.
    public func resume(_ partitions: [TopicPartition]) throws {
        try context.takeUnretainedValue().resume(handle, partitions)
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(handle, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw KafkaError(err, context: "assignment") }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return partitions(of: list)
    }

    /// Commits `offsets` (each the NEXT offset to read) to the group asynchronously, for monitoring
    /// tools only: the daemon's truth is its database. Failures go to the error sink.
    public func commitAsync(_ offsets: [TopicPartition: Int64]) {
        guard !offsets.isEmpty, !closed else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, off) in offsets { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = off }
        let err = rd_kafka_commit(handle, list, 1)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR {
            context.takeUnretainedValue().errorHandler(KafkaError(err, context: "commit"))
        }
    }

    /// The offsets committed to the group for `partitions` (the next offset to read; partitions
    /// with none committed are left out), asked of the group coordinator.
    public func committed(_ partitions: [TopicPartition], timeout: Duration = .seconds(5)) throws -> [TopicPartition: Int64] {
        guard !partitions.isEmpty else { return [:] }
        let list = rd_kafka_topic_partition_list_new(Int32(partitions.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for tp in partitions { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
        let err = rd_kafka_committed(handle, list, timeout.kafkaMilliseconds)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "committed offsets") }
        var result: [TopicPartition: Int64] = [:]
        for i in 0..<Int(list.pointee.cnt) {
            let e = list.pointee.elems[i]
            guard e.err == RD_KAFKA_RESP_ERR_NO_ERROR, e.offset >= 0 else { continue }
            result[TopicPartition(topic: String(cString: e.topic), partition: e.partition)] = e.offset
        }
        return result
    }

    /// Leaves the group; the handler's `revoked` runs inside this call first. Safe to call twice.
    public func close() {
        guard !closed else { return }
        closed = true
        let err = rd_kafka_consumer_close(handle)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, err != RD_KAFKA_RESP_ERR__DESTROY {
            context.takeUnretainedValue().errorHandler(KafkaError(err, context: "close"))
        }
    }
}

func partitions(of list: UnsafePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
    let l = list.pointee
    return (0..<Int(l.cnt)).map { i in
        TopicPartition(topic: String(cString: l.elems[i].topic), partition: l.elems[i].partition)
    }
}

/// Low and high watermarks of a partition, asked of its leader by any client handle.
func queryWatermarks(_ handle: OpaquePointer, topic: String, partition: Int32, timeout: Duration) throws -> (
    low: Int64, high: Int64
) {
    var low: Int64 = 0
    var high: Int64 = 0
    let err = rd_kafka_query_watermark_offsets(handle, topic, partition, &low, &high, timeout.kafkaMilliseconds)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
        throw KafkaError(err, context: "query watermarks of \(topic)[\(partition)]")
    }
    return (low, high)
}
