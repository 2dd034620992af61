import Foundation

/// Commits planned batches on a thread of its own, strictly in order, so that the intake
/// thread can poll, decode and plan the next batch while PostgreSQL writes and syncs this one.
/// After a failure it runs nothing more: the jobs queued behind depended on the failed one,
/// and `submit` and `drain` rethrow the failure so that the intake starts a new session.
final class BatchCommitter: @unchecked Sendable {
    // @unchecked: every mutable field is read and written under `condition`'s lock.
    typealias Job = @Sendable () throws -> Void

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var running = false
    private var stopped = false
    private var failure: Error?
    private var submittedJobs = 0
    private var completedJobs = 0
    private let done = DispatchSemaphore(value: 0)
    /// Batches planned ahead of the one being committed, at most.
    private let depth: Int

    init(depth: Int = 1) {
        self.depth = depth
        let thread = Thread { [self] in
            nameCurrentThread("intake-commit")
            loop()
        }
        thread.name = "intake-commit"
        thread.start()
    }

    /// Queues a job, waiting while `depth` jobs are already queued. Returns the job's number
    /// (1, 2, ...): it has been committed once `completed` reaches it.
    @discardableResult
    func submit(_ job: @escaping Job) throws -> Int {
        condition.lock()
        defer { condition.unlock() }
        while queue.count >= depth, failure == nil { condition.wait() }
        if let failure { throw failure }
        queue.append(job)
        submittedJobs += 1
        condition.broadcast()
        return submittedJobs
    }

    /// How many jobs have run successfully, in order.
    /// Jobs submitted so far (the number of the last one).
    var submitted: Int {
        condition.lock()
        defer { condition.unlock() }
        return submittedJobs
    }

    var completed: Int {
        condition.lock()
        defer { condition.unlock() }
        return completedJobs
    }

    /// Rethrows the failure of a job, if one failed; does not wait. The intake calls it every
    /// round, so that a failed commit restarts the session even when nothing more is submitted.
    func checkFailure() throws {
        condition.lock()
        defer { condition.unlock() }
        if let failure { throw failure }
    }

    /// Waits until every submitted job has run; rethrows the first failure.
    func drain() throws {
        condition.lock()
        defer { condition.unlock() }
        while !queue.isEmpty || running, failure == nil { condition.wait() }
        if let failure { throw failure }
    }

    /// Runs what is queued, then ends the thread.
    func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
        done.wait()
    }

    private func loop() {
        while true {
            condition.lock()
            while queue.isEmpty, !stopped { condition.wait() }
            if queue.isEmpty || failure != nil {
                condition.unlock()
                break
            }
            let job = queue.removeFirst()
            running = true
            condition.unlock()
            var error: Error?
            do { try job() } catch let e { error = e }
            condition.lock()
            running = false
            if error == nil { completedJobs += 1 }
            if let error, failure == nil {
                failure = error
                queue.removeAll()
            }
            condition.broadcast()
            condition.unlock()
        }
        done.signal()
    }
}
