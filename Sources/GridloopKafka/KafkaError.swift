import CRdKafka

/// A librdkafka failure, with librdkafka's own code name and message.
public struct KafkaError: Error, CustomStringConvertible, Sendable, Hashable {
    /// librdkafka's `rd_kafka_resp_err_t` value (negative: client-side, positive: broker).
    public var code: Int32
    public var name: String
    public var message: String

    public init(code: Int32, name: String, message: String) {
        self.code = code
        self.name = name
        self.message = message
    }

    init(_ err: rd_kafka_resp_err_t, context: String? = nil) {
        code = err.rawValue
        name = String(cString: rd_kafka_err2name(err))
        let text = String(cString: rd_kafka_err2str(err))
        message = context.map { "\($0): \(text)" } ?? text
    }

    /// An error raised by the wrapper itself (configuration, timeouts).
    static func client(_ message: String) -> KafkaError {
        KafkaError(code: -1, name: "GRIDLOOP", message: message)
    }

    public var description: String { "\(message) (\(name))" }
}

/// A partition of a topic.
public struct TopicPartition: Hashable, Sendable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }
    public var description: String { "\(topic)[\(partition)]" }
}

/// One Kafka header; a nil value is a header without a value.
public struct KafkaHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]?
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// Applies string properties to a librdkafka configuration, naming the property that fails.
enum KafkaConfiguration {
    static func make(_ properties: [String: String]) throws -> OpaquePointer {
        let conf = rd_kafka_conf_new()!
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            var errstr = [CChar](repeating: 0, count: 512)
            let r = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
            guard r == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(conf)
                let detail = cString(errstr)
                throw KafkaError.client("librdkafka property \(key): \(detail.isEmpty ? "rejected" : detail)")
            }
        }
        return conf
    }
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
}
