/// A CloudEvents 1.0 event in structured mode, as the reports and digests are published
/// (docs/EVENTS.md): the attributes and `data`. The decisions are written by the core's own
/// writer (`OutboundEvent`), on the intake's hot path.
struct CloudEventEnvelope<Data: Encodable>: Encodable {
    var specversion = "1.0"
    var id: String
    var source: String
    var type: String
    var subject: String
    /// UTC with milliseconds.
    var time: String
    var datacontenttype = "application/json"
    var data: Data
}
