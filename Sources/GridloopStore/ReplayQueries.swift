import GridloopCore
import GridloopPostgres

/// What `gridloopd whatif` replays (docs/WHATIF.md): the cases dispatched in a period (their
/// first applied event, a DISPATCH, from `from` to `to`, `YYYY-MM-DD` Asia/Shanghai, inclusive),
/// every event applied to them in the order applied, and the decisions stored for them. Instants
/// are epoch milliseconds. Three statements, each one pass.
package enum ReplayQueries {
    private static let picked = """
        picked AS MATERIALIZED (
            SELECT case_id FROM case_events
            WHERE event_no = 1
              AND event_time >= ($1::date::timestamp AT TIME ZONE 'Asia/Shanghai')
              AND event_time < (($2::date + 1)::timestamp AT TIME ZONE 'Asia/Shanghai'))
        """

    /// A case of the period with the facts of its order.
    package struct ReplayCase: Sendable {
        package var caseId: String
        package var source: CaseSource
        package var orderNo: String
        /// The unit its dispatch named (the name of a DISPATCH's assignee).
        package var unitName: String
        package var order: OrderFacts
        /// The policy version and version history its clock records (nil: none).
        package var policyVersion: String?
        package var policyHistory: String?
    }

    /// The period's cases, by case id (a row the replay cannot read, left out).
    package static func cases(from: String, to: String, db: PostgresConnection) throws -> [ReplayCase] {
        let r = try db.query(
            """
            WITH \(picked)
            SELECT c.case_id, c.source, c.order_no, c.unit_name, c.channel, c.appeal_type, c.category_code, c.category_name,
                   c.urgency, \(TimeSQL.millis("c.accept_time")), c.district_code, c.street_code, c.community_code, c.grid_code,
                   c.platform_sign_hours, c.platform_handle_days, \(TimeSQL.millis("c.platform_deadline")), c.repeat_of,
                   k.clock::jsonb ->> 'policyVersion', k.clock::jsonb ->> 'policyHistory'
            FROM cases c JOIN picked USING (case_id) LEFT JOIN case_clocks k USING (case_id)
            ORDER BY c.case_id
            """, [from, to], context: "replay: the period's cases")
        return (0..<r.count).compactMap { i in
            guard let id = r.string(i, 0), let source = r.string(i, 1).flatMap(CaseSource.init(rawValue:)),
                let orderNo = r.string(i, 2), let accept = r.int64(i, 9)
            else { return nil }
            let order = OrderFacts(
                channel: r.string(i, 4), appealType: r.string(i, 5), categoryCode: r.string(i, 6),
                categoryName: r.string(i, 7) ?? "", urgency: r.string(i, 8).flatMap(Urgency.init(rawValue:)) ?? .normal,
                acceptTime: accept, districtCode: r.string(i, 10), streetCode: r.string(i, 11),
                communityCode: r.string(i, 12), gridCode: r.string(i, 13), platformSignHours: r.int(i, 14),
                platformHandleDays: r.int(i, 15), platformDeadline: r.int64(i, 16), repeatOf: r.string(i, 17))
            return ReplayCase(
                caseId: id, source: source, orderNo: orderNo, unitName: r.string(i, 3) ?? "", order: order,
                policyVersion: r.string(i, 18), policyHistory: r.string(i, 19))
        }
    }

    /// An event applied to a case of the period (its instant epoch ms).
    package struct ReplayEvent: Sendable {
        package var caseId: String
        package var type: CaseEventType
        package var time: Int64
        package var key: String
        package var sequence: Int?
        package var gapBefore: Int
        package var level: LoopLevel?
        package var unitCode: String?
        package var result: ReplyResult?
        package var days: Int?
        package var satisfaction: Satisfaction?
        package var topicPartition: TopicPartition
    }

    /// The events applied to the period's cases, by case id and in the order applied (a row the
    /// replay cannot read, left out).
    package static func events(from: String, to: String, db: PostgresConnection) throws -> [ReplayEvent] {
        let r = try db.query(
            """
            WITH \(picked)
            SELECT e.case_id, e.type, \(TimeSQL.millis("e.event_time")), e.event_key, e.sequence, e.gap_before, e.level, e.unit_code,
                   e.result, e.days, e.satisfaction, e.topic, e.partition
            FROM case_events e JOIN picked USING (case_id)
            ORDER BY e.case_id, e.event_no
            """, [from, to], context: "replay: the period's events")
        return (0..<r.count).compactMap { i in
            guard let id = r.string(i, 0), let type = r.string(i, 1).flatMap(CaseEventType.init(rawValue:)),
                let t = r.int64(i, 2), let key = r.string(i, 3)
            else { return nil }
            return ReplayEvent(
                caseId: id, type: type, time: t, key: key, sequence: r.int(i, 4), gapBefore: r.int(i, 5) ?? 0,
                level: r.string(i, 6).flatMap(LoopLevel.init(rawValue:)), unitCode: r.string(i, 7),
                result: r.string(i, 8).flatMap(ReplyResult.init(rawValue:)), days: r.int(i, 9),
                satisfaction: r.string(i, 10).flatMap(Satisfaction.init(rawValue:)),
                topicPartition: TopicPartition(topic: r.string(i, 11) ?? "", partition: Int32(r.int(i, 12) ?? 0)))
        }
    }

    /// The decisions stored for the period's cases: id, type and when it was decided (epoch ms).
    package static func decisions(
        from: String, to: String, db: PostgresConnection
    ) throws -> [(id: String, type: String, decidedAt: Int64)] {
        let r = try db.query(
            """
            WITH \(picked)
            SELECT d.id, d.case_id, d.type, \(TimeSQL.millis("d.decided_at"))
            FROM sla_decisions d JOIN picked USING (case_id)
            ORDER BY d.case_id, d.decided_at, d.id
            """, [from, to], context: "replay: the period's stored decisions")
        return (0..<r.count).compactMap { i in
            guard let id = r.string(i, 0), let type = r.string(i, 2), let t = r.int64(i, 3) else { return nil }
            return (id, type, t)
        }
    }
}
