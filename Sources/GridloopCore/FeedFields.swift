/// Why a feed message was refused; the reason names the field and the problem, never a value
/// that could be personal data.
struct FeedRejection: Error {
    var reason: String
}

/// Typed access to the fields of one JSON object, with the path used in rejection reasons.
struct FeedFields {
    let object: [String: JSONValue]
    let path: String

    init(_ object: [String: JSONValue], path: String = "") {
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func has(_ key: String) -> Bool {
        if let v = object[key], v != .null { return true }
        return false
    }

    func value(_ key: String) throws(FeedRejection) -> JSONValue {
        guard let v = object[key], v != .null else { throw FeedRejection(reason: "missing required field \(name(key))") }
        return v
    }

    /// A string of at most `maxLength` Unicode scalars, read past or dropped (free text,
    /// personal data): its content is not checked beyond JSON validity.
    func string(_ key: String, maxLength: Int = 100_000) throws(FeedRejection) -> String {
        guard case .string(let s) = try value(key) else {
            throw FeedRejection(reason: "field \(name(key)): expected a string, found \(object[key]!.typeName)")
        }
        // utf8.count bounds the scalar count from above: most strings need no count at all.
        guard s.utf8.count <= maxLength || s.unicodeScalars.count <= maxLength else {
            throw FeedRejection(reason: "field \(name(key)): longer than \(maxLength) characters")
        }
        return s
    }

    /// A string that is kept (a code, an id, a name): bounded, and without control characters,
    /// which PostgreSQL `text` cannot hold (NUL) or which would garble a log line or a table.
    func text(_ key: String, maxLength: Int) throws(FeedRejection) -> String {
        let s = try string(key, maxLength: maxLength)
        if let c = s.unicodeScalars.first(where: SafeText.isControl) {
            throw FeedRejection(reason: "field \(name(key)): contains a control character (U+\(hex4(c.value)))")
        }
        return s
    }

    /// A kept string that must not be empty.
    func nonEmptyText(_ key: String, maxLength: Int) throws(FeedRejection) -> String {
        let s = try text(key, maxLength: maxLength)
        guard !s.isEmpty else { throw FeedRejection(reason: "field \(name(key)): must not be empty") }
        return s
    }

    func optionalText(_ key: String, maxLength: Int) throws(FeedRejection) -> String? {
        guard has(key) else { return nil }
        return try text(key, maxLength: maxLength)
    }

    private func hex4(_ v: UInt32) -> String {
        let h = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - h.count)) + h
    }

    /// Message content quoted in a reason: escaped and cut short.
    static func quote(_ s: String) -> String { SafeText.text(s, maxLength: FeedLimits.quoted) }

    func int(_ key: String, min: Int) throws(FeedRejection) -> Int {
        let v = try value(key)
        switch v {
        case .integer(let n) where n >= Int64(min) && n <= Int64(Int32.max): return Int(n)
        case .double(let d) where d == d.rounded() && d >= Double(min) && d <= Double(Int32.max): return Int(d)
        default: throw FeedRejection(reason: "field \(name(key)): expected an integer >= \(min)")
        }
    }

    func optionalInt(_ key: String, min: Int) throws(FeedRejection) -> Int? {
        guard has(key) else { return nil }
        return try int(key, min: min)
    }

    func object(_ key: String) throws(FeedRejection) -> FeedFields {
        guard case .object(let o) = try value(key) else {
            throw FeedRejection(reason: "field \(name(key)): expected an object, found \(object[key]!.typeName)")
        }
        return FeedFields(o, path: name(key))
    }

    func optionalObject(_ key: String) throws(FeedRejection) -> FeedFields? {
        guard has(key) else { return nil }
        return try object(key)
    }

    /// A string that must be one of `E`'s raw values; the bad value is quoted (these are codes, not personal data).
    func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(FeedRejection) -> E
    where E.RawValue == String {
        let s = try string(key)
        guard let e = E(rawValue: s) else {
            throw FeedRejection(
                reason:
                    "field \(name(key)): '\(Self.quote(s))' is not one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return e
    }

    func oneOf(_ key: String, _ allowed: [String]) throws(FeedRejection) -> String {
        let s = try string(key)
        guard allowed.contains(s) else {
            throw FeedRejection(reason: "field \(name(key)): '\(Self.quote(s))' is not one of \(allowed.joined(separator: ", "))")
        }
        return s
    }

    func rfc3339(_ key: String) throws(FeedRejection) -> Int64 {
        let s = try string(key)
        guard let t = FeedTime.rfc3339(s) else {
            throw FeedRejection(reason: "field \(name(key)): not an RFC 3339 time with an offset")
        }
        return t
    }

    func localTime(_ key: String) throws(FeedRejection) -> Int64 {
        let s = try string(key)
        guard let t = FeedTime.beijing(s) else {
            throw FeedRejection(reason: "field \(name(key)): not a time of the form yyyy-MM-dd HH:mm:ss")
        }
        return t
    }

    func optionalLocalTime(_ key: String) throws(FeedRejection) -> Int64? {
        guard has(key) else { return nil }
        return try localTime(key)
    }
}

/// Time formats of the two feeds, parsed without Foundation.
public enum FeedTime {
    /// `2026-11-23T08:37:15+08:00`, `...Z`, with optional fractional seconds → epoch ms.
    public static func rfc3339(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count >= 20, u[10] == UInt8(ascii: "T") || u[10] == UInt8(ascii: "t") || u[10] == UInt8(ascii: " ")
        else { return nil }
        guard let base = dateTime(u, 0) else { return nil }
        var i = 19
        var millis: Int64 = 0
        if i < u.count, u[i] == UInt8(ascii: ".") {
            i += 1
            var digits = 0
            while i < u.count, let d = digit(u[i]) {
                if digits < 3 { millis = millis * 10 + Int64(d) }
                digits += 1
                i += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { millis *= 10 } }
        }
        guard i < u.count else { return nil }
        var offset: Int64 = 0
        if u[i] == UInt8(ascii: "Z") || u[i] == UInt8(ascii: "z") {
            i += 1
        } else if u[i] == UInt8(ascii: "+") || u[i] == UInt8(ascii: "-") {
            guard i + 6 == u.count, u[i + 3] == UInt8(ascii: ":"),
                let h = two(u, i + 1), let m = two(u, i + 4), h < 24, m < 60
            else { return nil }
            offset = Int64(h * 60 + m) * 60_000 * (u[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == u.count else { return nil }
        return base + millis - offset
    }

    /// `2026-11-23 08:37:15` in Asia/Shanghai (UTC+8, no daylight saving) → epoch ms.
    public static func beijing(_ s: String) -> Int64? {
        let u = Array(s.utf8)
        guard u.count == 19, u[10] == UInt8(ascii: " "), let t = dateTime(u, 0) else { return nil }
        return t - 8 * 3_600_000
    }

    /// `yyyy-MM-ddXHH:mm:ss` at `i`, as if UTC.
    private static func dateTime(_ u: [UInt8], _ i: Int) -> Int64? {
        guard u.count >= i + 19, u[i + 4] == UInt8(ascii: "-"), u[i + 7] == UInt8(ascii: "-"),
            u[i + 13] == UInt8(ascii: ":"), u[i + 16] == UInt8(ascii: ":"),
            let y1 = two(u, i), let y2 = two(u, i + 2), let mo = two(u, i + 5), let d = two(u, i + 8),
            let h = two(u, i + 11), let mi = two(u, i + 14), let se = two(u, i + 17),
            h < 24, mi < 60, se < 60,
            let date = LocalDate(year: y1 * 100 + y2, month: mo, day: d)
        else { return nil }
        return date.day * 86_400_000 + Int64(h * 3600 + mi * 60 + se) * 1000
    }

    private static func digit(_ b: UInt8) -> Int? {
        b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") ? Int(b - UInt8(ascii: "0")) : nil
    }

    private static func two(_ u: [UInt8], _ i: Int) -> Int? {
        guard let a = digit(u[i]), let b = digit(u[i + 1]) else { return nil }
        return a * 10 + b
    }
}
