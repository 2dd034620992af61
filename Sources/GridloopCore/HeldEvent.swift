/// An event that cannot be applied yet (its order has no DISPATCH, or a 12319 `event_seq`
/// gap precedes it), kept with its original bytes until it can be, or until the hold ends.
public struct HeldEvent: Sendable, Hashable {
    public var event: CaseEvent
    public var coordinates: SourceCoordinates
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [MessageHeader]
    /// When it was first held, epoch ms (wall clock of the intake).
    public var heldAt: Int64
    public init(
        event: CaseEvent, coordinates: SourceCoordinates, key: [UInt8]?, value: [UInt8],
        headers: [MessageHeader] = [], heldAt: Int64
    ) {
        self.event = event
        self.coordinates = coordinates
        self.key = key
        self.value = value
        self.headers = headers
        self.heldAt = heldAt
    }
}
