import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What systemd would hear from a daemon: a unix datagram socket to hand over as
/// `NOTIFY_SOCKET`, and the messages (`READY=1`, `STATUS=...`, `WATCHDOG=1`) read from it.
final class NotifyListener: Sendable {
    let path: String
    private let fd: Int32
    private let received = Mutex<[String]>([])
    private let closed = Atomic<Bool>(false)

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() where i < raw.count - 1 { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !closed.load(ordering: .relaxed) {
                let n = recv(fd, &buffer, buffer.count, 0)
                guard n > 0 else { continue }
                let text = String(decoding: buffer[..<n], as: UTF8.self)
                received.withLock { $0 += text.split(separator: "\n").map(String.init) }
            }
        }
        thread.start()
    }

    /// Every line received so far, in order.
    var messages: [String] { received.withLock { $0 } }

    deinit {
        closed.store(true, ordering: .relaxed)
        usleep(300_000)
        close(fd)
        unlink(path)
    }
}
