/// One consumed message with what its feed adapter made of it.
public struct IntakeItem: Sendable {
    public var coordinates: SourceCoordinates
    public var key: [UInt8]?
    public var value: [UInt8]
    /// The record's headers, in order.
    public var headers: [MessageHeader]
    public var outcome: FeedDecodeOutcome
    public init(
        coordinates: SourceCoordinates, key: [UInt8]?, value: [UInt8], headers: [MessageHeader] = [],
        outcome: FeedDecodeOutcome
    ) {
        self.coordinates = coordinates
        self.key = key
        self.value = value
        self.headers = headers
        self.outcome = outcome
    }
}
