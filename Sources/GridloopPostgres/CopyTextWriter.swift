/// Builds the body of `COPY ... FROM STDIN` in PostgreSQL's text format, one row at a time,
/// escaping each field. Reused across batches to avoid reallocating.
public struct CopyTextWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    private var firstField = true
    public private(set) var rows = 0

    public init(capacity: Int = 1 << 20) { bytes.reserveCapacity(capacity) }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        firstField = true
        rows = 0
    }

    private mutating func separator() {
        if !firstField { bytes.append(0x09) }
        firstField = false
    }

    public mutating func null() {
        separator()
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "N"))
    }

    public mutating func text(_ s: String?) {
        guard var s else { return null() }
        separator()
        s.withUTF8 { buf in
            for b in buf {
                switch b {
                case 0x5C:
                    bytes.append(0x5C)
                    bytes.append(0x5C)
                case 0x09:
                    bytes.append(0x5C)
                    bytes.append(UInt8(ascii: "t"))
                case 0x0A:
                    bytes.append(0x5C)
                    bytes.append(UInt8(ascii: "n"))
                case 0x0D:
                    bytes.append(0x5C)
                    bytes.append(UInt8(ascii: "r"))
                default: bytes.append(b)
                }
            }
        }
    }

    public mutating func int(_ v: Int?) {
        guard let v else { return null() }
        separator()
        appendDecimal(Int64(v))
    }

    public mutating func int64(_ v: Int64?) {
        guard let v else { return null() }
        separator()
        appendDecimal(v)
    }

    /// A `timestamptz` from epoch milliseconds, written in UTC (`2026-11-23 00:37:15.000+00`).
    public mutating func timestamp(epochMillis v: Int64?) {
        guard let v else { return null() }
        separator()
        TimestampText.append(epochMillis: v, to: &bytes)
    }

    /// A `bytea` field in hex form.
    public mutating func bytea(_ v: [UInt8]?) {
        guard let v else { return null() }
        separator()
        // In COPY text format the backslash of `\x` must itself be escaped.
        bytes.append(0x5C)
        bytes.append(0x5C)
        bytes.append(UInt8(ascii: "x"))
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { d in
            for b in v {
                bytes.append(d[Int(b >> 4)])
                bytes.append(d[Int(b & 0xF)])
            }
        }
    }

    public mutating func endRow() {
        bytes.append(0x0A)
        firstField = true
        rows += 1
    }

    private mutating func appendDecimal(_ v: Int64) {
        if v < 0 {
            bytes.append(UInt8(ascii: "-"))
            if v == Int64.min {
                bytes.append(contentsOf: Array("9223372036854775808".utf8))
                return
            }
            appendDecimal(-v)
            return
        }
        if v < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(v))
            return
        }
        var tmp:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = v
        var count = 0
        withUnsafeMutableBytes(of: &tmp) { t in
            while n > 0 {
                t[count] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
                count += 1
            }
            for i in stride(from: count - 1, through: 0, by: -1) { bytes.append(t[i]) }
        }
    }
}

/// Formats epoch milliseconds as PostgreSQL timestamp text in UTC, without Foundation.
public enum TimestampText {
    public static func string(epochMillis: Int64) -> String {
        var b: [UInt8] = []
        append(epochMillis: epochMillis, to: &b)
        return String(decoding: b, as: UTF8.self)
    }

    public static func append(epochMillis v: Int64, to bytes: inout [UInt8]) {
        let ms = Int(((v % 1000) + 1000) % 1000)
        let secs = (v - Int64(ms)) / 1000
        var days = secs / 86_400
        var rem = secs % 86_400
        if rem < 0 {
            rem += 86_400
            days -= 1
        }
        // civil_from_days (Howard Hinnant)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        var y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        if m <= 2 { y += 1 }
        func two(_ x: Int64) {
            bytes.append(UInt8(ascii: "0") + UInt8(x / 10))
            bytes.append(UInt8(ascii: "0") + UInt8(x % 10))
        }
        two(y / 100)
        two(y % 100)
        bytes.append(UInt8(ascii: "-"))
        two(m)
        bytes.append(UInt8(ascii: "-"))
        two(d)
        bytes.append(UInt8(ascii: " "))
        two(rem / 3600)
        bytes.append(UInt8(ascii: ":"))
        two(rem / 60 % 60)
        bytes.append(UInt8(ascii: ":"))
        two(rem % 60)
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(ms / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(ms / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(ms % 10))
        bytes.append(contentsOf: [UInt8(ascii: "+"), UInt8(ascii: "0"), UInt8(ascii: "0")])
    }
}
