import Foundation

/// Counts computed from a feed independently of Gridloop's decoders (Foundation's JSON
/// parser and the damage kinds of `gen_feed.py`), to check the daemon against.
struct FixtureOracle {
    var appliedEvents = 0
    var damaged = 0
    var orphans = 0
    var cases = 0
    var personalData: Set<String> = []

    init(feed12345: [(key: [UInt8]?, value: [UInt8])], feed12319: [(key: [UInt8]?, value: [UInt8])]) {
        // 12345: valid = an object with msgId, msgType, sendTime (undamaged) and order.orderNo.
        var dispatched: Set<String> = []
        var events: [String: String] = [:]  // msgId -> orderNo
        for line in feed12345 {
            guard let o = Self.object(line.value), let msgId = o["msgId"] as? String, o["msgType"] is String,
                let send = o["sendTime"] as? String, !send.contains("O"),
                let order = o["order"] as? [String: Any], let no = order["orderNo"] as? String
            else {
                damaged += 1
                continue
            }
            if o["msgType"] as? String == "DISPATCH" {
                dispatched.insert(no)
                if let c = order["citizen"] as? [String: Any] {
                    if let n = c["name"] as? String { personalData.insert(n) }
                    if let p = c["phone"] as? String { personalData.insert(p) }
                }
                if let content = order["content"] as? String { personalData.insert(content) }
                if let location = order["location"] as? [String: Any], let address = location["address"] as? String {
                    personalData.insert(address)
                }
            }
            events[msgId] = no
        }
        for (_, no) in events {
            if dispatched.contains(no) { appliedEvents += 1 } else { orphans += 1 }
        }
        cases += dispatched.count

        // 12319: valid = an object with case_id, event, event_seq, event_time (undamaged).
        var opened: Set<String> = []
        var seqs: Set<String> = []
        var seqCase: [String: String] = [:]
        for line in feed12319 {
            guard let o = Self.object(line.value), let id = o["case_id"] as? String, let ev = o["event"] as? String,
                let seq = o["event_seq"] as? Int, let t = o["event_time"] as? String, !t.contains("O")
            else {
                damaged += 1
                continue
            }
            if ev == "new" {
                opened.insert(id)
                for k in ["caller_name", "caller_tel", "content", "addr"] {
                    if let v = o[k] as? String { personalData.insert(v) }
                }
            }
            let k = "\(id)#\(seq)"
            seqs.insert(k)
            seqCase[k] = id
        }
        for k in seqs {
            if opened.contains(seqCase[k]!) { appliedEvents += 1 } else { orphans += 1 }
        }
        cases += opened.count
    }

    static func object(_ bytes: [UInt8]) -> [String: Any]? {
        guard let v = try? JSONSerialization.jsonObject(with: Data(bytes)) else { return nil }
        return v as? [String: Any]
    }
}
