import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

// Threading: `run` blocks the thread that calls it (the daemon gives it one of its own) and only
// accepts; each connection is served on a thread of its own, at most `maxConnections` at once.
// A thread per connection rather than a fixed pool: the endpoints answer from memory in
// microseconds, so a handler's whole life is waiting on its client, and a pool of N threads would
// be held by N slow clients exactly as N connection threads are; an idle thread costs nothing but
// its stack. The bound keeps a scanner or a stuck scraper from making threads without end: past
// it, new connections wait in the listen backlog until a handler ends, at most `requestTimeout`
// later. Each connection has one deadline for reading the request and writing the answer (not a
// timeout per byte), so a client that sends a byte a second is cut off like a silent one.

/// What an endpoint answers.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var contentType: String
    public var body: [UInt8]

    public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: String) {
        self.status = status
        self.contentType = contentType
        self.body = Array(body.utf8)
    }
}

public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public var description: String
}

/// A minimal HTTP/1.1 listener for a few GET endpoints (`/metrics`, `/healthz`, `/readyz`):
/// one request per connection, `Connection: close`.
public final class HTTPServer: Sendable {
    private let fd: Int32
    /// The port actually bound (useful with port 0).
    public let port: Int
    public let host: String
    /// How long a connection may take to send its request and read the answer, all told.
    public let requestTimeout: Duration
    /// How many connections are served at once; more wait in the listen backlog.
    public let maxConnections: Int
    private let handler: @Sendable (_ method: String, _ path: String) -> HTTPResponse
    /// Connections being served now (accepted, their thread not ended yet).
    private let active = Atomic<Int>(0)

    /// Five seconds: a scraper or a probe sends its few hundred bytes at once, so only a broken or
    /// hostile client comes near it, and a handler slot is never held for longer.
    public static let defaultRequestTimeout: Duration = .seconds(5)
    /// Sixteen: Prometheus, the orchestrator's two probes and a person with curl need a handful;
    /// the rest is headroom for slow clients, each of which holds a slot for `requestTimeout` at most.
    public static let defaultMaxConnections = 16

    /// Binds and listens on `address` (`host:port`, `[v6]:port` or `:port` for all interfaces)
    /// at once, so that a port in use or a bad address fails start-up, not later.
    public init(
        address: String, requestTimeout: Duration = HTTPServer.defaultRequestTimeout,
        maxConnections: Int = HTTPServer.defaultMaxConnections,
        handler: @escaping @Sendable (_ method: String, _ path: String) -> HTTPResponse
    ) throws {
        precondition(maxConnections > 0 && requestTimeout > .zero, "an HTTP server needs a connection and some time")
        guard let (host, port) = Self.split(address) else {
            throw HTTPServerError(description: "'\(address)' is not host:port")
        }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw HTTPServerError(description: "cannot resolve '\(host)': \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        let s = socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard s >= 0 else { throw HTTPServerError(description: "socket: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        guard bind(s, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0 else {
            let e = String(cString: strerror(errno))
            Glibc.close(s)
            throw HTTPServerError(description: "cannot listen on \(address): \(e)")
        }
        guard listen(s, 64) == 0 else {
            let e = String(cString: strerror(errno))
            Glibc.close(s)
            throw HTTPServerError(description: "listen on \(address): \(e)")
        }
        var bound = sockaddr_storage()
        var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
        var actual = port
        withUnsafeMutablePointer(to: &bound) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                if getsockname(s, sa, &len) == 0 {
                    if sa.pointee.sa_family == sa_family_t(AF_INET) {
                        sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                            actual = Int(UInt16(bigEndian: $0.pointee.sin_port))
                        }
                    } else if sa.pointee.sa_family == sa_family_t(AF_INET6) {
                        sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                            actual = Int(UInt16(bigEndian: $0.pointee.sin6_port))
                        }
                    }
                }
            }
        }
        self.fd = s
        self.port = actual
        self.host = host
        self.handler = handler
        self.requestTimeout = requestTimeout
        self.maxConnections = maxConnections
    }

    deinit { Glibc.close(fd) }

    /// Serves until `shouldStop` returns true (checked at least every 200 ms). Connections being
    /// served when it returns finish on their own threads, within `requestTimeout`.
    public func run(until shouldStop: () -> Bool) {
        while !shouldStop() {
            // At the bound, leave new connections in the backlog until a handler ends.
            guard active.load(ordering: .acquiring) < maxConnections else {
                var pause = timespec(tv_sec: 0, tv_nsec: 20_000_000)
                nanosleep(&pause, nil)
                continue
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            // Non-blocking, so that every wait goes through `poll` with the connection's deadline.
            _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            active.add(1, ordering: .acquiringAndReleasing)
            let thread = Thread { [self] in
                serve(client, deadline: .now + requestTimeout)
                Glibc.close(client)
                active.subtract(1, ordering: .acquiringAndReleasing)
            }
            thread.name = "http-connection"
            thread.stackSize = 1 << 20  // a request head and an answer from memory
            thread.start()
        }
    }

    /// Reads one request and answers it, giving up at `deadline`; `client` is non-blocking.
    private func serve(_ client: Int32, deadline: ContinuousClock.Instant) {
        // Read until the end of the headers (a GET has no body); 16 KiB is plenty.
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 16384, !Self.headersComplete(request) {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                request += buffer[0..<n]
            } else if n == 0 {
                break
            } else if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard Self.wait(client, for: POLLIN, until: deadline) else {
                    // Too slow: say so if the client listens, and hang up.
                    Self.send(
                        Self.encode(HTTPResponse(status: 408, body: "request not received in time\n")),
                        to: client, until: .now)
                    return
                }
            } else {
                return
            }
        }
        let response: HTTPResponse
        if let (method, target) = Self.requestLine(request) {
            let path = String(target.prefix { $0 != "?" })
            if method == "GET" || method == "HEAD" {
                var r = handler(method, path)
                if method == "HEAD" { r.body = [] }
                response = r
            } else {
                response = HTTPResponse(status: 405, body: "only GET and HEAD\n")
            }
        } else {
            response = HTTPResponse(status: 400, body: "bad request\n")
        }
        Self.send(Self.encode(response), to: client, until: deadline)
    }

    static func encode(_ response: HTTPResponse) -> [UInt8] {
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        head += "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
        head += "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + response.body
    }

    /// Writes `bytes` to the non-blocking `client` until all are sent, the client goes away or
    /// `deadline` passes (a client that does not read cannot hold the handler either).
    static func send(_ bytes: [UInt8], to client: Int32, until deadline: ContinuousClock.Instant) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0, errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                guard wait(client, for: POLLOUT, until: deadline) else { return }
            } else {
                return
            }
        }
    }

    /// Waits until `fd` is ready for `events` (or hung up, or failed: the next call says which);
    /// false once `deadline` has passed.
    static func wait(_ fd: Int32, for events: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            let left = (deadline - .now).components
            let millis = left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000
            guard millis > 0 else { return false }
            var p = pollfd(fd: fd, events: Int16(events), revents: 0)
            let rc = poll(&p, 1, Int32(min(millis, 60_000)))
            if rc > 0 { return true }
            if rc < 0, errno != EINTR { return false }
        }
    }

    static func headersComplete(_ r: [UInt8]) -> Bool {
        guard r.count >= 4 else { return false }
        for i in 0...(r.count - 4) where r[i] == 13 && r[i + 1] == 10 && r[i + 2] == 13 && r[i + 3] == 10 { return true }
        return false
    }

    static func requestLine(_ r: [UInt8]) -> (String, String)? {
        guard let end = r.firstIndex(of: 13) ?? r.firstIndex(of: 10) else { return nil }
        let parts = String(decoding: r[0..<end], as: UTF8.self).split(separator: " ")
        guard parts.count == 3, parts[2].hasPrefix("HTTP/1.") else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }

    /// `127.0.0.1:9464` → ("127.0.0.1", 9464); `[::1]:9464` → ("::1", 9464); `:9464` → ("", 9464).
    public static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
