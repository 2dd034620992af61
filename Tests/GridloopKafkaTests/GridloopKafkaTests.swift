import Dispatch
import GridloopCore
import GridloopKafka
import Synchronization
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

// Threading: each test runs on XCTest's thread, which owns every KafkaConsumer it creates (poll,
// and therefore the rebalance handler and error sink, run there). Only the concurrent-send test
// shares a KafkaProducer between threads, as the producer allows.

/// Records the rebalance calls of one consumer, and answers assignments from `startOffsets`.
final class RecordingHandler: KafkaRebalanceHandler {
    enum Call: Equatable {
        case assigned([TopicPartition])
        case revoked([TopicPartition])

        var partitions: [TopicPartition] {
            switch self {
            case .assigned(let tps), .revoked(let tps): tps
            }
        }
    }

    var calls: [Call] = []
    var startOffsets: [TopicPartition: Int64] = [:]
    var failure: (any Error)?

    func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] {
        calls.append(.assigned(partitions.sorted(by: order)))
        if let failure { throw failure }
        return startOffsets
    }

    func revoked(_ partitions: [TopicPartition]) {
        calls.append(.revoked(partitions.sorted(by: order)))
    }

    /// Partitions held after the calls so far.
    var owned: [TopicPartition] {
        guard case .assigned(let tps) = calls.last else { return [] }
        return tps
    }
}

func order(_ a: TopicPartition, _ b: TopicPartition) -> Bool { (a.topic, a.partition) < (b.topic, b.partition) }

struct Failure: Error, Equatable { let text: String }

/// Repeats `step` until it returns true; fails (without asserting any time limit) after `seconds`
/// so that a broken test cannot hang forever.
func waitUntil(_ what: @autoclosure () -> String, seconds: Double = 60, _ step: () throws -> Bool) throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try step() { return }
    }
    let text = what()
    XCTFail("gave up waiting: \(text)")
    throw Failure(text: "gave up waiting: \(text)")
}

final class GridloopKafkaTests: XCTestCase {
    /// Mock-friendly group settings: a killed or departed member is noticed quickly.
    func consumerConfig(_ cluster: MockCluster, group: String) -> [String: String] {
        [
            "bootstrap.servers": cluster.bootstraps, "group.id": group,
            "session.timeout.ms": "6000", "heartbeat.interval.ms": "500", "fetch.wait.max.ms": "100",
        ]
    }

    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    // MARK: - Round trip

    func testProduceTenThousandAndConsumeFromAStoredOffset() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = "roundtrip"
        let partitionCount: Int32 = 4
        try cluster.createTopic(topic, partitions: Int(partitionCount))
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": cluster.bootstraps, "linger.ms": "5"])

        var records: [ProducerRecord] = []
        for i in 0..<10_000 {
            let key: [UInt8]? = i % 10 == 0 ? nil : bytes("key-\(i)")
            let value: [UInt8] = i % 100 == 0 ? [] : bytes("value-\(i)")
            let headers = [
                KafkaHeader(name: "id", value: bytes("\(i)")), KafkaHeader(name: "flag", value: nil),
                KafkaHeader(name: "bin", value: [0, 255, UInt8(i % 256)]),
            ]
            records.append(
                ProducerRecord(
                    topic: topic, partition: Int32(i) % partitionCount, key: key, value: value,
                    headers: headers))
        }
        let results = try producer.send(records, timeout: .seconds(60))
        XCTAssertEqual(results.count, records.count)
        var produced: [TopicPartition: [Int64: Int]] = [:]  // where each record landed -> its index
        for (i, r) in results.enumerated() {
            switch r {
            case .success(let d):
                XCTAssertEqual(d.partition, records[i].partition)
                produced[TopicPartition(topic: topic, partition: d.partition), default: [:]][d.offset] = i
            case .failure(let e):
                XCTFail("record \(i) failed: \(e)")
            }
        }
        XCTAssertEqual(produced.values.map(\.count).reduce(0, +), 10_000)

        let stored = TopicPartition(topic: topic, partition: 1)
        let storedOffset: Int64 = 1000
        let handler = RecordingHandler()
        handler.startOffsets = [stored: storedOffset]
        var sinkErrors: [KafkaError] = []
        let consumer = try KafkaConsumer(
            configuration: consumerConfig(cluster, group: "roundtrip-group"),
            topics: [topic], rebalanceHandler: handler,
            errorHandler: { sinkErrors.append($0) })
        let expected = 10_000 - Int(storedOffset)
        var seen: [TopicPartition: Set<Int64>] = [:]
        var firstOffset: [TopicPartition: Int64] = [:]
        var total = 0
        try waitUntil("\(expected) messages (have \(total))") {
            for m in try consumer.poll(maxMessages: 5000, timeout: .milliseconds(200)) {
                let tp = m.topicPartition
                if firstOffset[tp] == nil { firstOffset[tp] = m.offset }
                XCTAssertTrue(seen[tp, default: []].insert(m.offset).inserted, "\(tp)@\(m.offset) seen twice")
                total += 1
                guard let i = produced[tp]?[m.offset] else {
                    XCTFail("\(tp)@\(m.offset) was not produced")
                    continue
                }
                let r = records[i]
                XCTAssertEqual(m.topic, topic)
                XCTAssertEqual(m.key, r.key, "key of record \(i)")
                XCTAssertEqual(m.value, r.value, "value of record \(i)")
                XCTAssertEqual(m.headers, r.headers, "headers of record \(i)")
                XCTAssertNotNil(m.timestamp)
            }
            return total >= expected
        }
        XCTAssertEqual(total, expected)
        XCTAssertEqual(firstOffset[stored], storedOffset, "the stored partition starts exactly at the stored offset")
        for p in 0..<partitionCount {
            let tp = TopicPartition(topic: topic, partition: p)
            let from = tp == stored ? storedOffset : 0
            XCTAssertEqual(seen[tp], Set(from..<2500), "every offset of \(tp) seen once")
            let marks = try consumer.watermarks(topic: topic, partition: p)
            XCTAssertEqual(marks.low, 0)
            XCTAssertEqual(marks.high, 2500)
            XCTAssertEqual(consumer.cachedWatermarks(tp).high, 2500)
        }
        let all = (0..<partitionCount).map { TopicPartition(topic: topic, partition: $0) }
        XCTAssertEqual(handler.calls, [.assigned(all)])
        XCTAssertEqual(try consumer.assignment().sorted(by: order), all)
        XCTAssertTrue(sinkErrors.isEmpty, "\(sinkErrors)")

        consumer.commitAsync([stored: 2500])
        _ = try consumer.poll(maxMessages: 10, timeout: .milliseconds(500))  // serves the commit result
        XCTAssertTrue(sinkErrors.isEmpty, "\(sinkErrors)")
        consumer.close()
        consumer.close()  // idempotent
        XCTAssertEqual(handler.calls, [.assigned(all), .revoked(all)], "close revokes first")
        XCTAssertThrowsError(try consumer.poll(maxMessages: 1, timeout: .zero))
    }

    // MARK: - Rebalance

    func testSecondMemberTriggersRevokeThenAssignOnTheFirst() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = "rebalance"
        try cluster.createTopic(topic, partitions: 4)
        let all = (0..<4).map { TopicPartition(topic: topic, partition: Int32($0)) }
        // Messages keep flowing during the rebalances, to check that a poll never returns
        // messages of partitions taken away during that poll.
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": cluster.bootstraps])
        let records = (0..<20_000).map { ProducerRecord(topic: topic, partition: Int32($0 % 4), key: nil, value: [1]) }
        for r in try producer.send(records, timeout: .seconds(60)) { _ = try r.get() }
        var errors: [KafkaError] = []
        var outsiders = 0
        func pollSlowly(_ consumer: KafkaConsumer, _ handler: RecordingHandler) throws {
            for m in try consumer.poll(maxMessages: 50, timeout: .milliseconds(50))
            where !handler.owned.contains(m.topicPartition) {
                outsiders += 1
            }
            usleep(5000)
        }

        let firstHandler = RecordingHandler()
        let first = try KafkaConsumer(
            configuration: consumerConfig(cluster, group: "rebalance-group"), topics: [topic],
            rebalanceHandler: firstHandler, errorHandler: { errors.append($0) })
        try waitUntil("the first member gets all partitions") {
            try pollSlowly(first, firstHandler)
            return firstHandler.owned == all
        }
        XCTAssertEqual(firstHandler.calls, [.assigned(all)])

        let secondHandler = RecordingHandler()
        let second = try KafkaConsumer(
            configuration: consumerConfig(cluster, group: "rebalance-group"), topics: [topic],
            rebalanceHandler: secondHandler, errorHandler: { errors.append($0) })
        try waitUntil("both members hold partitions (first: \(firstHandler.calls), second: \(secondHandler.calls))") {
            try pollSlowly(first, firstHandler)
            try pollSlowly(second, secondHandler)
            return !firstHandler.owned.isEmpty && !secondHandler.owned.isEmpty
        }
        // The group may take more than one round to settle: what matters is that every
        // assignment follows a revoke of what was held before.
        assertAlternates(firstHandler.calls)
        XCTAssertEqual(firstHandler.calls.first, .assigned(all))
        XCTAssertEqual(firstHandler.calls.dropFirst().first, .revoked(all), "revoke comes before the new assignment")
        XCTAssertEqual((firstHandler.owned + secondHandler.owned).sorted(by: order), all, "the partitions are shared")
        XCTAssertEqual(Set(try first.assignment()), Set(firstHandler.owned))
        assertAlternates(secondHandler.calls)
        XCTAssertEqual(secondHandler.calls.last, .assigned(secondHandler.owned))

        // The second member leaves: the first gets everything back, after a revoke.
        let secondOwned = secondHandler.owned
        second.close()
        XCTAssertEqual(secondHandler.calls.last, .revoked(secondOwned), "close revokes")
        try waitUntil("the first member gets all partitions back (\(firstHandler.calls))") {
            try pollSlowly(first, firstHandler)
            return firstHandler.owned == all
        }
        assertAlternates(firstHandler.calls)
        XCTAssertEqual(firstHandler.calls.last, .assigned(all))
        XCTAssertEqual(outsiders, 0, "poll returned messages of partitions the consumer did not own")
        XCTAssertTrue(errors.isEmpty, "\(errors)")
    }

    /// Assigned, revoked (the same partitions), assigned, ...: never two assignments in a row,
    /// and a revoke gives up exactly what the assignment before it gave.
    private func assertAlternates(_ calls: [RecordingHandler.Call], file: StaticString = #filePath, line: UInt = #line) {
        for (i, call) in calls.enumerated() {
            switch call {
            case .assigned:
                XCTAssertEqual(i % 2, 0, "\(calls)", file: file, line: line)
            case .revoked(let p):
                XCTAssertEqual(i % 2, 1, "\(calls)", file: file, line: line)
                XCTAssertEqual(calls[i - 1], .assigned(p), "\(calls)", file: file, line: line)
            }
        }
    }

    func testPollServingARevokeReturnsNoMessageOfTheRevokedPartitions() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = "revoked-mid-poll"
        try cluster.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": cluster.bootstraps])
        let records = (0..<20_000).map { ProducerRecord(topic: topic, partition: Int32($0 % 2), key: nil, value: [1]) }
        for r in try producer.send(records, timeout: .seconds(60)) { _ = try r.get() }

        let firstHandler = RecordingHandler()
        let first = try KafkaConsumer(
            configuration: consumerConfig(cluster, group: "mid-poll-group"), topics: [topic],
            rebalanceHandler: firstHandler, errorHandler: { XCTFail("\($0)") })
        var seenBefore = 0
        try waitUntil("the first member consumes") {
            seenBefore += try first.poll(maxMessages: 1, timeout: .milliseconds(100)).count
            return seenBefore > 0
        }
        usleep(1_000_000)  // librdkafka prefetches the rest into the consumer queue

        // A second member joins while the first is not polling: the revoke lands in the first
        // one's queue with prefetched messages, and its next poll serves both. (librdkafka
        // serves the revoke first and discards the outdated messages; KafkaConsumer also drops
        // messages it had gathered in the same poll before a revoke, a race this cannot force.)
        let secondHandler = RecordingHandler()
        let second = try KafkaConsumer(
            configuration: consumerConfig(cluster, group: "mid-poll-group"), topics: [topic],
            rebalanceHandler: secondHandler, errorHandler: { XCTFail("\($0)") })
        let until = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < until { _ = try second.poll(maxMessages: 100, timeout: .milliseconds(100)) }
        let batch = try first.poll(maxMessages: 100_000, timeout: .seconds(1))
        XCTAssertTrue(firstHandler.calls.contains(.revoked(firstHandler.calls[0].partitions)), "\(firstHandler.calls)")
        let owned = Set(firstHandler.owned)
        let outsiders = batch.filter { !owned.contains($0.topicPartition) }
        XCTAssertEqual(outsiders.count, 0, "poll returned \(outsiders.count) messages of revoked partitions")
    }

    func testRefusedAssignmentIsNotAssignedAndMakesPollThrow() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("refused", partitions: 2)
        let handler = RecordingHandler()
        handler.failure = Failure(text: "database down")
        var errors: [KafkaError] = []
        let consumer = try KafkaConsumer(
            configuration: consumerConfig(cluster, group: "refused-group"),
            topics: ["refused"], rebalanceHandler: handler,
            errorHandler: { errors.append($0) })
        var thrown: (any Error)?
        try waitUntil("poll throws the handler's error") {
            do {
                _ = try consumer.poll(maxMessages: 10, timeout: .milliseconds(100))
                return false
            } catch {
                thrown = error
                return true
            }
        }
        XCTAssertEqual(thrown as? Failure, Failure(text: "database down"))
        XCTAssertEqual(try consumer.assignment(), [], "nothing was assigned")
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.message.contains("database down") ?? false, "\(errors)")
        let refused = [TopicPartition(topic: "refused", partition: 0), TopicPartition(topic: "refused", partition: 1)]
        consumer.close()
        XCTAssertEqual(handler.calls, [.assigned(refused)], "refused partitions are not reported revoked")
    }

    // MARK: - Configuration errors

    func testBadPropertiesYieldErrorsNamingTheProperty() throws {
        XCTAssertThrowsError(
            try KafkaProducer(configuration: [
                "bootstrap.servers": "localhost:1",
                "no.such.property": "1",
            ])
        ) { error in
            let e = error as? KafkaError
            XCTAssertEqual(e?.name, "_INVALID_ARG")
            XCTAssertTrue(e?.message.contains("no.such.property") ?? false, "\(error)")
        }
        final class Nothing: KafkaRebalanceHandler {
            func assigned(_ partitions: [TopicPartition]) throws -> [TopicPartition: Int64] { [:] }
            func revoked(_ partitions: [TopicPartition]) {}
        }
        XCTAssertThrowsError(
            try KafkaConsumer(
                configuration: ["group.id": "g", "session.timeout.ms": "soon"],
                topics: ["t"], rebalanceHandler: Nothing(), errorHandler: { _ in })
        ) {
            XCTAssertTrue("\($0)".contains("session.timeout.ms"), "\($0)")
        }
        XCTAssertThrowsError(
            try KafkaConsumer(
                configuration: [
                    "group.id": "g",
                    "partition.assignment.strategy": "cooperative-sticky",
                ],
                topics: ["t"], rebalanceHandler: Nothing(), errorHandler: { _ in })
        ) {
            XCTAssertTrue("\($0)".contains("partition.assignment.strategy"), "\($0)")
        }
    }

    // MARK: - Producer

    func testConcurrentSendsGetTheirOwnResults() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("concurrent", partitions: 3)
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": cluster.bootstraps])
        let outcomes = Mutex<[Int: [Result<DeliveredOffset, KafkaError>]]>([:])
        DispatchQueue.concurrentPerform(iterations: 4) { call in
            let records = (0..<2000).map {
                ProducerRecord(topic: "concurrent", key: Array("\(call)-\($0)".utf8), value: Array("v".utf8))
            }
            let r = try? producer.send(records, timeout: .seconds(60))
            outcomes.withLock { $0[call] = r ?? [] }
        }
        var positions = Set<DeliveredOffset>()
        try outcomes.withLock { all in
            XCTAssertEqual(all.count, 4)
            for (call, results) in all {
                XCTAssertEqual(results.count, 2000, "call \(call)")
                for r in results { positions.insert(try r.get()) }
            }
        }
        XCTAssertEqual(positions.count, 8000, "each record has its own offset")

        // One bad record fails alone, in its place.
        let mixed = [
            ProducerRecord(topic: "concurrent", partition: 0, key: nil, value: [1]),
            ProducerRecord(topic: "concurrent", partition: 42, key: nil, value: [2]),
            ProducerRecord(topic: "concurrent", partition: 2, key: nil, value: [3]),
        ]
        let results = try producer.send(mixed, timeout: .seconds(30))
        XCTAssertEqual(try results[0].get().partition, 0)
        XCTAssertThrowsError(try results[1].get()) { XCTAssertEqual(($0 as? KafkaError)?.name, "_UNKNOWN_PARTITION") }
        XCTAssertEqual(try results[2].get().partition, 2)
        XCTAssertTrue(producer.flush(timeout: .seconds(5)))
    }

    func testAFullLocalQueueIsWaitedOutNotFailed() throws {
        let cluster = try MockCluster(brokers: 1)
        try cluster.createTopic("small-queue", partitions: 2)
        let producer = try KafkaProducer(configuration: [
            "bootstrap.servers": cluster.bootstraps,
            "queue.buffering.max.messages": "500",
        ])
        let records = (0..<5000).map { ProducerRecord(topic: "small-queue", key: Array("\($0)".utf8), value: [7]) }
        let results = try producer.send(records, timeout: .seconds(60))
        XCTAssertEqual(results.filter { (try? $0.get()) != nil }.count, 5000, "every record delivered despite _QUEUE_FULL")
    }

    func testUndeliverableRecordsTimeOut() throws {
        // Nothing listens on this port: no report can arrive within the timeout.
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": "127.0.0.1:9", "log_level": "0"])
        let results = try producer.send([ProducerRecord(topic: "nowhere", key: nil, value: [1])], timeout: .milliseconds(300))
        XCTAssertThrowsError(try results[0].get()) { XCTAssertEqual(($0 as? KafkaError)?.name, "_TIMED_OUT") }
    }

    // MARK: - Throughput (printed, not asserted)

    func testMeasureProduceAndConsumeRates() throws {
        let cluster = try MockCluster(brokers: 1)
        let topic = "rate"
        let partitions = 8
        let count = 200_000
        try cluster.createTopic(topic, partitions: partitions)
        let producer = try KafkaProducer(configuration: ["bootstrap.servers": cluster.bootstraps, "linger.ms": "20"])
        let records = (0..<count).map { i in
            ProducerRecord(topic: topic, key: Array("k\(i % 5000)".utf8), value: Array("small-value-\(i)".utf8))
        }
        let produceStart = ContinuousClock.now
        var delivered = 0
        var i = 0
        while i < count {  // chunks, as the daemon's relay sends them
            let chunk = Array(records[i..<min(i + 20_000, count)])
            for r in try producer.send(chunk, timeout: .seconds(120)) {
                if case .success = r { delivered += 1 }
            }
            i += chunk.count
        }
        let produceTime = ContinuousClock.now - produceStart
        XCTAssertEqual(delivered, count)

        func rate(_ n: Int, _ d: Duration) -> Int {
            Int(Double(n) / (Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18))
        }
        print("GRIDLOOP-KAFKA-RATE produce: \(count) msgs in \(produceTime) = \(rate(count, produceTime)) msg/s")

        // End to end: from the first message on (the group join is not counted), as fast as the
        // mock serves fetches (one produced batch per partition per fetch).
        let (liveCount, liveTime) = try consume(cluster, topic: topic, group: "rate-live", count: count, prefetch: false)
        XCTAssertEqual(liveCount, count)
        print("GRIDLOOP-KAFKA-RATE consume (end to end): \(liveCount) msgs in \(liveTime) = \(rate(liveCount, liveTime)) msg/s")
        // The poll loop alone: librdkafka has prefetched everything before the clock starts.
        let (localCount, localTime) = try consume(cluster, topic: topic, group: "rate-local", count: count, prefetch: true)
        XCTAssertEqual(localCount, count)
        print(
            "GRIDLOOP-KAFKA-RATE consume (poll loop, prefetched): \(localCount) msgs in \(localTime) = \(rate(localCount, localTime)) msg/s"
        )
    }

    /// Consumes `count` messages in batches of 10,000; returns how many and the time from the first
    /// message (with `prefetch`, after a pause that lets librdkafka fetch everything).
    func consume(_ cluster: MockCluster, topic: String, group: String, count: Int, prefetch: Bool) throws
        -> (Int, Duration)
    {
        let handler = RecordingHandler()
        var config = consumerConfig(cluster, group: group)
        if prefetch { config["queued.min.messages"] = "1000000" }  // room for all of them
        let consumer = try KafkaConsumer(
            configuration: config, topics: [topic],
            rebalanceHandler: handler, errorHandler: { XCTFail("\($0)") })
        var consumed = 0
        var start: ContinuousClock.Instant?
        try waitUntil("\(count) messages (have \(consumed))", seconds: 120) {
            if start == nil {
                consumed += try consumer.poll(maxMessages: 1, timeout: .milliseconds(200)).count
                if consumed > 0 {
                    if prefetch { usleep(3_000_000) }
                    start = .now
                }
                return false
            }
            consumed += try consumer.poll(maxMessages: 10_000, timeout: .milliseconds(200)).count
            return consumed >= count
        }
        return (consumed, ContinuousClock.now - start!)
    }
}
