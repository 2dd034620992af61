/// An event applied to its case, with its place in the case's history.
public struct AppliedEvent: Sendable, Hashable {
    public var event: CaseEvent
    public var coordinates: SourceCoordinates
    /// 1-based position in the case's history.
    public var eventNo: Int
    /// 12319 events missing before this one, accepted after the hold period.
    public var gapBefore: Int
    public init(event: CaseEvent, coordinates: SourceCoordinates, eventNo: Int, gapBefore: Int) {
        self.event = event
        self.coordinates = coordinates
        self.eventNo = eventNo
        self.gapBefore = gapBefore
    }
}
