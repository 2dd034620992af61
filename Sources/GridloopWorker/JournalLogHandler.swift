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
        var line = "<\(priority)>\(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() {
            let value = "\(merged[key]!)"
            let needsQuotes = value.contains(" ") || value.isEmpty
            line += " \(key)=\(needsQuotes ? "\"\(value)\"" : value)"
        }
        line = line.replacingNewlines()
        line += "\n"
        line.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
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

/// Logs a repeating error once, then at most every `interval` with how often it repeated.
public struct RepeatedErrorLog: Sendable {
    private var lastMessage = ""
    private var lastLogged: UInt64 = 0
    private var suppressed = 0
    private let intervalNanos: UInt64

    public init(intervalSeconds: Int = 30) { intervalNanos = UInt64(intervalSeconds) * 1_000_000_000 }

    public mutating func error(_ logger: Logger, _ message: String, metadata: Logger.Metadata = [:]) {
        let now = monotonicNanos()
        if message == lastMessage, now - lastLogged < intervalNanos {
            suppressed += 1
            return
        }
        var md = metadata
        if message == lastMessage, suppressed > 0 { md["repeated"] = "\(suppressed)" }
        logger.error("\(message)", metadata: md)
        lastMessage = message
        lastLogged = now
        suppressed = 0
    }

    public mutating func reset() { lastMessage = ""; suppressed = 0 }
}
