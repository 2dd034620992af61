/// What a feed adapter made of one raw Kafka message.
public enum FeedDecodeOutcome: Sendable, Hashable {
    /// A valid event to apply.
    case event(CaseEvent)
    /// Valid JSON of a message type Gridloop does not know: recorded and skipped (not an error of the message).
    case skipped(reason: String, orderNo: String?)
    /// Damaged: not JSON, wrong shape, missing or invalid field. The reason names the field and the problem.
    case rejected(reason: String)
}
