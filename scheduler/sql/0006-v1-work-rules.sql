-- OWP v1 work rules: retries and dead letters, dependencies, trust rules, the repo contract,
-- offers, and the outcome stats reputation is computed from.

-- Retries: after this many counted attempts (expiries and releases) a task goes to `failed`.
-- NULL on a repo: the engine's default; NULL on a task: its repo's.
ALTER TABLE repos ADD COLUMN max_attempts INTEGER;
ALTER TABLE tasks ADD COLUMN max_attempts INTEGER;

-- Trust rules: the highest task risk tier each worker trust tier may take in this repo, as JSON
-- ({"untrusted":0,"basic":1,"trusted":2,"maintainer":3}); NULL: the engine's default mapping.
ALTER TABLE repos ADD COLUMN trust_rules TEXT;
-- What a worker needs to work on the repo (setup, test and lint commands, branch naming, PR
-- template), as JSON; delivered with every lease and offer.
ALTER TABLE repos ADD COLUMN contract TEXT;
-- 'lease': ready work is granted; 'offer': it is offered, and the worker accepts or rejects it.
ALTER TABLE repos ADD COLUMN assignment TEXT NOT NULL DEFAULT 'lease';
ALTER TABLE repos ADD COLUMN offer_ttl_ms INTEGER;

-- A worker's trust tier as a rank (untrusted 0 … maintainer 3): task-first assignment compares
-- it with the lowest rank a repo's rules allow for the task's risk tier.
ALTER TABLE workers ADD COLUMN trust_rank INTEGER NOT NULL DEFAULT 1;
UPDATE workers SET trust_rank = CASE trust_tier
  WHEN 'untrusted' THEN 0 WHEN 'basic' THEN 1 WHEN 'trusted' THEN 2 ELSE 3 END;
-- Outcome stats beyond completions, expiries and releases (see reputationOf).
ALTER TABLE workers ADD COLUMN prs_opened INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN prs_on_time INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN tasks_requeued INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN offers_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN offers_rejected INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workers ADD COLUMN offers_expired INTEGER NOT NULL DEFAULT 0;

-- Dependencies: a task is eligible only when every task it depends on is merged.
-- `depends_on` (JSON, as shown) and `deps_pending` (how many are not merged yet) sit on the task
-- row, so the ready queue can leave waiting tasks out; the edge table answers "who waits on X".
ALTER TABLE tasks ADD COLUMN depends_on TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tasks ADD COLUMN deps_pending INTEGER NOT NULL DEFAULT 0;
CREATE TABLE task_dependencies (
  task_id    TEXT NOT NULL REFERENCES tasks (id),
  depends_on TEXT NOT NULL REFERENCES tasks (id),
  PRIMARY KEY (task_id, depends_on)
) STRICT, WITHOUT ROWID;
CREATE INDEX task_dependents ON task_dependencies (depends_on, task_id);

-- The ready queue holds only tasks that may be taken now.
DROP INDEX tasks_ready_queue;
CREATE INDEX tasks_ready_queue
  ON tasks (repo, skill_set_id, priority DESC, estimate_points, created_at, id)
  WHERE status = 'ready' AND deps_pending = 0;
DROP INDEX tasks_ready_by_repo;
CREATE INDEX tasks_ready_by_repo ON tasks (repo, priority DESC, estimate_points, created_at, id)
  WHERE status = 'ready' AND deps_pending = 0;

-- An offered task is reserved for its worker: it holds the worker's room, its area, and a place
-- in the review budget, like a lease does.
DROP INDEX tasks_holding_area;
CREATE INDEX tasks_holding_area ON tasks (repo, area)
  WHERE status IN ('offered', 'leased', 'in_progress', 'blocked') AND area IS NOT NULL;
DROP INDEX tasks_in_budget;
CREATE INDEX tasks_in_budget ON tasks (repo)
  WHERE status IN ('offered', 'leased', 'in_progress', 'blocked', 'pr_opened');

CREATE TABLE offers (
  id          TEXT PRIMARY KEY,
  task_id     TEXT NOT NULL REFERENCES tasks (id),
  worker_id   TEXT NOT NULL REFERENCES workers (id),
  offered_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  status      TEXT NOT NULL, -- open | accepted | rejected | expired | withdrawn
  reason      TEXT,          -- why it was rejected
  message     TEXT,
  resolved_at INTEGER
) STRICT;
CREATE INDEX offers_open_by_worker ON offers (worker_id, offered_at) WHERE status = 'open';
CREATE INDEX offers_open_by_expiry ON offers (expires_at) WHERE status = 'open';
CREATE INDEX offers_open_by_task ON offers (task_id) WHERE status = 'open';
-- The cool-down: a worker is not offered a task it rejected or let expire, for a while.
CREATE INDEX offers_declined ON offers (task_id, worker_id, resolved_at)
  WHERE status IN ('rejected', 'expired');
