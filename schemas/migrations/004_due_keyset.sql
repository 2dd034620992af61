-- Gridloop due-clock paging, version 4.
-- Firing reads the due clocks of a partition in pages, (next_due, case_id) after the last one
-- read, so that it can read the next page while the previous one commits. The index carries
-- case_id to make that a range scan.
CREATE INDEX case_clocks_due_keyset ON case_clocks (topic, partition, next_due, case_id) WHERE next_due IS NOT NULL;
DROP INDEX case_clocks_due;
