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
