import GridloopStore
import Logging

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

    public mutating func reset() {
        lastMessage = ""
        suppressed = 0
    }
}
