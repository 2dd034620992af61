import GridloopKafka
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A swift-log handler for journald: one event a line on stderr, prefixed with the syslog
/// priority (`<3>`, `<6>`, ...) that journald reads, followed by `key=value` metadata with
/// stable keys (`case`, `topic`, `partition`, `offset`, `level`, `event`) for `journalctl -g`.
public struct JournalLogHandler: LogHandler {
    /// The level of every handler made with the same switch: a reload (SIGHUP) changes it.
    public var logLevel: Logger.Level {
        get { level.level }
        set { level.level = newValue }
    }
    public var metadata: Logger.Metadata = [:]
    private let label: String
    private let level: LogLevelSwitch

    public init(label: String, level: LogLevelSwitch) {
        self.label = label
        self.level = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let priority: Int
        switch event.level {
        case .trace, .debug: priority = 7
        case .info: priority = 6
        case .notice: priority = 5
        case .warning: priority = 4
        case .error: priority = 3
        case .critical: priority = 2
        }
        var line = Self.line(
            priority: priority, message: "\(event.message)",
            metadata: metadata.merging(event.metadata ?? [:]) { _, new in new })
        line += "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// One log line without its newline: `<priority>message key=value ...`, keys sorted. A value
    /// stays one token whatever it holds: see `value(_:)`. Newlines in the message become ` | `.
    public static func line(priority: Int, message: String, metadata: Logger.Metadata) -> String {
        var line = "<\(priority)>\(message.replacingNewlines())"
        for key in metadata.keys.sorted() {
            line += " \(key)=\(value("\(metadata[key]!)"))"
        }
        return line
    }

    /// A metadata value as written: bare when it is non-empty and has no space, `"`, `\` or
    /// control character; otherwise in double quotes, with `\"`, `\\`, `\n`, `\r`, `\t` and
    /// `\u{XX}` (other control characters) escaped, so that a value never ends early or spills
    /// onto another line.
    public static func value(_ value: String) -> String { KafkaLog.quotedIfNeeded(value) }
}

/// A log level shared by the handlers of a process, changeable while it runs.
public final class LogLevelSwitch: Sendable {
    private let raw: Atomic<UInt8>
    private static let levels = Logger.Level.allCases

    public init(_ level: Logger.Level) { raw = Atomic(UInt8(Self.levels.firstIndex(of: level) ?? 2)) }

    public var level: Logger.Level {
        get { Self.levels[Int(raw.load(ordering: .relaxed))] }
        set { raw.store(UInt8(Self.levels.firstIndex(of: newValue) ?? 2), ordering: .relaxed) }
    }
}

extension String {
    fileprivate func replacingNewlines() -> String {
        guard contains("\n") else { return self }
        return split(separator: "\n", omittingEmptySubsequences: false).joined(separator: " | ")
    }
}
