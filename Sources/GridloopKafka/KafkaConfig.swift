import CRdKafka

// Threading: nothing here owns a librdkafka handle. `KafkaConfig.make` returns a
// `rd_kafka_conf_t` that belongs to its caller, who hands it to `rd_kafka_new` (which takes
// ownership on success, through `makeClient`) or destroys it.

/// Applies string properties to a new `rd_kafka_conf_t`, turning each `rd_kafka_conf_set`
/// failure into a `KafkaError` that names the property. Any librdkafka property passes through
/// (TLS `ssl.*`, SASL `sasl.*`, tuning, ...).
enum KafkaConfig {
    /// A new configuration with `properties` applied, in key order (deterministic errors), and
    /// its log lines routed to `KafkaLog`'s sink (every handle is made from one of these).
    /// The caller owns the result: `rd_kafka_new` takes it on success, else `rd_kafka_conf_destroy`.
    static func make(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, context: "rd_kafka_conf_new")
        }
        KafkaLog.install(on: conf)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            do {
                try set(conf, key, value)
            } catch {
                rd_kafka_conf_destroy(conf)
                throw error
            }
        }
        return conf
    }

    /// Sets one property; the error names it and carries librdkafka's errstr.
    static func set(_ conf: OpaquePointer, _ key: String, _ value: String) throws(KafkaError) {
        var errstr = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
        guard result != RD_KAFKA_CONF_OK else { return }
        let detail = cString(errstr)
        let kind = result == RD_KAFKA_CONF_UNKNOWN ? "unknown librdkafka property" : "invalid librdkafka property"
        throw KafkaError(
            RD_KAFKA_RESP_ERR__INVALID_ARG,
            message: "\(kind) \"\(key)\": \(detail.isEmpty ? "rejected" : detail)")
    }
}

/// Creates a librdkafka client from `conf`, which it consumes on success and destroys on failure;
/// the error carries `rd_kafka_new`'s errstr.
func makeClient(_ type: rd_kafka_type_t, _ conf: OpaquePointer, what: String) throws(KafkaError) -> OpaquePointer {
    var errstr = [CChar](repeating: 0, count: 512)
    guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {
        rd_kafka_conf_destroy(conf)
        var code = rd_kafka_last_error()
        if code == RD_KAFKA_RESP_ERR_NO_ERROR { code = RD_KAFKA_RESP_ERR__INVALID_ARG }
        throw KafkaError(code, message: "cannot create \(what): \(cString(errstr))")
    }
    return rk
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
    buffer.withUnsafeBufferPointer { p in
        String(decoding: UnsafeRawBufferPointer(p).prefix { $0 != 0 }, as: UTF8.self)
    }
}
