import CoreMetrics
import GridloopCore
import GridloopKafka
import GridloopPostgres
import GridloopStore
import Logging

// A batch the database refused for its data: the message at fault is found and dead-lettered,
// on the intake thread with nothing in flight (see ARCHITECTURE.md, step 5).
extension IntakeSession {
    /// Commits messages of a batch the database refused for its data (SQLSTATE classes 22, 23
    /// and 54: a value it cannot store, a constraint, a key too long for its index), on the
    /// intake thread and with nothing in flight: the whole first, then each half in order, down
    /// to the single message at fault, which becomes a dead letter with the database's error as
    /// its reason. Everything else commits: one message never stops the intake.
    func isolate(_ items: ArraySlice<IntakeItem>) throws {
        do {
            try commitNow(Array(items))
        } catch let error as PostgresError where error.isCausedByData {
            if items.count > 1 {
                let middle = items.startIndex + items.count / 2
                try isolate(items[..<middle])
                try isolate(items[middle...])
                return
            }
            var item = items.first!
            let c = item.coordinates
            // The server's message, its DETAIL and CONTEXT on one line ("ERROR:  " dropped).
            var message = error.message
            if message.hasPrefix("ERROR:") { message = String(message.dropFirst(6).drop(while: { $0 == " " })) }
            message = message.split(separator: "\n").map { $0.trimmingPrefix(while: { $0 == " " }) }.joined(separator: " | ")
            let safe = SafeText.text(message, maxLength: 400)
            let reason = "refused by the database: \(safe)" + (error.sqlState.map { " [SQLSTATE \($0)]" } ?? "")
            item.outcome = .rejected(reason: reason)
            Counter(label: Metric.isolated, dimensions: [("source", Metric.source(ofTopic: c.topic, config.topics))]).increment()
            counters.add("isolated", 1)
            logger.error(
                "message isolated: the database refused it, dead-lettered",
                metadata: [
                    "topic": "\(c.topic)", "partition": "\(c.partition)", "offset": "\(c.offset)",
                    "sqlstate": "\(error.sqlState ?? "")", "context": "\(error.context)",
                    "reason": "\(safe)",
                ])
            // A dead letter stores the bytes as bytea and only safe text: if even that is
            // refused, the error is not the message's, and the session restarts.
            try commitNow([item])
        }
    }

    /// Plans and commits these items at once, on this thread (nothing may be in flight);
    /// the service's state moves only once the transaction has committed.
    private func commitNow(_ items: [IntakeItem]) throws {
        let started = monotonicNanos()
        let batch = try plan(items, started: started)
        try submit(
            PlannedWrite(planner: batch.planner, clocks: batch.clocks, fence: batch.expected, next: batch.next), inline: true
        ) { [self] began in committed(batch, started: started, commitBegan: began) }
    }
}
