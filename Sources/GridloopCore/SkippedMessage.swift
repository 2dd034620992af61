/// A valid message of a type Gridloop does not know: recorded and skipped.
public struct SkippedMessage: Sendable, Hashable {
    public var coordinates: SourceCoordinates
    public var reason: String
    public var orderNo: String?
}
