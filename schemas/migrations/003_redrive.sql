-- Gridloop dead-letter re-drive, version 3.
-- A message's Kafka headers are kept with its bytes wherever the bytes are kept (held events,
-- dead letters), so that `gridloopd dlq retry` publishes the message as it came: names in
-- order (a name may repeat) and values (NULL: a header without a value). NULL arrays: rows
-- written before this version, whose headers were not kept.
ALTER TABLE held_events
    ADD COLUMN msg_header_names  text[],
    ADD COLUMN msg_header_values bytea[];
ALTER TABLE dead_letters
    ADD COLUMN msg_header_names  text[],
    ADD COLUMN msg_header_values bytea[],
    -- Where `dlq retry` published the message again (`retried_at` says when); the partition is
    -- always the one it came from.
    ADD COLUMN retried_offset    bigint;
