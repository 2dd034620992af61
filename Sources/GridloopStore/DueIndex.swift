import GridloopPostgres

/// The due-clock index (`case_clocks_due_keyset`: topic, partition, next_due, case_id) read a
/// partition at a time: `next_due <= x` alone would read every open clock.
enum DueIndex {
    /// A recursive CTE `p(topic, partition)`: the partitions with open clocks, found by
    /// skipping through the index, one descent each. Follows `WITH RECURSIVE`.
    static let partitions = """
        p AS (
            (SELECT topic, partition FROM case_clocks WHERE next_due IS NOT NULL ORDER BY topic, partition LIMIT 1)
            UNION ALL
            SELECT n.topic, n.partition FROM p CROSS JOIN LATERAL (
                SELECT c.topic, c.partition FROM case_clocks c
                WHERE c.next_due IS NOT NULL AND (c.topic, c.partition) > (p.topic, p.partition)
                ORDER BY c.topic, c.partition LIMIT 1) n)
        """
}
