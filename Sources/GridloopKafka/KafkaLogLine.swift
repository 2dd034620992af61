/// One line of librdkafka's own log (connection failures, broker state changes, configuration
/// warnings), as `KafkaLog` hands it to the process's sink instead of printing
/// `%3|1796191284.414|FAIL|gridloopd#producer-1| ...` on stderr.
public struct KafkaLogLine: Sendable, Equatable {
    /// librdkafka's syslog level.
    public var level: KafkaLogLevel
    /// librdkafka's facility: what the line is about (`FAIL`, `ERROR`, `CONFWARN`, `BROKER`, ...).
    public var facility: String
    /// The client's name (`rd_kafka_name`: `<client.id>#<consumer|producer>-<n>`).
    public var client: String
    /// The text of the line (no personal data: librdkafka logs brokers, topics and errors).
    public var message: String

    /// A line with the given fields (for tests).
    public init(level: KafkaLogLevel, facility: String, client: String, message: String) {
        self.level = level
        self.facility = facility
        self.client = client
        self.message = message
    }
}

/// librdkafka's log levels, the syslog severities (`log_level` property, `LOG_*` in syslog.h).
public enum KafkaLogLevel: Int32, Sendable, Comparable, CaseIterable {
    case emergency = 0
    case alert, critical, error, warning, notice, info, debug

    /// The level of librdkafka's `level` argument; values outside 0...7 (none are documented)
    /// count as errors rather than vanish.
    public init(syslog level: Int32) {
        self = KafkaLogLevel(rawValue: level) ?? .error
    }

    public static func < (a: KafkaLogLevel, b: KafkaLogLevel) -> Bool {
        // Lower syslog number = more severe; "less than" reads as "less severe".
        a.rawValue > b.rawValue
    }
}
