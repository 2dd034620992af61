import CRdKafka

// Threading: this file holds value types and pure helpers only; nothing here owns a librdkafka
// handle. `KafkaConfig.make` returns a `rd_kafka_conf_t` that belongs to its caller, who hands
// it to `rd_kafka_new` (which takes ownership on success) or destroys it.

/// A librdkafka failure: librdkafka's error code, its name (`_TIMED_OUT`, `UNKNOWN_TOPIC_OR_PART`, ...) and
/// librdkafka's own message.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Hashable {
    /// librdkafka's `rd_kafka_resp_err_t` value (negative: client-side, positive: broker).
    public var code: Int32
    /// librdkafka's name for `code` (`rd_kafka_err2name`).
    public var name: String
    /// librdkafka's message (its `errstr` or `rd_kafka_err2str`), with what was being done.
    public var message: String

    /// An error with the given parts, e.g. to stand in for a Kafka failure in tests.
    public init(code: Int32, name: String, message: String) {
        self.code = code
        self.name = name
        self.message = message
    }

    /// `err` with librdkafka's generic text for it (`rd_kafka_err2str`), prefixed by `context`.
    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        let text = String(cString: rd_kafka_err2str(err))
        self.init(err, message: context.map { "\($0): \(text)" } ?? text)
    }

    /// `err` with a specific message (an `errstr` buffer, a callback's reason).
    init(_ err: rd_kafka_resp_err_t, message: String) {
        code = err.rawValue
        name = String(cString: rd_kafka_err2name(err))
        self.message = message
    }

    /// Whether this is librdkafka's local or broker-side timeout.
    public var isTimeout: Bool {
        code == RD_KAFKA_RESP_ERR__TIMED_OUT.rawValue || code == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT.rawValue
            || code == RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT.rawValue
    }

    /// Whether librdkafka reports that no broker of the cluster can be reached.
    public var isAllBrokersDown: Bool { code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN.rawValue }

    /// Whether the client is in a fatal state (idempotence or fencing) and must be recreated.
    public var isFatal: Bool { code == RD_KAFKA_RESP_ERR__FATAL.rawValue }

    /// The message followed by librdkafka's error name.
    public var description: String { "\(message) (\(name))" }
}

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

/// A partition of a topic.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    /// The topic name.
    public var topic: String
    /// The partition number within the topic.
    public var partition: Int32

    /// The partition `partition` of `topic`.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    /// `topic[partition]`.
    public var description: String { "\(topic)[\(partition)]" }
}

/// One Kafka record header; a nil value is a header without a value (not an empty one).
public struct KafkaHeader: Sendable, Hashable {
    /// The header name.
    public var name: String
    /// The header value; nil for a header without one.
    public var value: [UInt8]?

    /// A header named `name` with the bytes `value` (nil: no value).
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// Applies string properties to a new `rd_kafka_conf_t`, turning each `rd_kafka_conf_set`
/// failure into a `KafkaError` that names the property. Any librdkafka property passes through
/// (TLS `ssl.*`, SASL `sasl.*`, tuning, ...).
enum KafkaConfig {
    /// A new configuration with `properties` applied, in key order (deterministic errors), and
    /// its log lines routed to `KafkaLog`'s sink (every handle is made from one of these).
    /// The caller owns the result: `rd_kafka_new` takes it on success, else `rd_kafka_conf_destroy`.
    static func make(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, context: "rd_kafka_conf_new")
        }
        KafkaLog.install(on: conf)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            do {
                try set(conf, key, value)
            } catch {
                rd_kafka_conf_destroy(conf)
                throw error
            }
        }
        return conf
    }

    /// Sets one property; the error names it and carries librdkafka's errstr.
    static func set(_ conf: OpaquePointer, _ key: String, _ value: String) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
        guard result != RD_KAFKA_CONF_OK else { return }
        let detail = cString(errstr)
        let kind = result == RD_KAFKA_CONF_UNKNOWN ? "unknown librdkafka property" : "invalid librdkafka property"
        throw KafkaError(
            RD_KAFKA_RESP_ERR__INVALID_ARG,
            message: "\(kind) \"\(key)\": \(detail.isEmpty ? "rejected" : detail)")
    }
}

/// Creates a librdkafka client from `conf`, which it consumes on success and destroys on failure;
/// the error carries `rd_kafka_new`'s errstr.
func makeClient(_ type: rd_kafka_type_t, _ conf: OpaquePointer, what: String) throws(KafkaError) -> OpaquePointer {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        var code = rd_kafka_last_error()
        if code == RD_KAFKA_RESP_ERR_NO_ERROR { code = RD_KAFKA_RESP_ERR__INVALID_ARG }
        throw KafkaError(code, message: "cannot create \(what): \(cString(errstr))")
    }
    return rk
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { p in
        String(decoding: UnsafeRawBufferPointer(p).prefix { $0 != 0 }, as: UTF8.self)
    }
}

extension Duration {
    /// Whole milliseconds for librdkafka's `int timeout_ms` (rounded up, clamped to 0...Int32.max).
    var kafkaMilliseconds: Int32 {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        if seconds >= Int64(Int32.max) / 1000 { return Int32.max }
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(min(ms, Int64(Int32.max)))
    }
}
