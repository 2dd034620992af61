import GridloopCore
import GridloopPostgres
import GridloopStore

// The one path of every planned write, on the intake thread (see IntakeSession.swift).
extension IntakeSession {
    /// A plan ready to be written, in one transaction fenced on the stored offsets.
    struct PlannedWrite {
        var planner: IntakePlanner
        var clocks: ClockChanges
        /// The offsets the transaction expects stored (another member moved one: nothing is written).
        var fence: [PartitionOffset]
        /// Where the partitions' offsets move with it (a batch of messages); nil: they stay.
        var next: [PartitionOffset]?
        /// Cases the plan read from the database for itself only: not cached.
        var uncached: Set<String> = []
        /// For a batch of messages, the offsets it covers: a refusal for its data is then a
        /// `RefusedBatch`, which the next session isolates.
        var ranges: [TopicPartition: Range<Int64>]?
    }

    /// Writes a plan: the positions and the cache take what it writes, then the commit thread
    /// writes it while the intake thread plans the next one; `done` runs on the commit thread
    /// once it has committed, with the instant (monotonic ns) its transaction began. Returns the
    /// committer's job number. `inline` (nothing in flight, as `isolate` needs): the transaction
    /// commits on this thread first, and the positions and the cache move only once it has.
    @discardableResult
    func submit(_ write: PlannedWrite, inline: Bool = false, then done: @escaping @Sendable (_ commitBegan: UInt64) -> Void)
        throws -> Int
    {
        if inline {
            let began = monotonicNanos()
            try writer.commit(write.planner, clocks: write.clocks, expected: write.fence, next: write.next ?? write.fence)
            try take(write)
            done(began)
            return committer.submitted
        }
        try take(write)
        let writer = self.writer
        return try committer.submit {
            let began = monotonicNanos()
            do {
                try writer.commit(write.planner, clocks: write.clocks, expected: write.fence, next: write.next ?? write.fence)
            } catch let error as PostgresError where error.isCausedByData {
                guard let ranges = write.ranges else { throw error }
                throw RefusedBatch(error: error, ranges: ranges)
            }
            done(began)
        }
    }

    /// The positions and the cache as they are once `write` is committed.
    private func take(_ write: PlannedWrite) throws {
        for n in write.next ?? [] { positions[n.topicPartition] = n.offset }
        try remember(write.planner, clocks: write.clocks, skipping: write.uncached)
    }
}
