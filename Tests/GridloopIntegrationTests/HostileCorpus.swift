import Foundation

/// The hostile messages of `Tests/GridloopCoreTests/Fixtures/hostile-<platform>.jsonl` (format:
/// `Fixtures/HOSTILE.md`): the message's key and value, what it tries (`why`) and a part of the
/// reason its dead letter must give (`reason`).
struct HostileCorpus {
    var why: String
    var key: [UInt8]?
    /// nil: a null value (a tombstone).
    var value: [UInt8]?
    var reason: String

    static func load(_ platform: String) throws -> [HostileCorpus] {
        let url = TestEnvironment.fixture("hostile-\(platform).jsonl")
        let text = try String(contentsOf: url, encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.isEmpty }.map { line in
            guard let o = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw CocoaError(.fileReadCorruptFile)
            }
            var value = (o["value_hex"] as? String).map(hex)
            if let pad = o["pad"] as? [String: Any], let at = pad["offset"] as? Int, let h = pad["hex"] as? String,
                let count = pad["count"] as? Int
            {
                value = value ?? []
                value!.insert(contentsOf: Array(repeating: hex(h), count: count).joined(), at: at)
            }
            return HostileCorpus(
                why: o["why"] as? String ?? "?", key: (o["key_hex"] as? String).map(hex),
                value: value, reason: o["expect"] as? String ?? "")
        }
    }

    private static func hex(_ s: String) -> [UInt8] {
        var out: [UInt8] = []
        var i = s.startIndex
        while i < s.endIndex, let j = s.index(i, offsetBy: 2, limitedBy: s.endIndex) {
            out.append(UInt8(s[i..<j], radix: 16) ?? 0)
            i = j
        }
        return out
    }

    /// `valid` with the `hostile` messages spread evenly between its messages.
    static func interleave(_ valid: [(key: [UInt8]?, value: [UInt8])], _ hostile: [([UInt8]?, [UInt8]?)])
        -> [(key: [UInt8]?, value: [UInt8])]
    {
        var out: [(key: [UInt8]?, value: [UInt8])] = []
        let every = max(1, valid.count / max(1, hostile.count + 1))
        var h = hostile[...]
        for (i, line) in valid.enumerated() {
            out.append(line)
            if (i + 1) % every == 0, let next = h.popFirst() { out.append((next.0, next.1 ?? [])) }
        }
        for rest in h { out.append((rest.0, rest.1 ?? [])) }
        return out
    }
}
