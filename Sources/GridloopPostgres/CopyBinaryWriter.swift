#if canImport(Glibc)
    import Glibc
#endif

/// Builds the body of `COPY ... FROM STDIN (FORMAT binary)`: no text parsing on the server,
/// which matters for timestamps. Each call must match its column's type exactly
/// (`int` → integer, `int64` → bigint, `timestamp` → timestamptz, `text`, `bytea`, `text[]`,
/// `bytea[]`).
public struct CopyBinaryWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public private(set) var rows = 0
    private var rowStart = 0
    private var fields: Int16 = 0
    private var inRow = false

    /// Microseconds between 1970-01-01 and PostgreSQL's epoch, 2000-01-01.
    private static let postgresEpochMicros: Int64 = 946_684_800_000_000

    public init(capacity: Int = 1 << 20) {
        bytes.reserveCapacity(capacity)
        reset()
    }

    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: [0x50, 0x47, 0x43, 0x4F, 0x50, 0x59, 0x0A, 0xFF, 0x0D, 0x0A, 0x00])  // PGCOPY\n\377\r\n\0
        append32(0)  // flags
        append32(0)  // header extension length
        rows = 0
        inRow = false
    }

    /// The finished body, with the trailer.
    public var finished: [UInt8] {
        var b = bytes
        b.append(0xFF)
        b.append(0xFF)
        return b
    }

    private mutating func field() {
        if !inRow {
            inRow = true
            rowStart = bytes.count
            fields = 0
            bytes.append(0)
            bytes.append(0)
        }
        fields += 1
    }

    public mutating func null() {
        field()
        append32(-1)
    }

    /// A `text` field. PostgreSQL's text cannot hold NUL (a Swift string is valid UTF-8 but may
    /// contain it): each NUL is written as the six characters `\u0000`, so that no value, whatever
    /// a message carried, makes the COPY and its whole batch fail.
    public mutating func text(_ s: String?) {
        guard var s else { return null() }
        field()
        s.withUTF8 { buf in
            if buf.isEmpty || memchr(buf.baseAddress!, 0, buf.count) == nil {
                append32(Int32(buf.count))
                bytes.append(contentsOf: buf)
            } else {
                let escaped = Self.escapingNUL(buf)
                append32(Int32(escaped.count))
                bytes.append(contentsOf: escaped)
            }
        }
    }

    /// UTF-8 bytes with each NUL replaced by `\u0000`.
    static func escapingNUL<C: Collection<UInt8>>(_ utf8: C) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 10)
        for b in utf8 {
            if b == 0 { out.append(contentsOf: Array("\\u0000".utf8)) } else { out.append(b) }
        }
        return out
    }

    /// A `text` field from bytes that are UTF-8 already (its binary form is those bytes).
    public mutating func text(utf8 v: [UInt8]) {
        field()
        append32(Int32(v.count))
        bytes.append(contentsOf: v)
    }

    public mutating func int(_ v: Int?) {
        guard let v else { return null() }
        field()
        append32(4)
        append32(Int32(truncatingIfNeeded: v))
    }

    public mutating func int64(_ v: Int64?) {
        guard let v else { return null() }
        field()
        append32(8)
        append64(v)
    }

    /// A `timestamptz` from epoch milliseconds.
    public mutating func timestamp(epochMillis v: Int64?) {
        guard let v else { return null() }
        field()
        append32(8)
        append64(v * 1000 - Self.postgresEpochMicros)
    }

    public mutating func bytea(_ v: [UInt8]?) {
        guard let v else { return null() }
        field()
        append32(Int32(v.count))
        bytes.append(contentsOf: v)
    }

    /// A one-dimensional `text[]` without NULL elements.
    public mutating func textArray(_ values: [String]) {
        array(elementType: 25, values.map { $0.utf8.contains(0) ? Self.escapingNUL($0.utf8) : Array($0.utf8) })
    }

    /// A one-dimensional `bytea[]`; nil elements are NULL.
    public mutating func byteaArray(_ values: [[UInt8]?]) {
        array(elementType: 17, values)
    }

    /// A one-dimensional array of elements already in their binary form (`elementType`: the
    /// element type's oid); an empty array has no dimension, as PostgreSQL writes it.
    private mutating func array(elementType: Int32, _ values: [[UInt8]?]) {
        field()
        var body: [UInt8] = []
        func put32(_ v: Int32) {
            let u = UInt32(bitPattern: v)
            body.append(contentsOf: [UInt8(u >> 24), UInt8(u >> 16 & 0xFF), UInt8(u >> 8 & 0xFF), UInt8(u & 0xFF)])
        }
        put32(values.isEmpty ? 0 : 1)
        put32(values.contains(nil) ? 1 : 0)
        put32(elementType)
        if !values.isEmpty {
            put32(Int32(values.count))
            put32(1)
        }  // dimension size, lower bound
        for v in values {
            guard let v else {
                put32(-1)
                continue
            }
            put32(Int32(v.count))
            body.append(contentsOf: v)
        }
        append32(Int32(body.count))
        bytes.append(contentsOf: body)
    }

    public mutating func endRow() {
        bytes[rowStart] = UInt8(truncatingIfNeeded: UInt16(bitPattern: fields) >> 8)
        bytes[rowStart + 1] = UInt8(truncatingIfNeeded: UInt16(bitPattern: fields))
        inRow = false
        rows += 1
    }

    private mutating func append32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        bytes.append(UInt8(u >> 24))
        bytes.append(UInt8(u >> 16 & 0xFF))
        bytes.append(UInt8(u >> 8 & 0xFF))
        bytes.append(UInt8(u & 0xFF))
    }

    private mutating func append64(_ v: Int64) {
        let u = UInt64(bitPattern: v)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(u >> UInt64(shift) & 0xFF)) }
    }
}
