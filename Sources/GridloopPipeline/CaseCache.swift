import GridloopCore

// Threading: owned by the intake thread (IntakeService), never shared.

/// The intake's write-through cache of cases, bounded by an estimate of the memory it holds.
///
/// A case that is closed or withdrawn leaves the cache as soon as the commit job that last
/// changed it has committed (a later event of it reads the stored case, which is then current).
/// When the open cases alone pass the budget, the caller drains the commit thread and
/// `shrink()` drops entries until a quarter of the budget is free.
///
/// A case not changed for `idleSeconds` (10 minutes) leaves too, once that change is committed:
/// the cache serves the cases whose events come close together, and a case waiting for days
/// for its next event (or forever, for one whose callback was lost) need not hold memory.
///
/// The estimate (`entryBytes`) is not a measurement of each entry: it is a constant per case
/// plus a little per 12345 message id kept, set from the RSS growth measured per cached case
/// (about 2.2 KB; issue 19). The soak run (`scripts/long/soak.sh`) shows the RSS it leads to.
struct CaseCache {
    struct Entry {
        var state: CaseState
        /// The 12345 message ids applied to the case (duplicates are recognised by them).
        var keys: Set<String>
        /// The case's SLA clocks (nil: never assigned).
        var clock: CaseClock?
        /// The commit job of its last change, and when that was (`CaseCache.tick`).
        var lastJob = 0
        var changedAt: UInt64 = 0
    }

    static let idleSeconds: UInt64 = 600

    /// Bytes of a cached case, estimated.
    static func entryBytes(_ e: Entry) -> Int { 2048 + 64 * e.keys.count }

    let budget: Int
    private var entries: [String: Entry] = [:]
    private(set) var bytes = 0
    /// Finished cases, with the commit job that last changed them, oldest job first.
    private var finished: [(job: Int, id: String)] = []
    private var finishedHead = 0
    /// The commit job of the latest change of each finished case still cached.
    private var finishedJob: [String: Int] = [:]
    /// The commit job that the changes made now belong to (the job about to be submitted; 0
    /// for what was read from the database, which is committed already).
    var job = 0
    /// Seconds on the intake's monotonic clock, set by the intake as it runs.
    var tick: UInt64 = 0

    init(budget: Int) { self.budget = budget }

    var count: Int { entries.count }
    var isOverBudget: Bool { bytes > budget }

    subscript(id: String) -> Entry? {
        get { entries[id] }
        // The entry is moved out, changed and moved back: two hashings of the id and no copy of
        // the case (reading `entries[id]` for each step cost eight, and a copy; perf showed the
        // accessor at a tenth of the intake thread's time).
        _modify {
            var slot = entries.removeValue(forKey: id)
            let before = slot.map(Self.entryBytes) ?? 0
            yield &slot
            var finishedNow = false
            if slot != nil {
                slot!.lastJob = job
                slot!.changedAt = tick
                finishedNow = slot!.state.status == .closed || slot!.state.status == .withdrawn
            }
            bytes += (slot.map(Self.entryBytes) ?? 0) - before
            if let slot { entries[id] = slot }
            if finishedNow {
                if finishedJob[id] != job {
                    finishedJob[id] = job
                    finished.append((job, id))
                }
            } else if !finishedJob.isEmpty {
                finishedJob[id] = nil  // its queue entry is skipped when reached
            }
        }
    }

    /// Drops the finished cases whose last change is committed (`completed`: the last job done).
    mutating func evictFinished(committedUpTo completed: Int) {
        while finishedHead < finished.count, finished[finishedHead].job <= completed {
            let (job, id) = finished[finishedHead]
            finishedHead += 1
            // Still finished, and not changed again by a job in flight since.
            if finishedJob[id] == job {
                finishedJob[id] = nil
                if let e = entries.removeValue(forKey: id) { bytes -= Self.entryBytes(e) }
            }
        }
        if finishedHead > 4096, finishedHead * 2 > finished.count {
            finished.removeFirst(finishedHead)
            finishedHead = 0
        }
    }

    /// Drops the cases not changed for `idleSeconds` whose last change is committed.
    mutating func evictIdle(committedUpTo completed: Int) {
        guard tick > Self.idleSeconds else { return }
        let before = tick - Self.idleSeconds
        var idle: [String] = []
        for (id, e) in entries where e.changedAt < before && e.lastJob <= completed { idle.append(id) }
        for id in idle { self[id] = nil }
    }

    /// Drops entries (in no particular order) until three quarters of the budget are used at
    /// most. Only when nothing is in flight: a case dropped is read from the database next.
    mutating func shrink() {
        let target = budget / 4 * 3
        var dropped: [String] = []
        var left = bytes
        for (id, e) in entries where left > target {
            left -= Self.entryBytes(e)
            dropped.append(id)
        }
        for id in dropped { self[id] = nil }
    }

    mutating func removeAll() {
        entries = [:]
        bytes = 0
        finished = []
        finishedHead = 0
        finishedJob = [:]
    }
}

extension Optional where Wrapped == CaseCache.Entry {
    /// The case's state, in its entry or in a new one.
    mutating func store(_ state: CaseState) {
        if self == nil {
            self = CaseCache.Entry(state: state, keys: [])
        } else {
            self!.state = state
        }
    }
}
