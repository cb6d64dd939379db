-- Who caused each event: `admin`, `system` (the expiry sweep, grants, timers), or the id of the
-- worker whose own write it was. Events recorded before this migration keep a NULL actor: who
-- made them was never stored, and guessing would make the audit log lie.
ALTER TABLE events ADD COLUMN actor TEXT;

-- The audit log (GET /v1/audit/events) and repo analytics read the log by repo and by type, a
-- page at a time in sequence order. Actor and time range stay residual filters: actors are few
-- (admin, system, a handful of workers) and an index on `at` would be one more b-tree on the
-- hottest insert of all, for a read that is rare. Rejected for the same reason: (actor, seq).
CREATE INDEX events_by_repo ON events (repo, seq) WHERE repo IS NOT NULL;
CREATE INDEX events_by_type ON events (type, seq);
