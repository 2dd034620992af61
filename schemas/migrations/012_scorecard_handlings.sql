-- Gridloop scorecard facts, version 12.
-- `report scorecard` counts handlings (docs/SCORECARD.md). Computing them from the whole event
-- history each time costs about 35 sequential scans of it on a city's month; so each handling's
-- facts are kept in `scorecard_handlings`, recomputed per case whenever the case's history
-- changes, and the report only aggregates them.
--
-- A case's history changes when an event is applied (case_events) or an overdue or escalation
-- decision is taken (sla_decisions). A statement trigger on each queues the case in
-- `scorecard_dirty`; the daemon's scorecard worker, and every report before it counts, takes
-- queued cases (FOR UPDATE SKIP LOCKED), recomputes all their handlings from their whole
-- timeline and replaces their rows. The queue row is upserted (not inserted-or-ignored) so that
-- a writer takes its lock: a case being recomputed while new events for it are being written is
-- queued again once the recomputation commits, never left with facts that miss those events.
CREATE TABLE scorecard_dirty (
    case_id text PRIMARY KEY,
    writes  bigint NOT NULL DEFAULT 1
);

-- One row per handling of a case not withdrawn (withdrawn cases count for nobody), with the
-- handling's contribution to each count of docs/SCORECARD.md (0 or 1, or a number of replies and
-- callbacks), so that a report only sums.
CREATE TABLE scorecard_handlings (
    case_id            text NOT NULL,
    began_at           timestamptz NOT NULL,
    level              text NOT NULL,
    unit_code          text NOT NULL,
    qr                 boolean NOT NULL,   -- the case came in through 码上反馈 (channel QRCODE)
    evaluated          smallint NOT NULL,
    returned           smallint NOT NULL,
    returned_elsewhere smallint NOT NULL,
    responded          smallint NOT NULL,
    response_base      smallint NOT NULL,
    on_time            smallint NOT NULL,
    on_time_base       smallint NOT NULL,
    overdue            smallint NOT NULL,
    escalated_away     smallint NOT NULL,
    resolution_base    smallint NOT NULL,
    resolved           smallint NOT NULL,
    callbacks          integer NOT NULL,
    satisfied          integer NOT NULL,
    replies            integer NOT NULL,
    reopened           integer NOT NULL
);
CREATE INDEX scorecard_handlings_case ON scorecard_handlings (case_id);
CREATE INDEX scorecard_handlings_began ON scorecard_handlings (began_at);

CREATE FUNCTION scorecard_queue_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scorecard_dirty (case_id)
    SELECT DISTINCT case_id FROM new_rows ORDER BY case_id
    ON CONFLICT (case_id) DO UPDATE SET writes = scorecard_dirty.writes + 1;
    RETURN NULL;
END $$;

CREATE FUNCTION scorecard_queue_decisions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO scorecard_dirty (case_id)
    SELECT DISTINCT case_id FROM new_rows
    WHERE type IN ('gridloop.case.supervision.overdue', 'gridloop.case.escalated') ORDER BY case_id
    ON CONFLICT (case_id) DO UPDATE SET writes = scorecard_dirty.writes + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER case_events_scorecard AFTER INSERT ON case_events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION scorecard_queue_events();
CREATE TRIGGER sla_decisions_scorecard AFTER INSERT ON sla_decisions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION scorecard_queue_decisions();

-- The history written before this version: every case is computed once.
INSERT INTO scorecard_dirty (case_id) SELECT case_id FROM cases;
