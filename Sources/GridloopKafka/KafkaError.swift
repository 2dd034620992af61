import CRdKafka

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
