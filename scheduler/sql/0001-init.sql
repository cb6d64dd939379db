-- OWP Pool schema, version 1. Times are integer milliseconds since the Unix epoch (UTC).

CREATE TABLE repos (
  key                TEXT PRIMARY KEY,
  max_open_prs       INTEGER NOT NULL,
  area_locks_enabled INTEGER NOT NULL,
  lease_ttl_ms       INTEGER,
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL
) STRICT;

-- Each distinct set of required skills gets an id, so the ready queue can be indexed by it and a
-- worker looks only at tasks whose whole skill set it holds (never scanning the ones it can't take).
CREATE TABLE skill_sets (
  id     INTEGER PRIMARY KEY,
  skills TEXT NOT NULL UNIQUE, -- sorted lower-case skills joined by newlines; '' is the empty set
  size   INTEGER NOT NULL
) STRICT;
INSERT INTO skill_sets (id, skills, size) VALUES (0, '', 0);

CREATE TABLE skill_set_members (
  skill  TEXT NOT NULL,
  set_id INTEGER NOT NULL REFERENCES skill_sets (id),
  PRIMARY KEY (skill, set_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX skill_set_members_by_set ON skill_set_members (set_id);

CREATE TABLE workers (
  id                   TEXT PRIMARY KEY,
  name                 TEXT NOT NULL,
  github_handle        TEXT,
  token_hash           TEXT NOT NULL UNIQUE,
  skills               TEXT NOT NULL, -- JSON array, as shown to people
  capacity_points      INTEGER NOT NULL,
  max_concurrent_tasks INTEGER NOT NULL,
  reported_status      TEXT NOT NULL DEFAULT 'idle',
  paused_by_admin      INTEGER NOT NULL DEFAULT 0,
  note                 TEXT,
  last_heartbeat_at    INTEGER,
  announced_online     INTEGER NOT NULL DEFAULT 0,
  trust_tier           TEXT NOT NULL,
  max_tier             INTEGER NOT NULL,
  points_in_use        INTEGER NOT NULL DEFAULT 0, -- kept by the trigger below
  active_tasks         INTEGER NOT NULL DEFAULT 0, -- kept by the trigger below
  reputation           REAL NOT NULL DEFAULT 0.5,
  tasks_completed      INTEGER NOT NULL DEFAULT 0,
  leases_expired       INTEGER NOT NULL DEFAULT 0,
  leases_released      INTEGER NOT NULL DEFAULT 0,
  registered_at        INTEGER NOT NULL
) STRICT;

-- Workers that could take more work, least loaded first: what task-first assignment walks.
CREATE INDEX workers_with_room ON workers (points_in_use, active_tasks, reputation DESC, id)
  WHERE active_tasks < max_concurrent_tasks AND points_in_use < capacity_points
    AND paused_by_admin = 0 AND reported_status <> 'paused';
CREATE INDEX workers_announced_online ON workers (last_heartbeat_at) WHERE announced_online = 1;

CREATE TABLE worker_skills (
  worker_id TEXT NOT NULL REFERENCES workers (id),
  skill     TEXT NOT NULL,
  PRIMARY KEY (worker_id, skill)
) STRICT, WITHOUT ROWID;

CREATE TABLE tasks (
  id               TEXT PRIMARY KEY,
  repo             TEXT NOT NULL REFERENCES repos (key),
  title            TEXT NOT NULL,
  description      TEXT NOT NULL,
  estimate_points  INTEGER NOT NULL,
  priority         INTEGER NOT NULL,
  skill_set_id     INTEGER NOT NULL REFERENCES skill_sets (id),
  area             TEXT,
  tier             INTEGER NOT NULL,
  status           TEXT NOT NULL,
  assignee         TEXT REFERENCES workers (id),
  lease_id         TEXT UNIQUE,
  lease_epoch      INTEGER NOT NULL DEFAULT 0, -- fencing token: grows on every grant
  lease_granted_at INTEGER,
  lease_expires_at INTEGER,
  lease_ttl_ms     INTEGER, -- the TTL of the current lease
  ttl_override_ms  INTEGER, -- per-task lease TTL setting
  artifact         TEXT,    -- JSON
  attempts         INTEGER NOT NULL DEFAULT 0,
  released_by      TEXT,
  released_at      INTEGER,
  version          INTEGER NOT NULL DEFAULT 1,
  created_at       INTEGER NOT NULL,
  updated_at       INTEGER NOT NULL
) STRICT;

-- The ready queue, one ordered run per (repo, skill set): a worker reads the head of each run it
-- is eligible for.
CREATE INDEX tasks_ready_queue
  ON tasks (repo, skill_set_id, priority DESC, estimate_points, created_at, id)
  WHERE status = 'ready';
-- The ready queue of one repo across skill sets: used when the repo's review budget frees up.
CREATE INDEX tasks_ready_by_repo ON tasks (repo, priority DESC, estimate_points, created_at, id)
  WHERE status = 'ready';
-- Area locks: tasks holding a lease in an area.
CREATE INDEX tasks_holding_area ON tasks (repo, area)
  WHERE status IN ('leased', 'in_progress', 'blocked') AND area IS NOT NULL;
-- Review budget use: tasks that are or may become an open PR.
CREATE INDEX tasks_in_budget ON tasks (repo, status)
  WHERE status IN ('leased', 'in_progress', 'blocked', 'pr_opened');
CREATE INDEX tasks_by_assignee ON tasks (assignee, status) WHERE assignee IS NOT NULL;
CREATE INDEX tasks_lease_expiry ON tasks (lease_expires_at) WHERE lease_expires_at IS NOT NULL;
CREATE INDEX tasks_by_status ON tasks (status, created_at, id);
CREATE INDEX tasks_by_created ON tasks (created_at, id);

-- A worker's load follows its tasks, whatever statement moves them.
CREATE TRIGGER tasks_worker_load AFTER UPDATE OF status, assignee, estimate_points ON tasks
WHEN OLD.status IN ('leased', 'in_progress', 'blocked')
  OR NEW.status IN ('leased', 'in_progress', 'blocked')
BEGIN
  UPDATE workers
     SET points_in_use = points_in_use - OLD.estimate_points, active_tasks = active_tasks - 1
   WHERE OLD.status IN ('leased', 'in_progress', 'blocked') AND id = OLD.assignee;
  UPDATE workers
     SET points_in_use = points_in_use + NEW.estimate_points, active_tasks = active_tasks + 1
   WHERE NEW.status IN ('leased', 'in_progress', 'blocked') AND id = NEW.assignee;
END;

-- Every lease ever granted: how stale lease ids are told from unknown ones, and the audit trail.
CREATE TABLE leases (
  id         TEXT PRIMARY KEY,
  task_id    TEXT NOT NULL REFERENCES tasks (id),
  worker_id  TEXT NOT NULL REFERENCES workers (id),
  epoch      INTEGER NOT NULL,
  granted_at INTEGER NOT NULL,
  ended_at   INTEGER,
  end_cause  TEXT
) STRICT;
CREATE INDEX leases_by_task ON leases (task_id, epoch);

CREATE TABLE events (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused, so Last-Event-ID is safe
  at        INTEGER NOT NULL,
  type      TEXT NOT NULL,
  repo      TEXT,
  task_id   TEXT,
  worker_id TEXT,
  data      TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_task ON events (task_id, seq) WHERE task_id IS NOT NULL;
CREATE INDEX events_by_worker ON events (worker_id, seq) WHERE worker_id IS NOT NULL;

-- Answers to mutating worker calls that carried an Idempotency-Key, replayed on retry.
CREATE TABLE idempotency_keys (
  worker_id   TEXT NOT NULL,
  key         TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  response    TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (worker_id, key)
) STRICT, WITHOUT ROWID;
CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
