import Foundation
import GridloopKafka

/// The outbound messages the tests consumed, written down for `scripts/check/check_events.py`, which
/// validates each against the JSON Schema of its kind (`schemas/`): so every event the daemon
/// emitted in a test run is checked against the documented contract, not only the ones a test
/// looks at. Active when `GRIDLOOP_EVENT_DUMP_DIR` is set (`scripts/test.sh` sets it); one JSON
/// line a message, appended to `events.jsonl` there: `topic`, `key` and the header values as
/// base64 (bytes as they came: a dead letter's key is the original message's), `headers` as
/// `[name, value]` pairs in order, `value` as base64.
enum EventDump {
    static var directory: String? { ProcessInfo.processInfo.environment["GRIDLOOP_EVENT_DUMP_DIR"] }

    /// A lock because XCTest may call from any thread; appends are whole lines.
    private static let lock = NSLock()

    /// Records `messages` consumed from an outbound topic (nothing when the dump is off).
    static func record(_ messages: [KafkaMessage]) {
        guard let directory, !messages.isEmpty else { return }
        var text = ""
        for m in messages {
            let line: [String: Any] = [
                "topic": m.topic,
                "key": base64(m.key),
                "headers": m.headers.map { h -> [Any] in [h.name, base64(h.value)] },
                "value": Data(m.value).base64EncodedString(),
            ]
            guard let json = try? JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]) else { continue }
            text += String(decoding: json, as: UTF8.self) + "\n"
        }
        lock.lock()
        defer { lock.unlock() }
        let path = URL(fileURLWithPath: directory).appendingPathComponent("events-\(getpid()).jsonl").path
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        guard let handle = FileHandle(forWritingAtPath: path) else { return }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
    }

    /// Bytes as base64, JSON null for none.
    private static func base64(_ bytes: [UInt8]?) -> Any {
        guard let bytes else { return NSNull() }
        return Data(bytes).base64EncodedString()
    }
}
