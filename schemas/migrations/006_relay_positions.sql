-- Gridloop relay positions, version 6.
-- The next offset the relay expects in each partition of the topics it publishes to, written
-- in the transaction that deletes the rows the broker acknowledged. A relay that died between
-- the acknowledgement and that commit left rows in the outbox that are already on the topic;
-- the next relay to take over reads each partition from its position up to the high watermark,
-- and deletes the rows whose `gridloop-id` it finds there instead of publishing them again.
CREATE TABLE relay_positions (
    topic       text    NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint  NOT NULL,
    PRIMARY KEY (topic, partition)
);
-- No index on outbox.id for that: every insert would pay for it, and a takeover scans the
-- outbox (what is still to be published) once.
