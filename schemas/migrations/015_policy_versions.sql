-- Gridloop policy versions, version 15.
-- Every clock records the version of the SLA policy its assignment started under (the
-- `policyVersion` of case_clocks.clock: the first 16 hex digits of the SHA-256 of the policy
-- file's text). Each version a daemon ran is kept here with the file's text, so that a clock's
-- limits can be traced to the policy that set them after a reload (`case show`), and read again.
CREATE TABLE policy_versions (
    version    text PRIMARY KEY,
    source     text NOT NULL,        -- the file, or `(built-in) deploy/policy.yaml`
    document   text NOT NULL,        -- the file's text
    first_used timestamptz NOT NULL DEFAULT now()
);
