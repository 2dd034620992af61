import GridloopCore
import GridloopPostgres

/// Everything the intake reads from and writes to PostgreSQL, one transaction per batch.
public final class IntakeStore: @unchecked Sendable {
    // @unchecked: an IntakeStore (and its connection) is used by one thread at a time. The
    // intake's writer store passes between the intake thread and the commit thread only
    // through `BatchCommitter`, whose lock orders every use.
    public let connection: PostgresConnection
    let consumerGroup: String
    private let deadLetterTopic: String
    private let decode: @Sendable (String, [UInt8]?, [UInt8]) -> FeedDecodeOutcome
    private var copy = CopyBinaryWriter()
    /// Per partition (`topic` NUL `partition`), the highest source offset that dead_letters or
    /// skipped_messages hold, read at the partition's first dead letter or skipped message
    /// since the last `forgetRecorded`, then kept up to date by this store's writes (only the
    /// partition's owner writes them). A message above it cannot be recorded already, so a live
    /// intake never asks; only a partition read again from below (another consumer group, a
    /// restored database) does.
    private var recordedHigh: [TopicPartition: Int64] = [:]

    /// Forgets `recordedHigh`: at every assignment, since another member may have recorded
    /// messages of a partition while this one did not hold it.
    public func forgetRecorded() { recordedHigh = [:] }

    public init(
        connection: PostgresConnection, consumerGroup: String, deadLetterTopic: String,
        decode: @escaping @Sendable (String, [UInt8]?, [UInt8]) -> FeedDecodeOutcome
    ) throws {
        self.connection = connection
        self.consumerGroup = consumerGroup
        self.deadLetterTopic = deadLetterTopic
        self.decode = decode
        // Staging tables of this connection, used once per transaction and emptied by its commit
        // (cheaper than a TRUNCATE, which gives a temporary table a new file every time).
        try connection.execute(
            """
            CREATE TEMP TABLE IF NOT EXISTS cases_stage ON COMMIT DELETE ROWS
                AS SELECT \(CaseRow.mutableColumns.joined(separator: ", ")) FROM cases WITH NO DATA;
            CREATE TEMP TABLE IF NOT EXISTS clock_stage
                (case_id text, topic text, partition int, level text, next_due timestamptz, clock text) ON COMMIT DELETE ROWS
            """, context: "create staging tables")
    }

    // MARK: Offsets

    /// The stored next offsets of these partitions; creates a row at "beginning" (-2) for
    /// partitions never seen, so that every later write is a compare-and-set.
    public func offsets(for partitions: [PartitionOffset]) throws -> [PartitionOffset] {
        guard !partitions.isEmpty else { return [] }
        let topics = PostgresArray.text(partitions.map(\.topic))
        let parts = PostgresArray.int(partitions.map(\.partition))
        return try connection.transaction {
            try connection.query(
                """
                INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
                SELECT $1, t, p, -2 FROM unnest($2::text[], $3::int[]) AS u(t, p)
                ON CONFLICT DO NOTHING
                """, [consumerGroup, topics, parts], context: "create consumer_offsets rows")
            let rows = try connection.query(
                """
                SELECT topic, partition, next_offset FROM consumer_offsets
                WHERE consumer_group = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
                """, [consumerGroup, topics, parts], context: "read consumer_offsets")
            let t = "consumer_offsets"
            return try (0..<rows.count).map {
                PartitionOffset(
                    TopicPartition(topic: try rows.string($0, 0, in: t), partition: Int32(try rows.int($0, 1, in: t))),
                    offset: try rows.int64($0, 2, in: t))
            }
        }
    }

    // MARK: Reading

    /// Loads what a batch needs to know about cases that are not in the intake's cache: their
    /// stored state and the 12345 message ids already applied to them (two queries).
    /// `withKeys: false` skips the message ids (the clocks' firing needs only the states).
    public func context(caseIds: Set<String>, withKeys: Bool = true) throws -> IntakeContext {
        guard !caseIds.isEmpty else { return IntakeContext(states: [:], appliedKeys: [:], held: []) }
        let ids = PostgresArray.text(caseIds)
        let rows = try connection.query(
            "SELECT \(CaseRow.selectList) FROM cases WHERE case_id = ANY($1::text[])", [ids],
            context: "load cases")
        var states: [String: CaseState] = [:]
        states.reserveCapacity(rows.count)
        for i in 0..<rows.count {
            let s = try CaseRow.read(rows, row: i)
            states[s.caseId] = s
        }
        // 12319 resends are recognised by event_seq; only 12345 cases need their message ids.
        var applied: [String: Set<String>] = [:]
        let keyed = withKeys ? states.values.filter { $0.source == .hotline12345 && $0.eventCount > 0 }.map(\.caseId) : []
        if !keyed.isEmpty {
            let keys = try connection.query(
                "SELECT case_id, event_key FROM case_events WHERE case_id = ANY($1::text[])",
                [PostgresArray.text(keyed)], context: "load applied message ids")
            for i in 0..<keys.count {
                applied[try keys.string(i, 0, in: "case_events"), default: []].insert(try keys.string(i, 1, in: "case_events"))
            }
        }
        return IntakeContext(states: states, appliedKeys: applied, held: [])
    }

    /// Cases with held events on these partitions (read at assignment; the intake keeps it up to date).
    public func heldCaseIds(partitions: [PartitionOffset]) throws -> Set<String> {
        guard !partitions.isEmpty else { return [] }
        let rows = try connection.query(
            """
            SELECT DISTINCT case_id FROM held_events
            WHERE (topic, partition) IN (SELECT * FROM unnest($1::text[], $2::int[]))
            """, [PostgresArray.text(partitions.map(\.topic)), PostgresArray.int(partitions.map(\.partition))],
            context: "read held cases")
        return Set(try (0..<rows.count).map { try rows.string($0, 0, in: "held_events") })
    }

    /// Stored held events of these cases (the table is small: events waiting for a DISPATCH or a gap).
    /// A row whose bytes no longer decode is left out here and dead-lettered when its wait ends
    /// (the intake's expiry pass, `IntakeService.expireHeld`): until then it is not an event of its case.
    public func heldEvents(caseIds: Set<String>) throws -> [HeldEvent] {
        guard !caseIds.isEmpty else { return [] }
        return try heldRows(where: "case_id = ANY($1::text[])", [PostgresArray.text(caseIds)]).events
    }

    /// Held rows whose wait ended before `cutoff` (epoch ms), on the given partitions, oldest
    /// first. Only the holder of a partition writes its held rows, and the expiry commits fenced
    /// on the partitions' offsets, so they are read without a lock.
    package func expiredHeld(before cutoff: Int64, partitions: [PartitionOffset], limit: Int = 1000) throws -> HeldRows {
        guard !partitions.isEmpty else { return HeldRows() }
        return try heldRows(
            where: Self.heldBefore + " ORDER BY held_at LIMIT \(limit)",
            Self.heldBeforeParameters(cutoff, partitions))
    }

    /// Stored held rows: those that decode as events, and those that no longer do, each as the
    /// dead letter it becomes (by `event_key`, the row's key).
    package struct HeldRows {
        package var events: [HeldEvent] = []
        package var undecodable: [(eventKey: String, letter: DeadLetter)] = []
    }

    /// Held rows on partitions `$2`, `$3` that wait since before `$1` (epoch ms).
    private static let heldBefore = """
        held_at < to_timestamp($1::double precision / 1000)
        AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::int[]))
        """

    private static func heldBeforeParameters(_ cutoff: Int64, _ partitions: [PartitionOffset]) -> [String?] {
        [String(cutoff), PostgresArray.text(partitions.map(\.topic)), PostgresArray.int(partitions.map(\.partition))]
    }

    /// Whether any held event on these partitions waits since before `cutoff` (epoch ms).
    public func hasHeld(before cutoff: Int64, partitions: [PartitionOffset]) throws -> Bool {
        guard !partitions.isEmpty else { return false }
        let rows = try connection.query(
            "SELECT EXISTS (SELECT 1 FROM held_events WHERE \(Self.heldBefore))",
            Self.heldBeforeParameters(cutoff, partitions), context: "look for expired held events")
        return rows.bool(0, 0) == true
    }

    private func heldRows(where clause: String, _ params: [String?]) throws -> HeldRows {
        let rows = try connection.query(
            """
            SELECT event_key, topic, partition, "offset", msg_key, msg_value, (extract(epoch from held_at) * 1000)::bigint,
                   coalesce(cardinality(msg_header_names), 0), case_id
            FROM held_events WHERE \(clause)
            """, params, context: "load held events")
        let t = "held_events"
        let withHeaders = try (0..<rows.count).filter { try rows.int($0, 7, in: t) > 0 }.map { try rows.string($0, 0, in: t) }
        let headers = try StoredHeaders.read(connection, table: t, keyColumn: "event_key", keys: withHeaders)
        var out = HeldRows()
        for i in 0..<rows.count {
            let eventKey = try rows.string(i, 0, in: t)
            let coordinates = SourceCoordinates(
                topic: try rows.string(i, 1, in: t), partition: Int32(try rows.int(i, 2, in: t)),
                offset: try rows.int64(i, 3, in: t))
            let key = rows.bytes(i, 4)
            guard let value = rows.bytes(i, 5) else {
                throw MalformedRow(table: t, row: "event_key \(eventKey)", column: "msg_value")
            }
            // Held rows were valid events when stored; decode them again from their own bytes. A
            // later version may refuse them (a stricter limit, a field it no longer reads).
            let event: CaseEvent
            switch decode(coordinates.topic, key, value) {
            case .event(let e): event = e
            case .rejected(let why), .skipped(let why, _):
                out.undecodable.append(
                    (
                        eventKey,
                        DeadLetter(
                            coordinates: coordinates, key: key, value: value, headers: headers[eventKey] ?? [],
                            reason: "held event \(eventKey) no longer decodes: \(why)", caseId: rows.string(i, 8))
                    ))
                continue
            }
            out.events.append(
                HeldEvent(
                    event: event, coordinates: coordinates, key: key, value: value, headers: headers[eventKey] ?? [],
                    heldAt: try rows.int64(i, 6, in: t)))
        }
        return out
    }

    // MARK: Writing

    /// Writes a planned batch and moves the partitions' offsets from `expected` to `next`, in one
    /// transaction. Throws `OffsetFenceError` (after rolling back) if an offset moved under us.
    public func commit(
        _ plan: IntakePlanner, clocks: ClockChanges = ClockChanges(), expected: [PartitionOffset],
        next: [PartitionOffset]
    ) throws {
        try connection.transaction {
            try write(plan)
            var t = monotonicNanos()
            try write(clocks)
            lastWriteTimings["clocks_us"] = (monotonicNanos() - t) / 1000
            t = monotonicNanos()
            try moveOffsets(expected: expected, next: next)
            lastWriteTimings["offsets_us"] = (monotonicNanos() - t) / 1000
        }
    }

    /// Microseconds spent in each step of the last `write`, for the debug log.
    public internal(set) var lastWriteTimings: [String: UInt64] = [:]

    private func write(_ plan: IntakePlanner) throws {
        lastWriteTimings = [:]
        var t = monotonicNanos()
        func lap(_ name: String) {
            let n = monotonicNanos()
            lastWriteTimings[name] = (n - t) / 1000
            t = n
        }
        if !plan.applied.isEmpty {
            copy.reset()
            for a in plan.applied {
                let e = a.event
                copy.text(e.caseId)
                copy.int(a.eventNo)
                copy.text(e.eventKey)
                copy.text(e.type.rawValue)
                copy.timestamp(epochMillis: e.eventTime)
                copy.int(e.sequence)
                copy.int(a.gapBefore)
                copy.text(e.assignee?.level.rawValue)
                copy.text(e.assignee?.unitCode ?? e.unitCode)
                copy.text(e.result?.rawValue)
                copy.int(e.days)
                copy.text(e.satisfaction?.rawValue)
                copy.text(a.coordinates.topic)
                copy.int(Int(a.coordinates.partition))
                copy.int64(a.coordinates.offset)
                copy.endRow()
            }
            try connection.copyIn(
                """
                COPY case_events (case_id, event_no, event_key, type, event_time, sequence, gap_before, level,
                unit_code, result, days, satisfaction, topic, partition, "offset") FROM STDIN (FORMAT binary)
                """, data: copy.finished, context: "COPY case_events")
        }
        lap("events_us")
        // New cases go straight into `cases`; existing ones get their changing columns updated
        // from a narrow staging table (cheaper than a full-row upsert).
        let created = plan.createdCases
        if !created.isEmpty {
            copy.reset()
            for id in created.sorted() { CaseRow.write(plan.states[id]!, to: &copy) }
            try connection.copyIn(
                "COPY cases (\(CaseRow.columns.joined(separator: ", "))) FROM STDIN (FORMAT binary)",
                data: copy.finished, context: "COPY cases")
            lap("new_cases_us")
        }
        let updated = plan.changedCases.subtracting(created)
        if !updated.isEmpty {
            copy.reset()
            for id in updated.sorted() { CaseRow.writeMutable(plan.states[id]!, to: &copy) }
            let cols = CaseRow.mutableColumns
            try connection.copyIn(
                "COPY cases_stage (\(cols.joined(separator: ", "))) FROM STDIN (FORMAT binary)", data: copy.finished,
                context: "COPY cases_stage")
            lap("stage_us")
            let sets = cols.dropFirst().map { "\($0) = s.\($0)" }.joined(separator: ", ")
            // Always an index nested loop: the staging table has no statistics, and a hash join
            // would scan all of `cases`.
            try connection.execute(
                "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off",
                context: "plan settings")
            let rows = try connection.query(
                """
                UPDATE cases c SET \(sets), updated_at = now() FROM cases_stage s WHERE c.case_id = s.case_id
                """, context: "update cases")
            lap("update_us")
            guard rows.affected == updated.count else {
                throw PostgresError(
                    message: "updated \(rows.affected) of \(updated.count) cases: a case row is missing",
                    context: "update cases")
            }
        }
        if !plan.newlyLearned.isEmpty {
            try LearnedUnitQueries.upsert(plan.newlyLearned, on: connection)
            lap("learned_us")
        }
        if !plan.releasedHeldKeys.isEmpty {
            try connection.query(
                "DELETE FROM held_events WHERE event_key = ANY($1::text[])",
                [PostgresArray.text(plan.releasedHeldKeys)], context: "release held events")
        }
        if !plan.newlyHeld.isEmpty {
            copy.reset()
            for h in plan.newlyHeld {
                copy.text(h.event.eventKey)
                copy.text(h.event.caseId)
                copy.int(h.event.sequence)
                copy.text(h.coordinates.topic)
                copy.int(Int(h.coordinates.partition))
                copy.int64(h.coordinates.offset)
                copy.bytea(h.key)
                copy.bytea(h.value)
                copy.timestamp(epochMillis: h.heldAt)
                StoredHeaders.write(h.headers, to: &copy)
                copy.endRow()
            }
            try connection.copyIn(
                """
                COPY held_events (event_key, case_id, sequence, topic, partition, "offset", msg_key, msg_value, held_at,
                msg_header_names, msg_header_values) FROM STDIN (FORMAT binary)
                """, data: copy.finished, context: "COPY held_events")
        }
        if !plan.deadLetters.isEmpty {
            // A message recorded already at the same coordinates (read again under another
            // consumer group, whose offsets start elsewhere) is not recorded twice: the unique
            // source key would refuse the batch, and the isolation of the message with it, for ever.
            let known = try recorded(in: "dead_letters", plan.deadLetters.map(\.coordinates))
            let letters = known.isEmpty ? plan.deadLetters : plan.deadLetters.filter { !known.contains($0.coordinates) }
            if !letters.isEmpty { try writeDeadLetters(letters) }
        }
        let skipped = plan.skipped.isEmpty ? [] : try recorded(in: "skipped_messages", plan.skipped.map(\.coordinates))
        raiseRecordedHigh(plan.deadLetters.map(\.coordinates) + plan.skipped.map(\.coordinates))
        if plan.skipped.contains(where: { !skipped.contains($0.coordinates) }) {
            copy.reset()
            for s in plan.skipped where !skipped.contains(s.coordinates) {
                copy.text(s.coordinates.topic)
                copy.int(Int(s.coordinates.partition))
                copy.int64(s.coordinates.offset)
                copy.text(s.reason)
                copy.text(s.orderNo)
                copy.endRow()
            }
            try connection.copyIn(
                "COPY skipped_messages (topic, partition, \"offset\", reason, order_no) FROM STDIN (FORMAT binary)",
                data: copy.finished, context: "COPY skipped_messages")
        }
    }

    /// Which of `coordinates` `table` (dead_letters, skipped_messages: unique on topic,
    /// partition, offset) holds already. Only the partition's owner writes these rows, so none
    /// appears between this read and the batch's writes. Asks the database only about those at
    /// or below their partition's `recordedHigh`.
    private func recorded(in table: String, _ all: [SourceCoordinates]) throws -> Set<SourceCoordinates> {
        var unknown: [SourceCoordinates] = []
        var seen: Set<TopicPartition> = []
        for c in all where recordedHigh[c.topicPartition] == nil && seen.insert(c.topicPartition).inserted {
            unknown.append(c)
        }
        if !unknown.isEmpty {
            let h = try connection.query(
                """
                SELECT COALESCE(greatest(
                    (SELECT max(d."offset") FROM dead_letters d WHERE d.topic = v.topic AND d.partition = v.partition),
                    (SELECT max(s."offset") FROM skipped_messages s WHERE s.topic = v.topic AND s.partition = v.partition)), -1)
                FROM unnest($1::text[], $2::int[]) WITH ORDINALITY AS v(topic, partition, n) ORDER BY v.n
                """, [PostgresArray.text(unknown.map(\.topic)), PostgresArray.int(unknown.map(\.partition))],
                context: "highest recorded source offsets")
            for (i, c) in unknown.enumerated() { recordedHigh[c.topicPartition] = h.int64(i, 0) ?? -1 }
        }
        let coordinates = all.filter { $0.offset <= recordedHigh[$0.topicPartition] ?? .max }
        guard !coordinates.isEmpty else { return [] }
        let r = try connection.query(
            """
            SELECT t.topic, t.partition, t."offset" FROM \(table) t
            JOIN unnest($1::text[], $2::int[], $3::bigint[]) AS v(topic, partition, "offset")
              ON t.topic = v.topic AND t.partition = v.partition AND t."offset" = v."offset"
            """,
            [
                PostgresArray.text(coordinates.map(\.topic)), PostgresArray.int(coordinates.map(\.partition)),
                PostgresArray.int(coordinates.map(\.offset)),
            ], context: "find \(table) recorded already")
        return Set(
            (0..<r.count).map {
                SourceCoordinates(topic: r.string($0, 0)!, partition: Int32(r.int($0, 1)!), offset: r.int64($0, 2)!)
            })
    }

    /// After a batch's dead letters and skipped messages are written.
    private func raiseRecordedHigh(_ written: [SourceCoordinates]) {
        for c in written {
            if c.offset > recordedHigh[c.topicPartition] ?? -1 { recordedHigh[c.topicPartition] = c.offset }
        }
    }

    private func writeDeadLetters(_ letters: [DeadLetter]) throws {
        // Reasons are safe text already (the decoders quote content through SafeText); made so
        // once more here, where they leave for a text column and a Kafka header, because a
        // reason that cannot be stored would stop the intake.
        let letters = letters.map { d -> DeadLetter in
            var d = d
            d.reason = SafeText.text(d.reason)
            d.caseId = d.caseId.map { SafeText.text($0) }
            return d
        }
        copy.reset()
        for d in letters {
            copy.text(d.coordinates.topic)
            copy.int(Int(d.coordinates.partition))
            copy.int64(d.coordinates.offset)
            copy.text(d.reason)
            copy.text(d.caseId)
            copy.bytea(d.key)
            copy.bytea(d.value)
            StoredHeaders.write(d.headers, to: &copy)
            copy.endRow()
        }
        try connection.copyIn(
            """
            COPY dead_letters (topic, partition, "offset", reason, case_id, msg_key, msg_value, msg_header_names,
            msg_header_values) FROM STDIN (FORMAT binary)
            """, data: copy.finished, context: "COPY dead_letters")
        copy.reset()
        for d in letters { OutboxQueue.write(.deadLetter(d, topic: deadLetterTopic), to: &copy) }
        try connection.copyIn(OutboxQueue.copyIn, data: copy.finished, context: "COPY outbox (dead letters)")
    }

    private func moveOffsets(expected: [PartitionOffset], next: [PartitionOffset]) throws {
        guard !next.isEmpty else { return }
        let before = Dictionary(expected.map { ($0.topicPartition, $0.offset) }, uniquingKeysWith: { a, _ in a })
        let exp = next.map { before[$0.topicPartition] ?? -2 }
        let rows = try connection.query(
            """
            UPDATE consumer_offsets o SET next_offset = v.n, updated_at = clock_timestamp()
            FROM unnest($2::text[], $3::int[], $4::bigint[], $5::bigint[]) AS v(t, p, e, n)
            WHERE o.consumer_group = $1 AND o.topic = v.t AND o.partition = v.p AND o.next_offset = v.e
            """,
            [
                consumerGroup, PostgresArray.text(next.map(\.topic)), PostgresArray.int(next.map(\.partition)),
                PostgresArray.int(exp), PostgresArray.int(next.map(\.offset)),
            ], context: "move consumer offsets")
        if rows.affected != next.count { throw OffsetFenceError() }
    }
}
