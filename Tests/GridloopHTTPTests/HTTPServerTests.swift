import Foundation
import GridloopHTTP
import GridloopTestSupport
import XCTest

/// The listener keeps answering while clients that send a byte at a time are connected, and cuts
/// such a client off at the request deadline although it never falls silent. No servers needed.
final class HTTPServerTests: XCTestCase {
    /// A server on a free loopback port, served on a thread of its own until the test ends.
    func start(requestTimeout: Duration, maxConnections: Int = HTTPServer.defaultMaxConnections) throws -> HTTPServer {
        let server = try HTTPServer(address: "127.0.0.1:0", requestTimeout: requestTimeout, maxConnections: maxConnections) {
            _, path in
            path == "/readyz" ? HTTPResponse(status: 200, body: "ready\n") : HTTPResponse(status: 404, body: "no such page\n")
        }
        let stop = Flag()
        let stopped = DispatchSemaphore(value: 0)
        Thread {
            server.run { stop.isSet }
            stopped.signal()
        }.start()
        addTeardownBlock {
            stop.set()
            stopped.wait()
        }
        return server
    }

    func testAnswersWhileSlowClientsAreConnected() throws {
        // A deadline far longer than the test: the slow clients are still connected when it asks.
        let server = try start(requestTimeout: .seconds(120))
        let slow = try (0..<4).map { _ in try SlowClient(port: server.port) }
        defer { slow.forEach { $0.finish() } }
        // The server has taken up every slow client before the plain requests go in.
        for client in slow { client.waitUntilTrickling() }

        for _ in 0..<3 {
            let answer = httpGet(port: server.port, "/readyz")
            XCTAssertEqual(answer?.status, 200)
            XCTAssertEqual(answer?.body, "ready\n")
        }
        XCTAssertEqual(httpGet(port: server.port, "/nothing")?.status, 404)
        for client in slow {
            XCTAssertTrue(client.isOpen, "a slow client was cut off before its deadline")
        }
    }

    func testASlowClientIsCutOffAtTheDeadlineThoughItKeepsSending() throws {
        let server = try start(requestTimeout: .seconds(1))
        let client = try SlowClient(port: server.port)
        defer { client.finish() }
        // It sends a byte every 100 ms, so a timeout per read would never fire; the deadline does.
        let ending = client.readUntilClosed()
        XCTAssertTrue(ending.closedByServer, "the server kept the slow connection open: \(ending)")
        if !ending.received.isEmpty {
            XCTAssertTrue(ending.received.hasPrefix("HTTP/1.1 408 "), ending.received)
        }
        XCTAssertGreaterThan(client.bytesSent, 0)
        XCTAssertEqual(httpGet(port: server.port, "/readyz")?.status, 200)
    }

    /// With every connection slot held by a slow client, a new client waits in the backlog and is
    /// answered once a slot frees, rather than being refused.
    func testAClientBeyondTheBoundIsAnsweredWhenASlotFrees() throws {
        let server = try start(requestTimeout: .seconds(1), maxConnections: 2)
        let slow = try (0..<2).map { _ in try SlowClient(port: server.port) }
        defer { slow.forEach { $0.finish() } }
        for client in slow { client.waitUntilTrickling() }
        XCTAssertEqual(httpGet(port: server.port, "/readyz")?.status, 200)
    }
}
