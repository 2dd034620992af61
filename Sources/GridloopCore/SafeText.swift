/// Text from outside (message bytes, ids, keys) made safe for a PostgreSQL `text` column and
/// for one log line: valid UTF-8 (invalid bytes become U+FFFD), no control characters
/// (C0, DEL and C1 are written as `\u0000`-style escapes) and a bounded length.
///
/// ```swift
/// SafeText.text([0x41, 0x00, 0xFF])   // "A\u0000\u{FFFD}" (the escape as six visible characters)
/// ```
///
/// A backslash is kept as it is, so `\u0000` in the result may also have been those six
/// characters in the input: the result is for reading, not for decoding back.
public enum SafeText {
    /// The default bound: longer than any id or reason, short enough for a log line.
    public static let defaultMaxLength = 512

    /// `bytes` as safe text: at most `maxLength` characters (Unicode scalars, an escape counting
    /// as its six) and, when cut, a suffix `…(N more bytes)` counting the input bytes left out.
    public static func text(_ bytes: some Collection<UInt8>, maxLength: Int = defaultMaxLength) -> String {
        let input = Array(bytes)
        return input.withUnsafeBufferPointer { buf in
            var out = Writer(maxLength: maxLength)
            var k = 0
            while k < buf.count {
                let (scalar, length) = decodeScalar(buf, at: k) ?? (0xFFFD, 1)
                guard out.append(Unicode.Scalar(scalar)!) else { return out.finish(moreBytes: buf.count - k) }
                k += length
            }
            return out.finish(moreBytes: 0)
        }
    }

    /// `s` as safe text (a `String` is valid UTF-8 already; its control characters are escaped).
    public static func text(_ s: String, maxLength: Int = defaultMaxLength) -> String {
        if s.utf8.count <= maxLength, !s.utf8.contains(where: isControl) { return s }  // the common case
        var out = Writer(maxLength: maxLength)
        var consumed = 0
        for scalar in s.unicodeScalars {
            guard out.append(scalar) else { return out.finish(moreBytes: s.utf8.count - consumed) }
            consumed += UTF8.width(scalar)
        }
        return out.finish(moreBytes: 0)
    }

    /// Whether `scalar` is a control character (Unicode general category Cc: C0, DEL, C1).
    public static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value < 0xA0)
    }

    /// A UTF-8 byte that is a C0 control or DEL, or the second byte of a C1 control's
    /// encoding (`C2 80`...`C2 9F`); used only as a quick first look.
    private static func isControl(_ byte: UInt8) -> Bool { byte < 0x20 || byte == 0x7F || byte == 0xC2 }

    /// The scalar encoded at `k` and its length in bytes, or nil where the bytes are not valid
    /// UTF-8 (overlong forms, surrogates, values above U+10FFFF, truncated sequences).
    @inline(__always)
    static func decodeScalar(_ s: UnsafeBufferPointer<UInt8>, at k: Int) -> (UInt32, Int)? {
        let b = s[k]
        if b < 0x80 { return (UInt32(b), 1) }
        var need = 0
        var minScalar: UInt32 = 0
        var scalar: UInt32 = 0
        if b & 0xE0 == 0xC0 {
            need = 1
            minScalar = 0x80
            scalar = UInt32(b & 0x1F)
        } else if b & 0xF0 == 0xE0 {
            need = 2
            minScalar = 0x800
            scalar = UInt32(b & 0x0F)
        } else if b & 0xF8 == 0xF0 {
            need = 3
            minScalar = 0x10000
            scalar = UInt32(b & 0x07)
        } else {
            return nil
        }
        guard k + need < s.count else { return nil }
        for m in 1...need {
            let c = s[k + m]
            guard c & 0xC0 == 0x80 else { return nil }
            scalar = scalar << 6 | UInt32(c & 0x3F)
        }
        if scalar < minScalar || scalar > 0x10FFFF || (scalar >= 0xD800 && scalar < 0xE000) { return nil }
        return (scalar, need + 1)
    }

    /// Collects the output and stops at the bound.
    private struct Writer {
        let maxLength: Int
        var scalars = String.UnicodeScalarView()
        var length = 0

        init(maxLength: Int) { self.maxLength = max(0, maxLength) }

        /// Appends `scalar` (escaped if it is a control character); false if it does not fit.
        mutating func append(_ scalar: Unicode.Scalar) -> Bool {
            if SafeText.isControl(scalar) {
                guard length + 6 <= maxLength else { return false }
                let hex = String(scalar.value, radix: 16)
                scalars.append(contentsOf: "\\u\(String(repeating: "0", count: 4 - hex.count))\(hex)".unicodeScalars)
                length += 6
            } else {
                guard length + 1 <= maxLength else { return false }
                scalars.append(scalar)
                length += 1
            }
            return true
        }

        func finish(moreBytes: Int) -> String {
            moreBytes > 0 ? String(scalars) + "…(\(moreBytes) more bytes)" : String(scalars)
        }
    }
}
