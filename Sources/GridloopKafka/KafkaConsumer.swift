import CRdKafka

// Threading: a `KafkaConsumer` belongs to one thread, the one that calls `poll` (the intake
// loop). librdkafka invokes the rebalance and error callbacks from inside `poll`, on that
// thread, so the handler never runs concurrently with the caller's own work.

/// A consumed message, copied out of librdkafka.
public struct KafkaMessage: Sendable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    /// Empty for a null payload.
    public var value: [UInt8]
    public var headers: [KafkaHeader]
    /// Message timestamp, epoch ms, when the broker gave one.
    public var timestamp: Int64?
}

/// What the consumer's owner does when the group gives it partitions or takes them away.
public protocol KafkaRebalanceHandler: AnyObject {
    /// Called before consumption of `partitions` starts; returns the offset at which each
    /// partition starts (partitions left out start at the beginning of the log). Throwing
    /// cancels the assignment and makes the next `poll` throw.
    func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64]
    /// Called before `partitions` are given up; the owner finishes its work on them first.
    func revoked(_ partitions: [TopicPartition])
}

/// A consumer in a consumer group with manual offsets: nothing is committed automatically,
/// and each assignment starts where the rebalance handler says.
public final class KafkaConsumer {
    private let handle: OpaquePointer
    private let context: Unmanaged<CallbackContext>
    private var topicNames: [OpaquePointer: String] = [:]
    private var closed = false

    /// - Parameters:
    ///   - configuration: librdkafka properties (`bootstrap.servers`, `group.id`, TLS, SASL, ...).
    ///   - errorHandler: non-fatal client errors (broker down, ...), called on the polling thread.
    public init(configuration: [String: String], topics: [String], rebalanceHandler: KafkaRebalanceHandler,
                errorHandler: @escaping (KafkaError) -> Void) throws {
        var props = configuration
        props["enable.auto.commit"] = "false"
        props["enable.auto.offset.store"] = "false"
        props["enable.partition.eof"] = "false"
        if props["auto.offset.reset"] == nil { props["auto.offset.reset"] = "earliest" }
        if props["partition.assignment.strategy"] == nil { props["partition.assignment.strategy"] = "range,roundrobin" }
        let conf = try KafkaConfiguration.make(props)
        let ctx = Unmanaged.passRetained(CallbackContext(handler: rebalanceHandler, errorHandler: errorHandler))
        rd_kafka_conf_set_opaque(conf, ctx.toOpaque())
        rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
            guard let rk, let opaque else { return }
            Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue().rebalance(rk, err, partitions)
        }
        rd_kafka_conf_set_error_cb(conf) { _, err, reason, opaque in
            guard let opaque else { return }
            let text = reason.map { String(cString: $0) } ?? ""
            Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
                .errorHandler(KafkaError(code: err, name: String(cString: rd_kafka_err2name(rd_kafka_resp_err_t(rawValue: err))), message: text))
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            ctx.release()
            throw KafkaError.client("cannot create consumer: \(cString(errstr))")
        }
        handle = rk
        context = ctx
        rd_kafka_poll_set_consumer(rk)
        let list = rd_kafka_topic_partition_list_new(Int32(topics.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for t in topics { rd_kafka_topic_partition_list_add(list, t, RD_KAFKA_PARTITION_UA) }
        let err = rd_kafka_subscribe(rk, list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            rd_kafka_destroy(rk)
            ctx.release()
            throw KafkaError(err, context: "subscribe to \(topics.joined(separator: ", "))")
        }
    }

    deinit {
        close()
        rd_kafka_destroy(handle)
        context.release()
    }

    /// Up to `maxMessages` messages: waits up to `timeout` for the first, then takes whatever
    /// else is ready. Rebalance callbacks run inside this call.
    public func poll(maxMessages: Int, timeout: Duration) throws -> [KafkaMessage] {
        if let e = context.takeUnretainedValue().takeFailure() { throw e }
        var out: [KafkaMessage] = []
        out.reserveCapacity(min(maxMessages, 4096))
        let timeoutMs = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        let deadline = ContinuousClock.now + timeout
        var wait = timeoutMs
        while out.count < maxMessages {
            guard let m = rd_kafka_consumer_poll(handle, wait) else {
                // Nothing ready: keep waiting only while the batch is empty and time is left.
                if out.isEmpty, ContinuousClock.now < deadline { wait = 5; continue }
                break
            }
            defer { rd_kafka_message_destroy(m) }
            wait = 0
            let msg = m.pointee
            if msg.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                if msg.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { continue }
                let e = KafkaError(msg.err, context: "consume")
                if rd_kafka_fatal_error(handle, nil, 0) != RD_KAFKA_RESP_ERR_NO_ERROR { throw e }
                context.takeUnretainedValue().errorHandler(e)
                continue
            }
            out.append(copy(m))
            if let e = context.takeUnretainedValue().takeFailure() { throw e }
        }
        if let e = context.takeUnretainedValue().takeFailure() { throw e }
        return out
    }

    private func copy(_ m: UnsafeMutablePointer<rd_kafka_message_t>) -> KafkaMessage {
        let msg = m.pointee
        let topic: String
        if let cached = topicNames[msg.rkt] {
            topic = cached
        } else {
            topic = String(cString: rd_kafka_topic_name(msg.rkt))
            topicNames[msg.rkt] = topic
        }
        var key: [UInt8]?
        if let k = msg.key { key = Array(UnsafeRawBufferPointer(start: k, count: msg.key_len)) }
        var value: [UInt8] = []
        if let p = msg.payload { value = Array(UnsafeRawBufferPointer(start: p, count: msg.len)) }
        var headers: [KafkaHeader] = []
        var hdrs: OpaquePointer?
        if rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
            var idx = 0
            var name: UnsafePointer<CChar>?
            var val: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(hdrs, idx, &name, &val, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                headers.append(KafkaHeader(name: name.map { String(cString: $0) } ?? "",
                                           value: val.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                idx += 1
            }
        }
        var tstype = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let ts = rd_kafka_message_timestamp(m, &tstype)
        return KafkaMessage(topic: topic, partition: msg.partition, offset: msg.offset, key: key, value: value,
                            headers: headers, timestamp: tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : ts)
    }

    /// Low and high watermarks from the broker (one round trip).
    public func watermarks(_ tp: TopicPartition, timeout: Duration = .seconds(5)) throws -> (low: Int64, high: Int64) {
        var low: Int64 = 0
        var high: Int64 = 0
        let ms = Int32(timeout.components.seconds * 1000)
        let err = rd_kafka_query_watermark_offsets(handle, tp.topic, tp.partition, &low, &high, ms)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: "watermarks of \(tp)") }
        return (low, high)
    }

    /// Watermarks as last seen in fetch responses (no round trip; -1001 when unknown).
    public func cachedWatermarks(_ tp: TopicPartition) -> (low: Int64, high: Int64) {
        var low: Int64 = -1001
        var high: Int64 = -1001
        _ = rd_kafka_get_watermark_offsets(handle, tp.topic, tp.partition, &low, &high)
        return (low, high)
    }

    /// The partitions currently assigned to this consumer.
    public func assignment() throws -> [TopicPartition] {
        var list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
        let err = rd_kafka_assignment(handle, &list)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { throw KafkaError(err, context: "assignment") }
        defer { rd_kafka_topic_partition_list_destroy(list) }
        return partitions(of: list)
    }

    /// Commits offsets to Kafka asynchronously, for monitoring tools only (the daemon's truth is its database).
    public func commitAsync(_ offsets: [TopicPartition: Int64]) {
        guard !offsets.isEmpty else { return }
        let list = rd_kafka_topic_partition_list_new(Int32(offsets.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for (tp, off) in offsets { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition).pointee.offset = off }
        _ = rd_kafka_commit(handle, list, 1)
    }

    /// Leaves the group (the revoke handler runs first). Safe to call twice.
    public func close() {
        guard !closed else { return }
        closed = true
        _ = rd_kafka_consumer_close(handle)
    }
}

func partitions(of list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) -> [TopicPartition] {
    let l = list.pointee
    return (0..<Int(l.cnt)).map { i in
        let p = l.elems[i]
        return TopicPartition(topic: String(cString: p.topic), partition: p.partition)
    }
}

/// What the C callbacks reach through the configuration's opaque pointer.
final class CallbackContext {
    let handler: KafkaRebalanceHandler
    let errorHandler: (KafkaError) -> Void
    private var failure: Error?

    init(handler: KafkaRebalanceHandler, errorHandler: @escaping (KafkaError) -> Void) {
        self.handler = handler
        self.errorHandler = errorHandler
    }

    func takeFailure() -> Error? {
        defer { failure = nil }
        return failure
    }

    func rebalance(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
                   _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        guard let list else { return }
        let tps = partitions(of: list)
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            do {
                let start = try handler.assigned(tps)
                let l = list.pointee
                for i in 0..<Int(l.cnt) {
                    let tp = TopicPartition(topic: String(cString: l.elems[i].topic), partition: l.elems[i].partition)
                    l.elems[i].offset = start[tp] ?? Int64(RD_KAFKA_OFFSET_BEGINNING)
                }
                let e = rd_kafka_assign(rk, list)
                if e != RD_KAFKA_RESP_ERR_NO_ERROR { failure = KafkaError(e, context: "assign") }
            } catch {
                failure = error
                _ = rd_kafka_assign(rk, nil)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            handler.revoked(tps)
            _ = rd_kafka_assign(rk, nil)
        default:
            failure = KafkaError(err, context: "rebalance")
            _ = rd_kafka_assign(rk, nil)
        }
    }
}
