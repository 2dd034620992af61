import GridloopStore
import Logging

// Threading: `run` runs on the calling thread (each worker has an OS thread of its own) and
// owns the session it opens; nothing of it is shared.

/// The one loop of the daemon's background workers (the outbox relay, the health probe, the
/// analytics leader, the policy-version recorder): open a session (connections), run rounds on
/// it at the pace each round asks for, and on a failure drop the session, say so once per
/// outage at `failureLevel` (and again, counted, if it lasts), back off, and open a new one.
/// When a session works again after a failure, one notice says so.
///
/// The intake is not on it: its session (consumer, cache, commit thread, fencing) has rules of
/// its own (docs/ARCHITECTURE.md, "The path of an intake message").
public struct WorkerLoop: Sendable {
    /// What a round asks for next.
    public enum Pace: Sendable, Equatable {
        /// Another round at once (there is more to do).
        case now
        /// The next round after this long (or earlier when the loop's `wake` says so).
        case after(millis: Int)
    }

    /// Names the worker in its log lines ("outbox relay", "health probe", ...).
    public let name: String
    private let logger: Logger
    private let stop: StopSignal
    private let failureLevel: Logger.Level
    private let retryMillis: @Sendable (Int) -> Int
    private let failureMessage: String
    private let recoveryMessage: String

    /// `retryMillis(n)`: the wait after the `n`th failure in a row (from 0); by default 0.5 s
    /// doubling to 30 s (`Backoff`). The messages default to "<name>: interrupted; retrying"
    /// and "<name>: working again".
    public init(
        name: String, logger: Logger, stop: StopSignal, failureLevel: Logger.Level = .warning,
        failureMessage: String? = nil, recoveryMessage: String? = nil,
        retryMillis: @escaping @Sendable (Int) -> Int = { min(30_000, 500 << min($0, 6)) }
    ) {
        self.name = name
        self.logger = logger
        self.stop = stop
        self.failureLevel = failureLevel
        self.retryMillis = retryMillis
        self.failureMessage = failureMessage ?? "\(name): interrupted; retrying"
        self.recoveryMessage = recoveryMessage ?? "\(name): working again"
    }

    /// Runs until the stop signal. `open` makes a session; `round` does one round of work on it
    /// and says when the next is due; `failed` hears each failure's one-line problem and the
    /// wait before the next try (the health probe marks the database down there); `close`
    /// hears a session dropped after a failure, or at the stop; `woken`, polled every 10 ms
    /// while waiting, ends a wait early.
    public func run<Session>(
        open: () throws -> Session,
        round: (Session) throws -> Pace,
        failed: (_ problem: String, _ retryMillis: Int) -> Void = { _, _ in },
        close: (Session) -> Void = { _ in },
        woken: () -> Bool = { false }
    ) {
        var failures = 0
        var lastProblem = ""
        var lastLogged: UInt64 = 0
        var suppressed = 0
        var session: Session?
        while !stop.isSet {
            let pace: Pace
            do {
                if session == nil { session = try open() }
                pace = try round(session!)
                if failures > 0 {
                    logger.notice("\(recoveryMessage)", metadata: ["failed_attempts": "\(failures)"])
                    failures = 0
                    lastProblem = ""
                    suppressed = 0
                }
            } catch {
                if let s = session { close(s) }
                session = nil
                let problem = "\(error)".split(separator: "\n").first.map(String.init) ?? "unknown"
                let wait = retryMillis(failures)
                failures += 1
                failed(problem, wait)
                // Once per outage, and once more every 30 s while the same problem lasts.
                let now = monotonicNanos()
                if problem != lastProblem || now - lastLogged >= 30_000_000_000 {
                    var md: Logger.Metadata = ["problem": "\(problem)", "retry_ms": "\(wait)"]
                    if suppressed > 0 { md["repeated"] = "\(suppressed)" }
                    logger.log(level: failureLevel, "\(failureMessage)", metadata: md)
                    lastProblem = problem
                    lastLogged = now
                    suppressed = 0
                } else {
                    suppressed += 1
                }
                pace = .after(millis: wait)
            }
            if case .after(let millis) = pace {
                var waited = 0
                while !stop.isSet, waited < millis, !woken() {
                    let step = min(10, millis - waited)
                    usleepMillis(step)
                    waited += step
                }
            }
        }
        if let s = session { close(s) }
    }
}
