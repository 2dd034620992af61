import Dispatch
import Foundation
import GridloopPipeline

/// A dedicated OS thread for a blocking loop (librdkafka and libpq calls block).
final class WorkerThread: Sendable {
    private let done = DispatchSemaphore(value: 0)

    init(name: String, _ body: @escaping @Sendable () -> Void) {
        let done = self.done
        let thread = Thread {
            nameCurrentThread(name)
            body()
            done.signal()
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    func join() { done.wait() }

    /// Waits until the thread ends or `deadline` passes; false if it passed.
    func join(until deadline: DispatchTime) -> Bool { done.wait(timeout: deadline) == .success }
}
