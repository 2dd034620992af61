import GridloopCore

/// A CloudEvents 1.0 event in structured mode, as the reports and digests are published
/// (docs/EVENTS.md): the attributes and `data`. The decisions are written by the core's own
/// writer (`OutboundEvent`), on the intake's hot path.
package struct CloudEventEnvelope<Data: Encodable>: Encodable {
    package var specversion = "1.0"
    package var id: String
    package var source: String
    package var type: String
    package var subject: String
    /// UTC with milliseconds.
    package var time: String
    package var datacontenttype = "application/json"
    package var data: Data

    package init(id: String, source: String, type: String, subject: String, time: String, data: Data) {
        self.id = id
        self.source = source
        self.type = type
        self.subject = subject
        self.time = time
        self.data = data
    }
}

package enum CloudEvents {
    /// An instant (RFC 3339, any offset) as the events' `time` is written: UTC with
    /// milliseconds (docs/EVENTS.md).
    package static func time(_ asOf: String) -> String {
        guard let millis = RFC3339.parse(asOf) else { return asOf }
        let t = RFC3339.format(millis, offsetMinutes: 0)
        return t.contains(".") ? t : String(t.dropLast()) + ".000Z"
    }
}
