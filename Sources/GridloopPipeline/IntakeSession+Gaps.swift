import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopStore
import Logging

// Threading: everything here runs on the intake thread (findGaps inside poll, in the rebalance
// handler; handleGaps between polls), like the rest of IntakeSession.

/// Offset gaps: ranges of an intake partition that the broker deleted before they were applied,
/// or a stored offset beyond the end of a recreated topic. The consumer never moves past one
/// silently (`auto.offset.reset=error`): each is recorded in `intake_gaps` with the move of the
/// stored offset to the log start, logged at error, counted, and reported by `/readyz` until an
/// operator acknowledges it; with `intake.onOffsetGap: stop` the partition stays unread until then.
extension IntakeSession {
    /// At assignment: compares each stored offset with its partition's log (both watermarks of all
    /// the partitions in one ListOffsets request per leader each); a gap is recorded and the
    /// partition starts at the log start. With `stop`, partitions with a gap not acknowledged
    /// (found now or before) are paused by the consumer right after the assignment.
    func findGaps(_ stored: [PartitionOffset], start: inout [TopicPartition: Int64]) throws {
        guard let consumer else { return }
        let all = stored.map { $0.topicPartition }
        if config.onOffsetGap == .stop { gapStopped.formUnion(try reader.unacknowledgedGaps(in: all)) }
        let readable = stored.filter { $0.offset >= 0 }.map { $0.topicPartition }
        guard !readable.isEmpty else { return }
        let lows: [TopicPartition: Int64]
        let highs: [TopicPartition: Int64]
        do {
            lows = try consumer.offsets(readable, at: KafkaOffset.beginning)
            highs = try consumer.offsets(readable, at: KafkaOffset.end)
        } catch {
            // Not fatal: a stored offset the broker no longer has is refused when fetched.
            logger.warning("could not compare the stored offsets with the brokers' logs at assignment: \(error)")
            return
        }
        for tp in readable {
            guard let next = positions[tp], let low = lows[tp], let high = highs[tp],
                let gap = IntakeGap.find(topic: tp.topic, partition: tp.partition, stored: next, low: low, high: high)
            else { continue }
            try record(gap, reader)
            positions[tp] = gap.toOffset
            start[tp] = gap.toOffset
        }
    }

    /// Between polls: restarts the partitions the broker refused as out of range (after recording
    /// the gap), and, every 2 s while partitions are stopped for a gap, resumes those whose gaps
    /// were acknowledged meanwhile.
    func handleGaps(_ consumer: KafkaConsumer) throws {
        let refused = consumer.takeOutOfRange()
        var restart = false
        if !refused.isEmpty {
            try committer.drain()  // the stored offsets are `positions` now
            for (tp, offset) in refused.sorted(by: { $0.key.description < $1.key.description }) {
                guard let next = positions[tp] else { continue }  // given up meanwhile
                let (low, high) = try consumer.watermarks(tp)
                if let gap = IntakeGap.find(topic: tp.topic, partition: tp.partition, stored: next, low: low, high: high) {
                    try record(gap, reader)
                    positions[tp] = gap.toOffset
                } else {
                    logger.warning(
                        "the broker refused an offset as out of range that its log holds now; reading on",
                        metadata: [
                            "topic": "\(tp.topic)", "partition": "\(tp.partition)", "offset": "\(offset)", "next": "\(next)",
                            "low": "\(low)", "high": "\(high)",
                        ])
                }
            }
            restart = true
        }
        if !gapStopped.isEmpty, monotonicNanos() - lastGapCheck > 2_000_000_000 {
            lastGapCheck = monotonicNanos()
            let open = try reader.unacknowledgedGaps(in: Array(gapStopped))
            let acknowledged = gapStopped.subtracting(open)
            if !acknowledged.isEmpty {
                gapStopped = open
                try consumer.resume(Array(acknowledged))
                for tp in acknowledged.sorted(by: { $0.description < $1.description }) {
                    logger.notice(
                        "gap acknowledged: partition resumed",
                        metadata: [
                            "topic": "\(tp.topic)", "partition": "\(tp.partition)", "from": "\(positions[tp] ?? -2)",
                        ])
                }
                restart = true
            }
        }
        // librdkafka cannot seek a partition stopped on an out-of-range offset: a new assignment
        // restarts it. The others restart where the intake has got to (fetched and not polled
        // messages are fetched again); stopped partitions are left out, i.e. not fetched.
        if restart { try consumer.reassign(positions.filter { !gapStopped.contains($0.key) }) }
    }

    /// Records `found` (and moves the stored offset to where reading resumes), then says so:
    /// an error log line, the lost-messages counter, readiness.
    private func record(_ found: IntakeGap, _ store: IntakeStore) throws {
        var gap = found
        gap.id = try store.record(found)
        let tp = TopicPartition(topic: gap.topic, partition: Int32(gap.partition))
        if config.onOffsetGap == .stop { gapStopped.insert(tp) }
        let lost = gap.messagesLost ?? 0
        Counter(label: Metric.intakeGapMessages, dimensions: [("topic", gap.topic), ("partition", "\(gap.partition)")])
            .increment(by: Int(lost))
        counters.add("gap_messages", Int(lost))
        let then =
            config.onOffsetGap == .stop
            ? "partition left unread until `gridloopd gaps ack \(gap.id)`"
            : "reading on from offset \(gap.toOffset); acknowledge with `gridloopd gaps ack \(gap.id)`"
        logger.error(
            "intake gap: messages never applied are no longer on the broker; \(then)",
            metadata: [
                "gap": "\(gap.id)", "topic": "\(gap.topic)", "partition": "\(gap.partition)", "from": "\(gap.fromOffset)",
                "to": "\(gap.toOffset)", "lost": "\(gap.messagesLost.map(String.init) ?? "unknown")", "reason": "\(gap.reason)",
            ])
        // Readiness at once; the health probe keeps it from the table after that.
        health.update { $0.unacknowledgedGaps.append(gap.summary) }
    }
}
