-- Gridloop intake schema, version 1.
-- Personal data (citizen name, phone, appeal text, address) is never stored here:
-- the feed adapters drop it. Dead letters keep the original message bytes (the
-- dead-letter contract requires them), nothing else does.

-- Current state of every case; one row per `<source>:<order number>`.
CREATE TABLE cases (
    case_id              text PRIMARY KEY,
    source               text NOT NULL CHECK (source IN ('12345', '12319')),
    order_no             text NOT NULL,
    status               text NOT NULL,
    level                text NOT NULL CHECK (level IN ('ESTATE', 'COMMUNITY', 'STREET', 'DISTRICT')),
    unit_code            text NOT NULL,
    unit_name            text NOT NULL,
    urgency              text NOT NULL,
    category_code        text,
    category_name        text NOT NULL,
    channel              text,
    appeal_type          text,
    accept_time          timestamptz NOT NULL,
    district_code        text,
    street_code          text,
    community_code       text,
    grid_code            text,
    platform_sign_hours  integer,
    platform_handle_days integer,
    platform_deadline    timestamptz,
    repeat_of            text,
    assigned_at          timestamptz NOT NULL,
    signed_at            timestamptz,
    replied_at           timestamptz,
    closed_at            timestamptz,
    suspended_since      timestamptz,
    extension_days       integer NOT NULL DEFAULT 0,
    replied_level        text,
    last_result          text,
    last_satisfaction    text,
    last_sequence        integer NOT NULL DEFAULT 0,
    event_count          integer NOT NULL DEFAULT 0,
    gap_count            integer NOT NULL DEFAULT 0,
    last_event_time      timestamptz NOT NULL,
    updated_at           timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);  -- room for HOT updates: a case row is rewritten on every event

-- Append-only history: every applied event with its source coordinates.
CREATE TABLE case_events (
    case_id      text NOT NULL,
    event_no     integer NOT NULL,          -- 1, 2, ... per case, in applied order
    event_key    text NOT NULL,             -- 12345 msgId, or `<case_id>#<event_seq>` for 12319
    type         text NOT NULL,
    event_time   timestamptz NOT NULL,
    sequence     integer,                   -- 12319 event_seq
    gap_before   integer NOT NULL DEFAULT 0,-- 12319 events missing before this one (accepted after the hold)
    level        text,                      -- DISPATCH / REDISPATCH: the level assigned
    unit_code    text,
    result       text,
    days         integer,
    satisfaction text,
    topic        text NOT NULL,
    partition    integer NOT NULL,
    "offset"     bigint NOT NULL,
    applied_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, event_no),
    CONSTRAINT case_events_event_key UNIQUE (event_key)
);

-- The consumer's position, written in the same transaction as the state it produced.
-- `next_offset` is the offset of the next message to consume; -2 means "from the beginning".
CREATE TABLE consumer_offsets (
    consumer_group text NOT NULL,
    topic          text NOT NULL,
    partition      integer NOT NULL,
    next_offset    bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Events that cannot be applied yet: an order's event before its DISPATCH, or a 12319
-- event after a gap in event_seq. Held for a bounded wait, then applied or dead-lettered.
CREATE TABLE held_events (
    event_key  text PRIMARY KEY,
    case_id    text NOT NULL,
    sequence   integer,
    topic      text NOT NULL,
    partition  integer NOT NULL,
    "offset"   bigint NOT NULL,
    msg_key    bytea,
    msg_value  bytea NOT NULL,
    held_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX held_events_case ON held_events (case_id);
CREATE INDEX held_events_age ON held_events (held_at);

-- Messages that could not be applied, with the reason; also sent to the dead-letter topic.
CREATE TABLE dead_letters (
    id         bigserial PRIMARY KEY,
    topic      text NOT NULL,
    partition  integer NOT NULL,
    "offset"   bigint NOT NULL,
    reason     text NOT NULL,
    case_id    text,
    msg_key    bytea,
    msg_value  bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    retried_at timestamptz,
    CONSTRAINT dead_letters_source UNIQUE (topic, partition, "offset")
);

-- Valid messages of a type Gridloop does not know: recorded, skipped.
CREATE TABLE skipped_messages (
    topic      text NOT NULL,
    partition  integer NOT NULL,
    "offset"   bigint NOT NULL,
    reason     text NOT NULL,
    order_no   text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, "offset")
);

-- Transactional outbox: rows written with the state change, published by the relay,
-- then marked sent. `id` is the message's stable id (a repeat carries the same id).
CREATE TABLE outbox (
    seq        bigserial PRIMARY KEY,
    id         text NOT NULL UNIQUE,
    topic      text NOT NULL,
    msg_key    bytea,
    payload    bytea NOT NULL,
    headers    text[] NOT NULL DEFAULT '{}',  -- name, value, name, value, ...
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz
);
CREATE INDEX outbox_unsent ON outbox (seq) WHERE sent_at IS NULL;
