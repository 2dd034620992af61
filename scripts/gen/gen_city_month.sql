-- A city's month generated directly in SQL, for the scorecard, forecast and what-if benchmarks:
-- :cases cases accepted in November 2026 at 3,000 estate units (300 communities, 30 streets),
-- ten events each (dispatches, signs, suspensions, extensions, replies, callbacks satisfied,
-- unsatisfied and unreachable, reopenings, returns redispatched to the community, withdrawals),
-- a fifth of them sign-overdue and escalated, a third warned.
--   psql -v cases=300000 -f scripts/gen/gen_city_month.sql DATABASE
-- Case i: accepted in November 2026, at an estate unit of 3,000 (300 communities, 30 streets).
CREATE TEMP TABLE g AS
SELECT i, '12345:BS' || i AS case_id,
       timestamptz '2026-11-01 00:00:00+08' + (i % 29) * interval '1 day' + (i % 50000) * interval '1 second' AS t0,
       'E' || (i % 3000) AS estate, 'C' || (i % 300) AS community, 'S' || (i % 30) AS street
FROM generate_series(1, :cases) i;

INSERT INTO cases (case_id, source, order_no, status, level, unit_code, unit_name, urgency, category_code,
                   category_name, accept_time, assigned_at, last_event_time, event_count, district_code)
SELECT case_id, '12345', 'BS' || i,
       CASE WHEN i % 50 = 7 THEN 'WITHDRAWN' WHEN i % 4 = 0 THEN 'REPLIED' ELSE 'CLOSED' END,
       'ESTATE', estate, estate || '物业服务中心', 'NORMAL', '0305', '物业管理/下水道堵塞', t0, t0, t0 + interval '5 days',
       10, '340111'
FROM g;

-- Ten events per case; the k-th is types[k], varied by i: a return redispatched to the community
-- (i % 10 = 1), an unsatisfied callback reopened and replied again (i % 4 = 0), a withdrawal (i % 50 = 7).
INSERT INTO case_events (case_id, event_no, event_key, type, event_time, level, unit_code, result, satisfaction,
                         topic, partition, "offset")
SELECT g.case_id, k, g.case_id || '#' || k,
       CASE WHEN i % 10 = 1 AND k = 2 THEN 'RETURN' WHEN i % 10 = 1 AND k = 3 THEN 'REDISPATCH'
            WHEN i % 50 = 7 AND k = 10 THEN 'WITHDRAW'
            WHEN i % 4 = 0 AND k = 9 THEN 'REOPEN' WHEN i % 4 = 0 AND k = 10 THEN 'REPLY'
            ELSE (ARRAY['DISPATCH', 'SIGN', 'SUSPEND', 'RESUME', 'EXTEND_APPLY', 'EXTEND_APPROVE', 'REPLY', 'VISIT',
                        'SUSPEND', 'RESUME'])[k] END,
       g.t0 + (k - 1) * interval '7 hours',
       CASE WHEN k = 1 THEN 'ESTATE' WHEN i % 10 = 1 AND k = 3 THEN 'COMMUNITY' END,
       CASE WHEN k = 1 THEN g.estate WHEN i % 10 = 1 AND k = 3 THEN g.community ELSE g.estate END,
       CASE WHEN k IN (7, 10) THEN (ARRAY['RESOLVED', 'RESOLVED', 'RESOLVED', 'EXPLAINED'])[1 + i % 4] END,
       CASE WHEN k = 8 THEN CASE WHEN i % 4 = 0 THEN 'UNSATISFIED' WHEN i % 20 = 1 THEN 'UNREACHABLE'
                                 WHEN i % 7 = 2 THEN 'BASICALLY_SATISFIED' ELSE 'SATISFIED' END END,
       'hotline.12345.workorders', i % 16, i * 10 + k
FROM g CROSS JOIN generate_series(1, 10) k;

-- A fifth of the cases go sign-overdue at their estate and climb to the street (the overdue
-- decision and its escalation); a third get a warning.
INSERT INTO sla_decisions (id, case_id, type, level, to_level, clock, decided_at, deadline, topic, unit_code,
                           to_unit_code, to_unit_name, resolved_by)
SELECT case_id || '/a1/SIGN/overdue', case_id, 'gridloop.case.supervision.overdue', 'ESTATE', NULL, 'SIGN',
       t0 + interval '2 hours', t0 + interval '2 hours', 'gridloop.supervision', estate, NULL, NULL, NULL
FROM g WHERE i % 5 = 2
UNION ALL
SELECT case_id || '/a1/SIGN/escalated', case_id, 'gridloop.case.escalated', 'ESTATE', 'COMMUNITY', 'SIGN_OVERDUE',
       t0 + interval '2 hours', t0 + interval '2 hours', 'gridloop.escalations', estate, community,
       community || '居委会', 'LEARNED'
FROM g WHERE i % 5 = 2
UNION ALL
SELECT case_id || '/a1/HANDLE/warning', case_id, 'gridloop.case.supervision.warning', 'ESTATE', NULL, 'HANDLE',
       t0 + interval '30 hours', t0 + interval '48 hours', 'gridloop.supervision', estate, NULL, NULL, NULL
FROM g WHERE i % 3 = 0;
ANALYZE cases; ANALYZE case_events; ANALYZE sla_decisions;
CHECKPOINT;
