-- Gridloop morning digests, version 14.
-- At forecast.digestAt of each working day, one `gridloop.unit.digest` per unit with clocks at
-- risk that day goes out through the outbox (docs/FORECAST.md). One row per day on which they
-- were queued, written in the same transaction as their outbox rows: several daemons, and a
-- daemon that comes back after the hour, queue each day's digests once.
CREATE TABLE unit_digest_days (
    day         date PRIMARY KEY,        -- Asia/Shanghai
    computed_at timestamptz NOT NULL,    -- the forecast's instant
    digests     integer NOT NULL,        -- events queued (0: no unit had a clock at risk)
    queued_at   timestamptz NOT NULL DEFAULT now()
);
