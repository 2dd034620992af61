/// One pass of the SLA firing over the partitions an instance holds, decided without I/O: how far
/// time has got on each partition (its watermark: clocks due by then fire), how many due clocks
/// each page asks of each partition, and when the pass ends. The intake runs a pass every 200 ms;
/// each page is one transaction, read while the page before it commits.
public struct FiringPass: Sendable {
    /// About this many clocks a page (one transaction): large enough that a burst of 100,000
    /// clocks is 50 transactions, not 100,000; small enough that a page's two events a clock
    /// (4,000 outbox rows) commit in tens of milliseconds and the relay starts publishing early.
    public static let pageClocks = 2000
    /// At most this many pages a pass (100,000 clocks): then the intake polls its topics again,
    /// so that a burst of due clocks never holds the feed back longer than about a second per
    /// 100,000 clocks; the next pass goes on where this one stopped.
    public static let maxPages = 50
    /// At least this many clocks per partition and page: with many partitions, a page of
    /// `pageClocks / partitions` would be a round trip for a handful of clocks.
    public static let minPerPartition = 50

    /// What the intake knows of a partition it holds.
    public struct Partition: Sendable {
        public var topicPartition: TopicPartition
        /// The next offset to read (negative: nothing committed yet).
        public var position: Int64
        /// The partition's high watermark as last seen (negative: unknown).
        public var high: Int64
        /// The latest event time consumed there (epoch ms); nil: none yet.
        public var eventTime: Int64?
        public init(_ topicPartition: TopicPartition, position: Int64, high: Int64, eventTime: Int64?) {
            self.topicPartition = topicPartition
            self.position = position
            self.high = high
            self.eventTime = eventTime
        }
    }

    /// Per partition in the pass, the instant up to which its clocks are due (epoch ms).
    public private(set) var watermarks: [TopicPartition: Int64] = [:]
    /// The partitions that may have more clocks due, in a stable order.
    public private(set) var open: [TopicPartition] = []
    /// Pages read so far.
    public private(set) var pages = 0

    /// A pass at `now` (epoch ms, the wall clock).
    public init(now: Int64, partitions: [Partition]) {
        for p in partitions {
            guard let wm = Self.watermark(now: now, p) else { continue }
            watermarks[p.topicPartition] = wm
            open.append(p.topicPartition)
        }
        open.sort { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Time on a partition is event time: the latest event consumed there, or the wall clock once
    /// the intake has caught up with its log (so a backlog replay fires exactly what really fell
    /// due: a SIGN still in the backlog stops its clock before the deadline). Nil: behind, and
    /// no event consumed yet, so nothing can be known to be due.
    public static func watermark(now: Int64, _ p: Partition) -> Int64? {
        let caughtUp = p.high >= 0 && (p.position >= p.high || (p.position < 0 && p.high == 0))
        if caughtUp { return max(now, p.eventTime ?? .min) }
        return p.eventTime
    }

    /// How many due clocks the next page asks of each open partition; nil: the pass is over
    /// (nothing more due, or `maxPages` read).
    public var perPartition: Int? {
        guard !open.isEmpty, pages < Self.maxPages else { return nil }
        return max(Self.minPerPartition, Self.pageClocks / open.count)
    }

    /// After a page that asked `asked` of each open partition and got `returned`: a partition
    /// that gave fewer than it was asked for has nothing more due.
    public mutating func read(returned: [TopicPartition: Int], asked: Int) {
        pages += 1
        open.removeAll { (returned[$0] ?? 0) < asked }
    }

    public func isOpen(_ tp: TopicPartition) -> Bool { open.contains(tp) }
}
