#if canImport(Glibc)
import Glibc
#endif

// Threading: `run` blocks the thread that calls it (the daemon gives it one of its own) and
// serves one connection at a time: the endpoints answer from memory in microseconds, and a
// slow or silent client is cut off by a receive timeout. `close` may be called from any thread.

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
public final class HTTPServer: @unchecked Sendable {
    // @unchecked: `fd` is written once in init; `closed` is only read and written by atomic ops.
    private let fd: Int32
    /// The port actually bound (useful with port 0).
    public let port: Int
    public let host: String
    private let handler: @Sendable (_ method: String, _ path: String) -> HTTPResponse

    /// Binds and listens on `address` (`host:port`, `[v6]:port` or `:port` for all interfaces)
    /// at once, so that a port in use or a bad address fails start-up, not later.
    public init(address: String, handler: @escaping @Sendable (_ method: String, _ path: String) -> HTTPResponse) throws {
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
                        sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { actual = Int(UInt16(bigEndian: $0.pointee.sin_port)) }
                    } else if sa.pointee.sa_family == sa_family_t(AF_INET6) {
                        sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { actual = Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                    }
                }
            }
        }
        self.fd = s
        self.port = actual
        self.host = host
        self.handler = handler
    }

    deinit { Glibc.close(fd) }

    /// Serves until `shouldStop` returns true (checked at least every 200 ms).
    public func run(until shouldStop: () -> Bool) {
        while !shouldStop() {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 200) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            serve(client)
            Glibc.close(client)
        }
    }

    private func serve(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        // Read until the end of the headers (a GET has no body); 16 KiB is plenty.
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 16384 {
            let n = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            request += buffer[0..<n]
            if Self.headersComplete(request) { break }
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
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        head += "Content-Type: \(response.contentType)\r\nContent-Length: \(response.body.count)\r\n"
        head += "Cache-Control: no-store\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + response.body
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { send(client, $0.baseAddress! + sent, $0.count - sent, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
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
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }

    /// `127.0.0.1:9464` → ("127.0.0.1", 9464); `[::1]:9464` → ("::1", 9464); `:9464` → ("", 9464).
    public static func split(_ address: String) -> (String, Int)? {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
              (0...65535).contains(port) else { return nil }
        var host = String(address[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
