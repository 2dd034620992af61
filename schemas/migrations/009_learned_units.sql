-- Gridloop learned units, version 9.
-- What the feeds teach about the unit directory: for a level and a case's code there (COMMUNITY:
-- community code; STREET: street code; DISTRICT: 'district/category'), the unit the platform itself
-- last dispatched or redispatched such a case to. An escalation asks the directory file first, then
-- this table, then the default unit. Written with the batch that applied the assignment; the row
-- with the later event time wins. Holds one row per code, not per case.
CREATE TABLE learned_units (
    level       text        NOT NULL,
    code        text        NOT NULL,
    unit_code   text        NOT NULL,
    unit_name   text        NOT NULL,
    -- The case whose assignment taught it, and that assignment's event time.
    case_id     text        NOT NULL,
    learned_at  timestamptz NOT NULL,
    PRIMARY KEY (level, code)
);

-- Whose clock each decision concerned, and who received each escalation: the unit that held the
-- case at the decision's instant (for an escalation, the unit it left), the receiving unit and
-- how it was found (directory, learned, default). NULL on rows written before version 9.
ALTER TABLE sla_decisions
    ADD COLUMN unit_code    text,
    ADD COLUMN to_unit_code text,
    ADD COLUMN to_unit_name text,
    ADD COLUMN resolved_by  text;
