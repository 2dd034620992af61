import GridloopKafka
import Logging

extension KafkaLog {
    /// Sends librdkafka's log lines of every Kafka handle in the process to `logger`, at the
    /// swift-log level of their syslog level (so journald files a refused broker connection as
    /// `err`), with librdkafka's facility as `fac` and the client's name as `client`.
    public static func bootstrap(_ logger: Logger) {
        bootstrap { line in
            logger.log(
                level: Logger.Level(line.level), "librdkafka: \(line.message)",
                metadata: ["fac": "\(line.facility)", "client": "\(line.client)"])
        }
    }
}

extension Logger.Level {
    /// The swift-log level of a librdkafka (syslog) level. swift-log has nothing above
    /// `critical`, so emergency and alert join it; `JournalLogHandler` writes that as `<2>`.
    public init(_ level: KafkaLogLevel) {
        switch level {
        case .emergency, .alert, .critical: self = .critical
        case .error: self = .error
        case .warning: self = .warning
        case .notice: self = .notice
        case .info: self = .info
        case .debug: self = .debug
        }
    }
}
