-- Gridloop outbox headers, version 10.
-- The outbox keeps a message's Kafka headers the way held_events and dead_letters keep them: two
-- parallel arrays, names (text[]) and values (bytea[], a NULL element: a header without a value),
-- which the relay reads in binary format. They replace `headers`, one text[] of name, value,
-- name, value, ... that the relay parsed back out of PostgreSQL's text form of an array. A
-- decision's row keeps empty arrays: its headers follow from its id (OutboxQueue derives them).
ALTER TABLE outbox ADD COLUMN msg_header_names text[], ADD COLUMN msg_header_values bytea[];
-- Rows queued by the previous version are published as it would have published them. A dead
-- letter: the pairs of `headers` in order (an unpaired last name was left out).
UPDATE outbox SET
    msg_header_names = ARRAY(
        SELECT headers[i] FROM generate_series(1, cardinality(headers) - 1, 2) AS i ORDER BY i),
    msg_header_values = ARRAY(
        SELECT convert_to(headers[i + 1], 'UTF8') FROM generate_series(1, cardinality(headers) - 1, 2) AS i ORDER BY i);
-- A decision (stored without headers): the ones that follow from its id.
UPDATE outbox SET
    msg_header_names = ARRAY['content-type', 'gridloop-id'],
    msg_header_values = ARRAY[convert_to('application/cloudevents+json; charset=UTF-8', 'UTF8'), convert_to(id, 'UTF8')]
WHERE cardinality(headers) = 0;
-- No default: a writer that does not say what a message's headers are fails, rather than
-- queueing a message without them (an older gridloopd still running against this schema stops
-- at its next outbox write instead of publishing events without their `gridloop-id`).
ALTER TABLE outbox DROP COLUMN headers,
    ALTER COLUMN msg_header_names SET NOT NULL,
    ALTER COLUMN msg_header_values SET NOT NULL;
