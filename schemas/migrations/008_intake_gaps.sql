-- Gridloop intake gaps, version 8.
-- A range of an intake partition that the intake can no longer read: the broker deleted it
-- (retention ran out while the daemon or the database was down) before it was applied, or the
-- stored offset lies beyond the end of the log (the topic was recreated). Found at assignment or
-- when the broker answers "offset out of range"; written with the move of the stored offset to
-- where reading resumes, in one transaction. `/readyz` fails while a row is not acknowledged,
-- and with intake.onOffsetGap: stop the partition is not consumed until then.
CREATE TABLE intake_gaps (
    id               bigserial   PRIMARY KEY,
    consumer_group   text        NOT NULL,
    topic            text        NOT NULL,
    partition        integer     NOT NULL,
    -- The stored next offset that could not be read, and the log start reading resumes at.
    from_offset      bigint      NOT NULL,
    to_offset        bigint      NOT NULL,
    -- to_offset - from_offset; NULL when the stored offset was beyond the end of the log (a
    -- recreated topic): how many messages the old topic had past the new end is not known.
    messages_lost    bigint,
    reason           text        NOT NULL,
    detected_at      timestamptz NOT NULL DEFAULT now(),
    acknowledged_at  timestamptz,
    acknowledged_by  text
);
-- The intake, the health probe and `gaps list` ask for the gaps not acknowledged yet.
CREATE INDEX intake_gaps_open ON intake_gaps (consumer_group, topic, partition) WHERE acknowledged_at IS NULL;
