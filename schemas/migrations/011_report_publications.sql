-- Gridloop report publications, version 11.
-- One row per revision of a published report (`gridloopd report scorecard --publish`): which
-- period and level, the revision number, and a hash of the figures published. Publishing again
-- compares the figures' hash with the last revision's: the same figures publish nothing, changed
-- ones (a late callback, a withdrawal) the next revision. The event itself goes through the
-- outbox in the same transaction; its id is `event_id`.
CREATE TABLE report_publications (
    kind         text NOT NULL,          -- 'scorecard'
    period_from  date NOT NULL,
    period_to    date NOT NULL,
    level        text NOT NULL,
    revision     integer NOT NULL CHECK (revision >= 1),
    content_hash text NOT NULL,          -- SHA-256 (hex) of the figures, `asOf` left out
    event_id     text NOT NULL UNIQUE,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, period_from, period_to, level, revision)
);
