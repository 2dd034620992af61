#if canImport(Glibc)
    import Glibc
#endif

// Threading: `notify` may be called from any thread (one sendto per call).

/// The sd_notify protocol without libsystemd: datagrams (`READY=1`, `STATUS=...`,
/// `WATCHDOG=1`, `STOPPING=1`) to the unix socket systemd names in $NOTIFY_SOCKET. Does
/// nothing when the daemon does not run under systemd (`Type=notify`).
public final class SystemdNotifier: Sendable {
    private let path: String?
    /// Half the watchdog interval systemd asked for ($WATCHDOG_USEC), if it asked.
    public let watchdogInterval: Duration?
    /// The full watchdog interval: a worker loop silent for this long is considered hung.
    public let watchdogTimeout: Duration?

    public init(environment: [String: String]) {
        path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        var interval: Duration?
        var timeout: Duration?
        if let usec = environment["WATCHDOG_USEC"].flatMap({ Int64($0) }), usec > 0 {
            let forUs = environment["WATCHDOG_PID"].flatMap { Int32($0) }.map { $0 == getpid() } ?? true
            if forUs {
                timeout = .microseconds(usec)
                interval = .microseconds(usec / 2)
            }
        }
        watchdogInterval = interval
        watchdogTimeout = timeout
    }

    public var isActive: Bool { path != nil }

    /// Sends one state string (lines `KEY=value`). Errors are ignored: systemd may be gone.
    public func notify(_ state: String) {
        guard let path else { return }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        // A leading '@' names an abstract socket: the name starts with a NUL byte.
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) }
            }
        }
    }
}
