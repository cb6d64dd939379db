-- Indexes whose key held `status` were rewritten on every status change, even on moves that keep
-- a task inside the index (leased → in_progress → blocked). Their partial WHERE already says which
-- statuses belong, so the key does not need the status: moves within the set now leave them alone.

-- Review budget use: COUNT(*) WHERE repo = ? AND status IN (…) reads this index alone.
DROP INDEX tasks_in_budget;
CREATE INDEX tasks_in_budget ON tasks (repo)
  WHERE status IN ('leased', 'in_progress', 'blocked', 'pr_opened');

-- A worker's live leases (GET /v1/work, heartbeat renewal): only the tasks it holds now, never
-- the history of everything it has finished.
DROP INDEX tasks_by_assignee;
CREATE INDEX tasks_held_by ON tasks (assignee)
  WHERE status IN ('leased', 'in_progress', 'blocked');
