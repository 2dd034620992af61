-- Gridloop decision columns that each mean one thing, version 18 (expand; issue 29).
-- `sla_decisions.clock` (002) holds, depending on the row's type, the limit a warning, overdue or
-- urge is about (SIGN, HANDLE), an escalation's reason (SIGN_OVERDUE, HANDLE_OVERDUE,
-- REOPENED_UNSATISFIED) or a resolution's result. Three columns now say each of these:
--   limit_kind         warning, overdue, urge: SIGN or HANDLE
--   escalation_reason  escalated: why
--   resolution_result  resolved: the reply's result (or WITHDRAWN)
-- Expand only: version 18 writes the new columns and `clock` as before, because version 17 and
-- older read `clock` (the scorecard's recomputation) while both run during a rolling upgrade.
-- Rows written before, or by an older version meanwhile, have the new columns null: readers
-- take `coalesce(<new column>, clock)` until the contract step. That step, in a later release,
-- fills the new columns of the old rows and drops `clock`, with `-- oldest-binary-schema: 18`
-- (docs/OPERATIONS.md, "Upgrading without stopping the ladder").
ALTER TABLE sla_decisions
    ADD COLUMN limit_kind        text,
    ADD COLUMN escalation_reason text,
    ADD COLUMN resolution_result text;
