// TEMPORARY until the core's SafeText lands.
enum SafeText {
    static func bounded(_ s: String, limit: Int) -> String {
        var out = ""
        for u in s.unicodeScalars {
            if u.value < 0x20 || u.value == 0x7F {
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            } else { out.unicodeScalars.append(u) }
        }
        return out.count > limit ? String(out.prefix(limit)) + "…" : out
    }
}
