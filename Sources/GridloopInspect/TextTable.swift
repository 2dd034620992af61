import Foundation

/// The JSON that commands print: indented, keys sorted (stable for scripts and diffs).
public func prettyJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

extension String {
    /// Columns the text takes in a terminal: Chinese characters (and other East Asian wide
    /// forms) take two, so that tables of category and unit names stay aligned.
    var displayWidth: Int {
        unicodeScalars.reduce(0) { width, u in
            switch u.value {
            case 0x1100...0x115F, 0x2E80...0x303E, 0x3041...0x33FF, 0x3400...0x4DBF, 0x4E00...0x9FFF, 0xA000...0xA4CF,
                0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0xFFE0...0xFFE6, 0x20000...0x3FFFD:
                width + 2
            default:
                width + 1
            }
        }
    }
    func leftPad(_ n: Int) -> String { displayWidth >= n ? self : String(repeating: " ", count: n - displayWidth) + self }
    func rightPad(_ n: Int) -> String { displayWidth >= n ? self : self + String(repeating: " ", count: n - displayWidth) }
}
