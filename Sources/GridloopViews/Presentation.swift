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
    package var displayWidth: Int {
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
    package func leftPad(_ n: Int) -> String { displayWidth >= n ? self : String(repeating: " ", count: n - displayWidth) + self }
    package func rightPad(_ n: Int) -> String {
        displayWidth >= n ? self : self + String(repeating: " ", count: n - displayWidth)
    }
}

/// What the reports and views share when they render: the names of the loop levels and the
/// escaping of text put into an HTML page.
package enum Presentation {
    /// The loop levels (and the 721 report's estate-and-community tier) as the reports name them.
    package static let levelNames = [
        "ESTATE": "小区 estate", "COMMUNITY": "社区 community", "STREET": "街道 street", "DISTRICT": "区级 district",
        "ESTATE+COMMUNITY": "小区+社区 estate+community",
    ]

    package static func levelName(_ level: String) -> String { levelNames[level] ?? level }

    /// `s` as HTML text or an attribute's value.
    package static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }
}
