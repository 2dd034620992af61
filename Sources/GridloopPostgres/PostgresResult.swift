import CLibPQ

/// The rows of one query, copied out of libpq's `PGresult` (text format).
public struct PostgresRows: Sendable {
    public let columns: [String]
    /// Row-major cells; nil is SQL NULL.
    public let cells: [String?]
    public var count: Int { columns.isEmpty ? 0 : cells.count / columns.count }
    /// Rows affected by an INSERT/UPDATE/DELETE (`PQcmdTuples`), 0 otherwise.
    public let affected: Int

    init(result: OpaquePointer) {
        let nf = Int(PQnfields(result))
        var columns: [String] = []
        columns.reserveCapacity(nf)
        for f in 0..<nf { columns.append(String(cString: PQfname(result, Int32(f)))) }
        self.columns = columns
        self.cells = cellsOf(result) { String(decoding: $0, as: UTF8.self) }
        self.affected = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    public subscript(row: Int, column: Int) -> String? { cells[row * columns.count + column] }

    public func string(_ row: Int, _ column: Int) -> String? { self[row, column] }
    public func int(_ row: Int, _ column: Int) -> Int? { self[row, column].flatMap { Int($0) } }
    public func int64(_ row: Int, _ column: Int) -> Int64? { self[row, column].flatMap { Int64($0) } }
    public func bool(_ row: Int, _ column: Int) -> Bool? { self[row, column].map { $0 == "t" } }
    /// A `bytea` cell in hex output format (`\x...`), decoded.
    public func bytes(_ row: Int, _ column: Int) -> [UInt8]? {
        guard let s = self[row, column] else { return nil }
        return PostgresBytea.decodeHex(s)
    }
}

/// The rows of one query in binary format (`PostgresConnection.queryBinary`).
public struct PostgresBinaryRows: Sendable {
    public let columnCount: Int
    /// Row-major cells; nil is SQL NULL.
    public let cells: [[UInt8]?]
    public var count: Int { columnCount == 0 ? 0 : cells.count / columnCount }

    init(result: OpaquePointer) {
        columnCount = Int(PQnfields(result))
        cells = cellsOf(result) { Array($0) }
    }

    /// A `bytea` cell's bytes (or a `text` cell's UTF-8).
    public func bytes(_ row: Int, _ column: Int) -> [UInt8]? { cells[row * columnCount + column] }
    /// A `text` cell.
    public func string(_ row: Int, _ column: Int) -> String? { bytes(row, column).map { String(decoding: $0, as: UTF8.self) } }
    /// A `bigint` cell.
    public func int64(_ row: Int, _ column: Int) -> Int64? {
        guard let b = bytes(row, column), b.count == 8 else { return nil }
        return b.reduce(0) { $0 << 8 | Int64($1) }
    }

    /// A one-dimensional array cell (`text[]`, `bytea[]`), as its elements' bytes in order (nil
    /// element: NULL). Nil for SQL NULL and for a cell that is not such an array in binary form.
    public func array(_ row: Int, _ column: Int) -> [[UInt8]?]? {
        bytes(row, column).flatMap(Self.arrayElements)
    }

    /// The elements of an array in PostgreSQL's binary format (`array_send`): dimensions, a
    /// has-NULL flag, the element type, each dimension's size and lower bound, then each element
    /// as a length (-1: NULL) and its bytes. Nil unless it is one-dimensional (or empty) and
    /// exactly as long as its elements.
    static func arrayElements(_ b: [UInt8]) -> [[UInt8]?]? {
        var at = 0
        func read32() -> Int32? {
            guard at + 4 <= b.count else { return nil }
            defer { at += 4 }
            return Int32(bitPattern: UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3]))
        }
        guard let dimensions = read32(), read32() != nil, read32() != nil else { return nil }
        if dimensions == 0 { return at == b.count ? [] : nil }
        guard dimensions == 1, let count = read32(), count >= 0, read32() != nil else { return nil }
        var out: [[UInt8]?] = []
        out.reserveCapacity(min(Int(count), b.count / 4))  // a bad count cannot reserve more than the cell could hold
        for _ in 0..<count {
            guard let length = read32() else { return nil }
            if length == -1 {
                out.append(nil)
                continue
            }
            guard length >= 0, at + Int(length) <= b.count else { return nil }
            out.append(Array(b[at..<at + Int(length)]))
            at += Int(length)
        }
        return at == b.count ? out : nil
    }
}

/// Every cell of a result, row-major, each made by `cell` from its bytes; nil for SQL NULL.
private func cellsOf<T>(_ result: OpaquePointer, _ cell: (UnsafeBufferPointer<UInt8>) -> T) -> [T?] {
    let nf = Int(PQnfields(result))
    let nt = Int(PQntuples(result))
    var cells: [T?] = []
    cells.reserveCapacity(nf * nt)
    for t in 0..<Int32(nt) {
        for f in 0..<Int32(nf) {
            if PQgetisnull(result, t, f) == 1 {
                cells.append(nil)
            } else {
                let len = Int(PQgetlength(result, t, f))
                cells.append(
                    PQgetvalue(result, t, f)!.withMemoryRebound(to: UInt8.self, capacity: len) {
                        cell(UnsafeBufferPointer(start: $0, count: len))
                    })
            }
        }
    }
    return cells
}

/// Text encodings of `bytea`.
public enum PostgresBytea {
    /// `\x` followed by lowercase hex, the form PostgreSQL accepts as a text parameter.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        out.reserveCapacity(2 + bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func decodeHex(_ s: String) -> [UInt8]? {
        let u = Array(s.utf8)
        guard u.count >= 2, u[0] == UInt8(ascii: "\\"), u[1] == UInt8(ascii: "x"), u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity((u.count - 2) / 2)
        var i = 2
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}
