import Foundation
import GridloopTestSupport
import Synchronization

/// A client that sends the start of a request and then one byte every 100 ms, never finishing
/// its head: the kind of client that must not hold the listener.
final class SlowClient: Sendable {
    struct Ending: CustomStringConvertible {
        /// True when the server closed the connection (end of stream or reset).
        var closedByServer: Bool
        /// What the server sent before closing.
        var received: String
        var description: String { "closed by server: \(closedByServer), received: \(received.debugDescription)" }
    }

    struct ConnectFailed: Error {}

    let fd: Int32
    private let sent = Atomic<Int>(0)
    private let stop = Atomic<Bool>(false)
    private let stopped = DispatchSemaphore(value: 0)

    init(port: Int) throws {
        guard let fd = connectLoopback(port: port) else { throw ConnectFailed() }
        self.fd = fd
        let start = Array("GET /readyz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".utf8)
        _ = start.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        Thread { [self] in
            var byte: UInt8 = UInt8(ascii: "a")
            while !stop.load(ordering: .acquiring) {
                guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { break }
                sent.add(1, ordering: .relaxed)
                usleep(100_000)
            }
            stopped.signal()
        }.start()
    }

    /// Bytes of the trickle sent so far.
    var bytesSent: Int { sent.load(ordering: .relaxed) }

    /// Returns once a few bytes of the trickle have gone out.
    func waitUntilTrickling() {
        while bytesSent < 3 { usleep(20_000) }
    }

    /// True while the server has neither answered nor closed the connection.
    var isOpen: Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) == 0
    }

    /// Reads until the server closes the connection (or a minute passes, which fails the test).
    func readUntilClosed() -> Ending {
        setReceiveTimeout(fd, seconds: 60)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                received += buffer[0..<n]
                continue
            }
            let closed = n == 0 || errno == ECONNRESET
            return Ending(closedByServer: closed, received: String(decoding: received, as: UTF8.self))
        }
    }

    /// Stops the trickle and closes the connection.
    func finish() {
        stop.store(true, ordering: .releasing)
        stopped.wait()
        close(fd)
    }
}
