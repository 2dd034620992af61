import CRdKafka
import Synchronization

// Threading: librdkafka's producer handle is thread-safe for produce and poll. Delivery
// reports are served by whichever thread calls `rd_kafka_poll` (the `send` callers); each
// report finds its own `DeliveryBatch` through the message's opaque pointer, so concurrent
// `send` calls never see each other's results.

/// A message to publish.
public struct ProducerRecord: Sendable {
    public var topic: String
    /// nil: librdkafka's partitioner chooses by key.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [KafkaHeader]

    public init(topic: String, partition: Int32? = nil, key: [UInt8]?, value: [UInt8], headers: [KafkaHeader] = []) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
    }
}

/// Where a record landed.
public struct DeliveredOffset: Sendable, Hashable {
    public var partition: Int32
    public var offset: Int64
}

/// An idempotent producer (`enable.idempotence=true`, `acks=all`) whose `send` waits for the
/// delivery report of every record it was given.
public final class KafkaProducer: @unchecked Sendable {
    // @unchecked: `handle` is a librdkafka producer, documented thread-safe; it is immutable here.
    private let handle: OpaquePointer

    public init(configuration: [String: String]) throws {
        var props = configuration
        props["enable.idempotence"] = "true"
        props["acks"] = "all"
        let conf = try KafkaConfiguration.make(props)
        rd_kafka_conf_set_dr_msg_cb(conf) { _, message, _ in
            guard let message, let opaque = message.pointee._private else { return }
            let ticket = opaque.assumingMemoryBound(to: DeliveryTicket.self).pointee
            let batch = ticket.batch.takeUnretainedValue()
            let m = message.pointee
            if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
                batch.report(ticket.index, .success(DeliveredOffset(partition: m.partition, offset: m.offset)))
            } else {
                batch.report(ticket.index, .failure(KafkaError(m.err)))
            }
        }
        var errstr = [CChar](repeating: 0, count: 512)
        guard let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errstr, errstr.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError.client("cannot create producer: \(cString(errstr))")
        }
        handle = rk
    }

    deinit {
        rd_kafka_flush(handle, 2000)
        rd_kafka_destroy(handle)
    }

    /// Publishes the records and waits until each has a delivery report or `timeout` passes.
    /// Returns one result per record, in order; records without a report by then fail.
    public func send(_ records: [ProducerRecord], timeout: Duration) throws -> [Result<DeliveredOffset, KafkaError>] {
        guard !records.isEmpty else { return [] }
        let batch = DeliveryBatch(count: records.count)
        let deadline = ContinuousClock.now + timeout
        for (i, r) in records.enumerated() {
            let ticket = batch.ticket(i)
            while true {
                let err = produce(r, opaque: ticket)
                if err == RD_KAFKA_RESP_ERR_NO_ERROR { break }
                if err == RD_KAFKA_RESP_ERR__QUEUE_FULL, ContinuousClock.now < deadline {
                    rd_kafka_poll(handle, 10)
                    continue
                }
                batch.report(i, .failure(KafkaError(err, context: "produce to \(r.topic)")))
                break
            }
        }
        while batch.pending > 0, ContinuousClock.now < deadline {
            rd_kafka_poll(handle, 20)
        }
        return batch.finish()
    }

    private func produce(_ r: ProducerRecord, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !r.headers.isEmpty {
            headers = rd_kafka_headers_new(r.headers.count)
            for h in r.headers {
                if let v = h.value {
                    v.withUnsafeBytes { _ = rd_kafka_header_add(headers, h.name, -1, $0.baseAddress, $0.count) }
                } else {
                    _ = rd_kafka_header_add(headers, h.name, -1, nil, 0)
                }
            }
        }
        let partition = r.partition ?? RD_KAFKA_PARTITION_UA
        let err = r.value.withUnsafeBytes { value in
            if let key = r.key {
                return key.withUnsafeBytes { k in
                    gridloop_produce(handle, r.topic, partition, k.baseAddress, k.count, value.baseAddress, value.count,
                                     headers, opaque)
                }
            }
            return gridloop_produce(handle, r.topic, partition, nil, 0, value.baseAddress, value.count, headers, opaque)
        }
        if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
        return err
    }

    /// Waits until everything queued is delivered or `timeout` passes.
    public func flush(timeout: Duration) {
        rd_kafka_flush(handle, Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
    }
}

/// Identifies one message of one `send` call in its delivery report.
struct DeliveryTicket {
    let batch: Unmanaged<DeliveryBatch>
    let index: Int
}

/// The results of one `send` call. It keeps itself alive until librdkafka has reported every
/// message (even after `send` gave up waiting), so a late report never touches freed memory.
final class DeliveryBatch: @unchecked Sendable {
    // @unchecked: `state` is behind a Mutex; `tickets` is written once before any produce.
    private let state: Mutex<(results: [Result<DeliveredOffset, KafkaError>?], pending: Int, finished: Bool)>
    private let tickets: UnsafeMutablePointer<DeliveryTicket>
    private let count: Int

    init(count: Int) {
        self.count = count
        state = Mutex((Array(repeating: nil, count: count), count, false))
        tickets = .allocate(capacity: count)
        let me = Unmanaged.passRetained(self)  // released when the last report arrives
        for i in 0..<count { (tickets + i).initialize(to: DeliveryTicket(batch: me, index: i)) }
    }

    deinit { tickets.deallocate() }

    func ticket(_ i: Int) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(tickets + i) }

    var pending: Int { state.withLock { $0.pending } }

    func report(_ i: Int, _ result: Result<DeliveredOffset, KafkaError>) {
        let last = state.withLock { s -> Bool in
            guard s.results[i] == nil else { return false }
            s.results[i] = result
            s.pending -= 1
            return s.pending == 0
        }
        if last { Unmanaged.passUnretained(self).release() }
    }

    func finish() -> [Result<DeliveredOffset, KafkaError>] {
        state.withLock { s in
            s.results.map { $0 ?? .failure(KafkaError.client("no delivery report before the timeout")) }
        }
    }
}
