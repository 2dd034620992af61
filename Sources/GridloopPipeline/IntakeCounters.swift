import Synchronization

/// Counters that other threads (status, metrics, tests) may read.
public final class IntakeCounters: Sendable {
    private let box = Mutex<[String: Int]>([:])
    public init() {}
    public func add(_ key: String, _ n: Int) { if n != 0 { box.withLock { $0[key, default: 0] += n } } }
    public func snapshot() -> [String: Int] { box.withLock { $0 } }
}
