import CRdKafka
import GridloopCore

// Threading: see KafkaConsumer.swift; this box is used only on the consumer's owning thread.

/// What the C callbacks reach through the client's opaque pointer (`rd_kafka_opaque`). Used only
/// on the consumer's owning thread (callbacks run inside `poll`/`close`), so it needs no lock.
final class ConsumerContext {
    let handler: KafkaRebalanceHandler
    let errorHandler: (KafkaError) -> Void
    private var failure: (any Error)?
    /// Partitions revoked since `poll` last dropped their gathered messages.
    private var revoked: Set<TopicPartition> = []
    /// Whether the handler accepted the current assignment (so a revoke must be reported to it);
    /// false after a refused assignment, whose partitions the handler never took on.
    private var handlerOwns = false
    /// Partitions paused by the owner: librdkafka keeps a partition's pause across assignments,
    /// so a revocation resumes them.
    private var paused: Set<TopicPartition> = []

    init(handler: KafkaRebalanceHandler, errorHandler: @escaping (KafkaError) -> Void) {
        self.handler = handler
        self.errorHandler = errorHandler
    }

    var failed: Bool { failure != nil }
    var revokedDuringPoll: Bool { !revoked.isEmpty }

    /// Throws (once) the failure recorded by a callback.
    func throwFailure() throws {
        if let f = failure {
            failure = nil
            throw f
        }
    }

    func dropRevoked(from messages: inout [KafkaMessage]) {
        let gone = revoked
        revoked = []
        messages.removeAll { gone.contains($0.topicPartition) }
    }

    /// Records a failure for `poll` to throw and wakes the poll up.
    private func fail(_ rk: OpaquePointer, _ error: any Error) {
        if failure == nil { failure = error }
        rd_kafka_yield(rk)
    }

    func clientError(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, _ reason: String) {
        if err == RD_KAFKA_RESP_ERR__FATAL {
            var errstr = [CChar](repeating: 0, count: 512)
            let code = rd_kafka_fatal_error(rk, &errstr, errstr.count)
            fail(
                rk,
                KafkaError(
                    code == RD_KAFKA_RESP_ERR_NO_ERROR ? err : code,
                    message: "fatal consumer error: \(cString(errstr).isEmpty ? reason : cString(errstr))"))
            return
        }
        errorHandler(KafkaError(err, message: reason))
    }

    func pause(_ rk: OpaquePointer, _ tps: [TopicPartition]) throws {
        guard !tps.isEmpty else { return }
        try pauseResume(rk, tps, pause: true)
        paused.formUnion(tps)
    }

    func resume(_ rk: OpaquePointer, _ tps: [TopicPartition]) throws {
        guard !tps.isEmpty else { return }
        paused.subtract(tps)
        try pauseResume(rk, tps, pause: false)
    }

    private func pauseResume(_ rk: OpaquePointer, _ tps: [TopicPartition], pause: Bool) throws {
        let list = rd_kafka_topic_partition_list_new(Int32(tps.count))!
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for tp in tps { rd_kafka_topic_partition_list_add(list, tp.topic, tp.partition) }
        let err = pause ? rd_kafka_pause_partitions(rk, list) : rd_kafka_resume_partitions(rk, list)
        let what = "\(pause ? "pause" : "resume") \(tps.map(\.description).sorted().joined(separator: ", "))"
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(err, context: what) }
        for i in 0..<Int(list.pointee.cnt) where list.pointee.elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(list.pointee.elems[i].err, context: what)
        }
    }

    /// Resumes what the owner paused among `tps`, which are being given up.
    private func resumeRevoked(_ rk: OpaquePointer, _ tps: [TopicPartition]) {
        let gone = tps.filter { paused.contains($0) }
        do { try resume(rk, gone) } catch {
            errorHandler(error as? KafkaError ?? KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "\(error)"))
        }
    }

    func rebalance(
        _ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) {
        let tps = list.map { partitions(of: $0) } ?? []
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            guard let list else { return }
            let start: [TopicPartition: Int64]
            do {
                start = try handler.assigned(tps)
                handlerOwns = true
            } catch {
                // Not assigned: the group believes we own these partitions, so the owner must
                // restart the consumer (poll throws this error).
                errorHandler(
                    KafkaError(
                        RD_KAFKA_RESP_ERR__FAIL,
                        message:
                            "rebalance handler refused the assignment of \(tps.map(\.description).joined(separator: ", ")): \(error)"
                    ))
                fail(rk, error)
                return
            }
            for i in 0..<Int(list.pointee.cnt) {
                list.pointee.elems[i].offset = start[tps[i]] ?? KafkaOffset.beginning
            }
            let e = rd_kafka_assign(rk, list)
            if e != RD_KAFKA_RESP_ERR_NO_ERROR {
                let error = KafkaError(e, context: "assign")
                errorHandler(error)
                fail(rk, error)
                return
            }
            do {
                try pause(rk, handler.pausedOnAssignment(tps))
            } catch {
                errorHandler(error as? KafkaError ?? KafkaError(RD_KAFKA_RESP_ERR__FAIL, message: "\(error)"))
                fail(rk, error)
            }
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            if handlerOwns { handler.revoked(tps) }
            resumeRevoked(rk, tps)
            handlerOwns = false
            revoked.formUnion(tps)
            let e = rd_kafka_assign(rk, nil)
            if e != RD_KAFKA_RESP_ERR_NO_ERROR, e != RD_KAFKA_RESP_ERR__DESTROY {
                errorHandler(KafkaError(e, context: "unassign"))
            }
        default:
            // A rebalance error: librdkafka asks for an unassign to resynchronise. Whatever we
            // had is given up, so the handler hears about it first.
            var current: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
            if rd_kafka_assignment(rk, &current) == RD_KAFKA_RESP_ERR_NO_ERROR, let current {
                let owned = partitions(of: current)
                rd_kafka_topic_partition_list_destroy(current)
                if handlerOwns, !owned.isEmpty { handler.revoked(owned) }
                resumeRevoked(rk, owned)
                revoked.formUnion(owned)
            }
            handlerOwns = false
            _ = rd_kafka_assign(rk, nil)
            let error = KafkaError(err, context: "rebalance")
            errorHandler(error)
            fail(rk, error)
        }
    }
}
