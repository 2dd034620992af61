-- Gridloop SLA clocks, version 2.
-- One row per case that has ever been assigned: its clocks at the current loop level (JSON of
-- GridloopCore.CaseClock) and when it next needs attention. Written in the same transaction
-- as the case state that moved the clocks, and by the firing of due clocks together with the
-- outbox rows of the decisions taken. Only the holder of the case's partition writes it.
CREATE TABLE case_clocks (
    case_id    text PRIMARY KEY,
    topic      text NOT NULL,
    partition  integer NOT NULL,
    level      text NOT NULL,
    next_due   timestamptz,              -- null: nothing pending (closed, signed and replied, suspended...)
    clock      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_clocks_due ON case_clocks (topic, partition, next_due) WHERE next_due IS NOT NULL;

-- Every decision taken (warning, overdue, urge, escalation, resolution), kept for `case show`
-- and the 721 report after the outbox rows are published. `id` is the event id.
CREATE TABLE sla_decisions (
    id          text PRIMARY KEY,
    case_id     text NOT NULL,
    type        text NOT NULL,
    level       text NOT NULL,
    to_level    text,
    clock       text,
    decided_at  timestamptz NOT NULL,
    deadline    timestamptz
);
CREATE INDEX sla_decisions_case ON sla_decisions (case_id);
