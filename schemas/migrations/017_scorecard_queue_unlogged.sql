-- Gridloop scorecard queue without WAL, version 17 (issue 27: the analytics write nothing
-- durable per fired clock).
-- Every overdue and escalation decision and every applied event queues its case in
-- `scorecard_dirty` (012); in a burst that row and its key were 202 of the 4,828 bytes of WAL a
-- fired clock wrote, and their share of PostgreSQL's time. The queue is derived data: the
-- history it points at (case_events, sla_decisions) is logged, and recomputing a case that did
-- not need it changes nothing. So the queue is UNLOGGED. What PostgreSQL does to an unlogged
-- table, and how the scorecard stays whole:
--   - after a crash (or an immediate shutdown), on a promoted standby and in a base backup the
--     table is empty, and with it the one-row `scorecard_queue_intact`, which nothing deletes
--     otherwise;
--   - whoever takes from the queue (the daemon's scorecard worker, a report) first checks that
--     row; when it is missing, it queues every case again and puts the row back, in one
--     transaction: the queued cases the reset lost are among them. Version 16 and older do
--     not check the row; a crash while one of them alone takes from the queue is caught by
--     the first version 17 or later that does.
-- pg_dump copies an unlogged table's rows (and the row with them) unless told not to.
ALTER TABLE scorecard_dirty SET UNLOGGED;
CREATE UNLOGGED TABLE scorecard_queue_intact (
    intact boolean PRIMARY KEY DEFAULT true CHECK (intact)
);
INSERT INTO scorecard_queue_intact DEFAULT VALUES;
