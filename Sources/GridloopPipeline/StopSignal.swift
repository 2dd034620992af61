import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A one-way switch that the signal handler flips and the worker threads poll.
public final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public var isSet: Bool { flag.load(ordering: .acquiring) }
    public func set() { flag.store(true, ordering: .releasing) }

    /// Sleeps up to `millis`, waking early once the switch is set.
    public func sleep(millis: Int) {
        var left = millis
        while left > 0, !isSet {
            let step = min(left, 50)
            usleepMillis(step)
            left -= step
        }
    }
}

func usleepMillis(_ ms: Int) {
    var ts = timespec(tv_sec: ms / 1000, tv_nsec: (ms % 1000) * 1_000_000)
    nanosleep(&ts, nil)
}
