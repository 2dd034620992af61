/// A message that will never be applied, with the reason (no personal data in it).
public struct DeadLetter: Sendable, Hashable {
    public var coordinates: SourceCoordinates
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [MessageHeader]
    public var reason: String
    public var caseId: String?

    public init(
        coordinates: SourceCoordinates, key: [UInt8]?, value: [UInt8], headers: [MessageHeader], reason: String,
        caseId: String?
    ) {
        self.coordinates = coordinates
        self.key = key
        self.value = value
        self.headers = headers
        self.reason = reason
        self.caseId = caseId
    }
}
