import CRdKafka
import GridloopCore
import Synchronization

// Threading: one `KafkaProducer` may be shared by any number of threads. librdkafka documents
// its producer handle as thread-safe for produce, poll and flush. Delivery reports (and the
// optional error sink) run inside `rd_kafka_poll`/`rd_kafka_flush`, on whichever thread calls
// it: the `send` callers poll for themselves. Each message's opaque pointer leads to the
// `DeliveryBatch` of the `send` call that produced it, so one thread may serve another call's
// reports without confusing them; a batch's state is behind a Mutex. A batch keeps itself alive
// until its last report, so a report arriving after `send` gave up never touches freed memory.

/// An idempotent producer (`enable.idempotence=true`, `acks=all`) whose `send` waits for the
/// delivery report of every record it was given. Safe to share between threads.
public final class KafkaProducer: @unchecked Sendable {
    // @unchecked Sendable: the only state is `handle`, a librdkafka producer that librdkafka
    // documents as thread-safe for produce/poll/flush, and `context`, an immutable Sendable box;
    // both are `let`s, created in init and released in deinit.
    private let handle: OpaquePointer
    private let context: Unmanaged<ProducerContext>

    /// Creates the producer.
    /// - Parameters:
    ///   - configuration: librdkafka properties (`bootstrap.servers`, TLS, SASL, `linger.ms`, ...);
    ///     `enable.idempotence=true` and `acks=all` are forced.
    ///   - errorHandler: client-level errors (broker down, ...), called on whichever thread is
    ///     polling (inside `send` or `flush`). Without it librdkafka logs them.
    public init(configuration: [String: String], errorHandler: (@Sendable (KafkaError) -> Void)? = nil) throws {
        var props = configuration
        props["enable.idempotence"] = "true"
        props["acks"] = "all"
        let conf = try KafkaConfig.make(props)
        let ctx = Unmanaged.passRetained(ProducerContext(errorHandler: errorHandler))
        rd_kafka_conf_set_opaque(conf, ctx.toOpaque())
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let ticket = message.pointee._private else { return }
            DeliveryBatch.delivered(ticket, message)
        }
        if errorHandler != nil {
            rd_kafka_conf_set_error_cb(conf) { rk, err, reason, _ in
                guard let rk, let box = rd_kafka_opaque(rk) else { return }
                let error = KafkaError(rd_kafka_resp_err_t(rawValue: err), message: reason.map { String(cString: $0) } ?? "")
                Unmanaged<ProducerContext>.fromOpaque(box).takeUnretainedValue().errorHandler?(error)
            }
        }
        do {
            handle = try makeClient(RD_KAFKA_PRODUCER, conf, what: "producer")
        } catch {
            ctx.release()
            throw error
        }
        context = ctx
    }

    deinit {
        // Give queued messages a moment, then purge the rest so that their (failure) reports
        // release their batches, and destroy.
        if rd_kafka_flush(handle, 2000) != RD_KAFKA_RESP_ERR_NO_ERROR {
            _ = rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
            _ = rd_kafka_flush(handle, 500)
            rd_kafka_poll(handle, 0)
        }
        rd_kafka_destroy(handle)
        context.release()
    }

    /// Publishes the records and waits until each has a delivery report or `timeout` passes.
    /// Returns one result per record, in order; records without a report by then fail with
    /// `_TIMED_OUT`. Throws only when the producer is in a fatal state (recreate it).
    public func send(_ records: [ProducerRecord], timeout: Duration) throws -> [Result<DeliveredOffset, KafkaError>] {
        if let fatal = fatalClientError() { throw fatal }
        guard !records.isEmpty else { return [] }
        let deadline = ContinuousClock.now + timeout
        let batch = DeliveryBatch(count: records.count)
        for (i, r) in records.enumerated() {
            while true {
                let err = produce(r, opaque: batch.ticket(i))
                if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
                if err == RD_KAFKA_RESP_ERR__QUEUE_FULL, ContinuousClock.now < deadline {
                    // Serve delivery reports (ours or other callers') to make room, then retry.
                    rd_kafka_poll(handle, 10)
                    continue
                }
                batch.report(i, .failure(KafkaError(err, context: "produce to \(r.topic)")))
                break
            }
        }
        while batch.pending > 0 {
            let left = deadline - ContinuousClock.now
            if left <= .zero { break }
            rd_kafka_poll(handle, min(left.kafkaMilliseconds, 50))
        }
        let results = batch.finish(timeout: timeout)
        if results.contains(where: { if case .failure(let e) = $0 { e.isFatal } else { false } }),
            let fatal = fatalClientError()
        {
            throw fatal
        }
        return results
    }

    private func produce(_ r: ProducerRecord, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !r.headers.isEmpty {
            headers = rd_kafka_headers_new(r.headers.count)
            for h in r.headers {
                if let v = h.value {
                    withBytes(v) { p, n in _ = rd_kafka_header_add(headers, h.name, -1, p, n) }
                } else {
                    _ = rd_kafka_header_add(headers, h.name, -1, nil, 0)
                }
            }
        }
        let partition = r.partition ?? RD_KAFKA_PARTITION_UA
        let err = withBytes(r.value) { bytes, length in
            let (value, valueLen): (UnsafeRawPointer?, Int) = r.valueIsNull ? (nil, 0) : (bytes, length)
            if let key = r.key {
                return withBytes(key) { k, keyLen in
                    gridloop_produce(handle, r.topic, partition, k, keyLen, value, valueLen, headers, opaque)
                }
            }
            return gridloop_produce(handle, r.topic, partition, nil, 0, value, valueLen, headers, opaque)
        }
        // librdkafka owns the headers only when the produce call succeeded.
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return err
    }

    /// The offset at `position` (`KafkaOffset.end` or `.beginning`) of each of `partitions`, with
    /// one request per partition leader. `gridloopd status` asks on a short-lived producer, so
    /// that no consumer group is joined.
    public func offsets(
        _ partitions: [TopicPartition], at position: Int64,
        timeout: Duration = .seconds(5)
    ) throws -> [TopicPartition: Int64] {
        try listOffsets(handle, partitions, at: position, timeout: timeout)
    }

    /// The partition ids of each of `topics` that the cluster knows (absent: no such topic), from
    /// one metadata request for all topics: asking for a topic by name could create it on brokers
    /// that create topics on first use.
    public func partitions(of topics: [String], timeout: Duration = .seconds(5)) throws -> [String: [Int32]] {
        try clusterPartitions(handle, topics: topics, timeout: timeout)
    }

    /// Waits until everything queued is delivered or `timeout` passes; false if messages remain.
    @discardableResult
    public func flush(timeout: Duration) -> Bool {
        rd_kafka_flush(handle, timeout.kafkaMilliseconds) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    private func fatalClientError() -> KafkaError? {
        var errstr = [CChar](repeating: 0, count: 512)
        let err = rd_kafka_fatal_error(handle, &errstr, errstr.count)
        guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
        return KafkaError(err, message: "fatal producer error: \(cString(errstr))")
    }
}

/// Calls `body` with a non-null pointer to `bytes` (a real pointer even when empty, so that an
/// empty key or value stays empty instead of becoming null).
private func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawPointer, Int) -> R) -> R {
    bytes.withUnsafeBytes { b in
        if let base = b.baseAddress { return body(base, b.count) }
        return withUnsafeBytes(of: UInt8(0)) { body($0.baseAddress!, 0) }
    }
}

/// What the producer's C callbacks reach through `rd_kafka_opaque`.
final class ProducerContext: Sendable {
    let errorHandler: (@Sendable (KafkaError) -> Void)?
    init(errorHandler: (@Sendable (KafkaError) -> Void)?) { self.errorHandler = errorHandler }
}

/// Identifies one message of one `send` call in its delivery report.
struct DeliveryTicket {
    let batch: Unmanaged<DeliveryBatch>
    let index: Int
}

/// The results of one `send` call. It retains itself until every record has a result (from a
/// delivery report or a failed produce call), so a late report never touches freed memory.
final class DeliveryBatch: Sendable {
    private let state: Mutex<(results: [Result<DeliveredOffset, KafkaError>?], pending: Int)>
    /// One ticket per record; written in init, read-only afterwards (by the reporting threads).
    nonisolated(unsafe) private let tickets: UnsafeMutablePointer<DeliveryTicket>

    init(count: Int) {
        state = Mutex((Array(repeating: nil, count: count), count))
        tickets = .allocate(capacity: count)
        let me = Unmanaged.passRetained(self)  // released by the last result
        for i in 0..<count { (tickets + i).initialize(to: DeliveryTicket(batch: me, index: i)) }
    }

    deinit { tickets.deallocate() }

    /// The opaque pointer for record `i`.
    func ticket(_ i: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(tickets + i) }

    var pending: Int { state.withLock { $0.pending } }

    /// The delivery report callback's entry point (any polling thread).
    static func delivered(_ opaque: UnsafeMutableRawPointer, _ message: UnsafePointer<rd_kafka_message_t>) {
        let ticket = opaque.assumingMemoryBound(to: DeliveryTicket.self).pointee
        let m = message.pointee
        let result: Result<DeliveredOffset, KafkaError> =
            m.err == RD_KAFKA_RESP_ERR_NO_ERROR
            ? .success(DeliveredOffset(partition: m.partition, offset: m.offset))
            : .failure(KafkaError(m.err, context: "delivery"))
        ticket.batch.takeUnretainedValue().report(ticket.index, result)
    }

    func report(_ i: Int, _ result: Result<DeliveredOffset, KafkaError>) {
        let last = state.withLock { s -> Bool in
            guard s.results[i] == nil else { return false }
            s.results[i] = result
            s.pending -= 1
            return s.pending == 0
        }
        if last { Unmanaged.passUnretained(self).release() }
    }

    /// The results so far; records still waiting fail with a timeout.
    func finish(timeout: Duration) -> [Result<DeliveredOffset, KafkaError>] {
        state.withLock { s in
            s.results.map {
                $0
                    ?? .failure(
                        KafkaError(
                            RD_KAFKA_RESP_ERR__TIMED_OUT,
                            context: "no delivery report within \(timeout)"))
            }
        }
    }
}
