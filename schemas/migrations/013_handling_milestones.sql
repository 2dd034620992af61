-- Gridloop handling milestones, version 13.
-- The at-risk forecast (`gridloopd forecast`, docs/FORECAST.md) estimates, per unit, level and
-- clock, how long handlings take to be signed and replied to. `scorecard_handlings` already
-- holds one row per handling, recomputed whenever the case's history changes; it now keeps when
-- the handling was first signed and first replied to, and when it ended (the next assignment,
-- or the case's closing): null while that has not happened.
-- Added columns only, nullable: a daemon of version 12 still writes its rows (rolling upgrade).
ALTER TABLE scorecard_handlings
    ADD COLUMN signed_at  timestamptz,
    ADD COLUMN replied_at timestamptz,
    ADD COLUMN ended_at   timestamptz;

-- Every case is computed again, once, to fill them.
INSERT INTO scorecard_dirty (case_id) SELECT case_id FROM cases ON CONFLICT (case_id) DO NOTHING;
