/// One message as it goes out through the outbox: written with the state change that produced
/// it, published by the relay exactly as built here (topic, key, value bytes, Kafka headers).
/// The outbound wire format of Gridloop is this file: a decision's event (`decision`) and a
/// dead letter (`deadLetter`). `id` is stable (a repeat carries the same one) and travels as
/// the `gridloop-id` header, by which the relay's take-over recognises a message published
/// already.
public struct OutboxMessage: Sendable, Hashable {
    /// The stable id: a decision's id, or `dlq:<topic>:<partition>:<offset>` for a dead letter.
    public var id: String
    public var topic: String
    /// The Kafka key (nil: none).
    public var key: [UInt8]?
    /// The Kafka value.
    public var value: [UInt8]
    /// The Kafka headers, in order.
    public var headers: [MessageHeader]

    public init(id: String, topic: String, key: [UInt8]?, value: [UInt8], headers: [MessageHeader]) {
        self.id = id
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
    }

    /// The CloudEvents message of a decision (`event`: `OutboundEvent.json`), keyed by its case
    /// so that a subscriber reads a case's events in order, in binary content mode with the
    /// content type and the id as headers.
    public static func decision(_ d: SLADecision, topic: String, event: [UInt8]) -> OutboxMessage {
        OutboxMessage(id: d.id, topic: topic, key: Array(d.caseId.utf8), value: event, headers: decisionHeaders(id: d.id))
    }

    /// The headers of the decision event with this id: they follow from the id alone.
    public static func decisionHeaders(id: String) -> [MessageHeader] {
        [
            MessageHeader(name: "content-type", value: cloudEventsContentType),
            MessageHeader(name: "gridloop-id", value: Array(id.utf8)),
        ]
    }

    private static let cloudEventsContentType = Array("application/cloudevents+json; charset=UTF-8".utf8)

    /// A dead letter: the original key and bytes, with headers that say why (`reason`, safe text
    /// already) and whence. The original headers are not sent (`dead_letters` keeps them for a
    /// redrive).
    public static func deadLetter(_ d: DeadLetter, topic: String) -> OutboxMessage {
        let c = d.coordinates
        let id = deadLetterId(c)
        return OutboxMessage(
            id: id, topic: topic, key: d.key, value: d.value,
            headers: [
                ("gridloop-id", id), ("gridloop-reason", d.reason), ("gridloop-source-topic", c.topic),
                ("gridloop-source-partition", String(c.partition)), ("gridloop-source-offset", String(c.offset)),
            ].map { MessageHeader(name: $0.0, value: Array($0.1.utf8)) })
    }

    /// The stable id of the dead letter of the message at these coordinates.
    public static func deadLetterId(_ c: SourceCoordinates) -> String { "dlq:\(c.topic):\(c.partition):\(c.offset)" }
}
