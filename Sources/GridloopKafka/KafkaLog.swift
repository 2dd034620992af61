import CRdKafka
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

// Threading: librdkafka calls the log callback on its own threads (broker threads, the main
// thread, the mock cluster's thread), concurrently and also while a handle is being destroyed.
// The callback is a C function without context: it reads the process's sink from a Mutex and
// calls it there, so the sink must be thread-safe (a swift-log Logger is). No handle's opaque
// pointer is touched, so a line logged during `rd_kafka_destroy` never reaches freed memory.
// librdkafka forbids calling its API from a log callback; `rd_kafka_name` is the one exception
// taken here: it returns a field set in `rd_kafka_new` and takes no lock (its own stderr
// printer calls it the same way).

/// Where librdkafka's own log lines go, for every client handle of the process (consumers,
/// producers, the relay's reader, `status`'s metadata client, the mock cluster's owner).
///
/// `KafkaConfig.make` installs the callback on every configuration, so no handle prints raw
/// `%N|` lines on stderr. One sink for the process rather than one per handle: handles are made
/// deep inside the pipeline, and lines logged while a handle is destroyed need a sink that
/// outlives it. Until `bootstrap` is called, lines go to stderr as one key=value line each
/// (`<3>librdkafka: Connect to ... failed fac=FAIL client=gridloopd#producer-1`).
///
/// ```swift
/// KafkaLog.bootstrap { line in logger.log(level: ..., "\(line.message)", metadata: ["fac": "\(line.facility)"]) }
/// ```
public enum KafkaLog {
    private static let sink = Mutex<@Sendable (KafkaLogLine) -> Void>(KafkaLog.standardError)

    /// Sends every later line of every handle to `sink` (called on librdkafka's threads).
    /// May be called again (tests do); the last call wins.
    public static func bootstrap(_ sink: @escaping @Sendable (KafkaLogLine) -> Void) {
        self.sink.withLock { $0 = sink }
    }

    /// The default sink: one line on stderr with the journald priority prefix and key=value
    /// fields, in the format of the daemon's own log lines.
    @Sendable public static func standardError(_ line: KafkaLogLine) {
        var text = "<\(line.level.rawValue)>librdkafka: "
        text += line.message.split(whereSeparator: \.isNewline).joined(separator: " | ")
        text += " client=\(quotedIfNeeded(line.client)) fac=\(quotedIfNeeded(line.facility))\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }

    /// A key=value value: bare when it has no space, quote, backslash or control
    /// character; else in double quotes with `\"`, `\\`, `\n`, `\r`, `\t` and `\u{XX}` escapes.
    /// The one copy of the rule: the daemon's `JournalLogHandler` writes its values with it too
    /// (it lives here because the broker process, which has no swift-log handler, needs it).
    package static func quotedIfNeeded(_ value: String) -> String {
        let plain =
            !value.isEmpty
            && value.unicodeScalars.allSatisfy {
                $0.value > 0x20 && $0.value != 0x7f && $0 != "\"" && $0 != "\\"
            }
        if plain { return value }
        var out = "\""
        for s in value.unicodeScalars {
            switch s {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where s.value < 0x20 || s.value == 0x7f: out += "\\u{\(String(s.value, radix: 16))}"
            default: out.unicodeScalars.append(s)
            }
        }
        return out + "\""
    }

    /// Hands one line from librdkafka's log callback to the sink.
    static func emit(_ rk: OpaquePointer?, _ level: Int32, _ fac: UnsafePointer<CChar>?, _ buf: UnsafePointer<CChar>?) {
        let line = KafkaLogLine(
            level: KafkaLogLevel(syslog: level),
            facility: fac.map { String(cString: $0) } ?? "",
            client: rk.flatMap { rd_kafka_name($0) }.map { String(cString: $0) } ?? "",
            message: buf.map { String(cString: $0) } ?? "")
        let sink = self.sink.withLock { $0 }
        sink(line)
    }

    /// Routes `conf`'s log lines to the sink instead of librdkafka's stderr printer.
    static func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_log_cb(conf) { rk, level, fac, buf in KafkaLog.emit(rk, level, fac, buf) }
    }
}
