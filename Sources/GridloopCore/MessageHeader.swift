/// One Kafka record header of a consumed message, kept with its bytes so that a re-driven dead
/// letter is published as it came. A nil value is a header without a value.
public struct MessageHeader: Sendable, Hashable {
    public var name: String
    public var value: [UInt8]?
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}
