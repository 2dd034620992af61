-- Gridloop retention, version 16 (docs/OPERATIONS.md, "Retention of personal data").
-- A dead letter keeps the message as it came, and a 12345 message carries the citizen's name,
-- phone number, address and appeal text. After retention.deadLetterBytes (30 days by default)
-- `gridloopd purge` (the daemon runs it daily) replaces those bytes by nothing: msg_value
-- becomes empty, and what stays is the reason, the key, the headers, the source coordinates,
-- the original's length and its SHA-256 (to match a copy an integrator still has). A redacted
-- dead letter is listed as before and refused by `dlq retry`. Expand-only: columns that an
-- older version ignores.
ALTER TABLE dead_letters
    ADD COLUMN redacted_at timestamptz,
    ADD COLUMN msg_sha256  bytea,
    ADD COLUMN msg_length  integer;
