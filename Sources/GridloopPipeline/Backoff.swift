/// Exponential backoff with a cap: 0.5 s, 1 s, 2 s, ... 30 s.
public struct Backoff: Sendable {
    private var attempt = 0
    public init() {}
    public mutating func nextMillis() -> Int {
        defer { attempt += 1 }
        return min(30_000, 500 << min(attempt, 6))
    }
    public mutating func reset() { attempt = 0 }
}
