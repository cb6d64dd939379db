-- The event log's four read indexes (by task, worker, repo and type) put four index entries on
-- every event, two of them at random places (a task's, a worker's), and each commit then writes
-- those pages whole: at 10,000 workers and 100k tasks the server did 853–899 task cycles a second
-- with them and 1,071–1,079 without. They answered task histories, worker streams, the audit log
-- and analytics, which read far less often than the log is written.
--
-- In their place, blocks: for each run of 1,024 events (block b holds sequence numbers
-- b × 1024 + 1 … (b + 1) × 1024), one row per task, worker, repo and type that occurs in it, with
-- its sequence numbers there, keyed by block first: a block's rows are written together, when the
-- event that completes it is appended (scheduler/event-blocks.ts), at the end of the table — a few
-- pages, where the indexes wrote ~4,000 entries all over theirs. `event_keys` holds the block each
-- key first occurs in (written once per key; task ids grow with time, so at the end too). A keyed
-- read looks its key up in each block from there on and reads the events named by sequence number;
-- the events after the last complete block, fewer than 1,024, it reads by sequence number and
-- checks.
CREATE TABLE event_blocks (
  block INTEGER NOT NULL,
  key   TEXT NOT NULL,    -- 't:' task id, 'w:' worker id, 'r:' repo, 'y:' event type
  seqs  TEXT NOT NULL,    -- the block's sequence numbers with that key, ascending, comma-separated
  PRIMARY KEY (block, key)
) STRICT, WITHOUT ROWID;

CREATE TABLE event_keys (
  key         TEXT PRIMARY KEY,
  first_block INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- How many blocks are written (every event with seq <= built × size is in one), and how many
-- events a block holds: 1,024, or fewer in tests that set it on an empty log.
CREATE TABLE event_blocks_state (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  built INTEGER NOT NULL,
  size  INTEGER NOT NULL CHECK (size > 0)
) STRICT;

INSERT INTO event_blocks (block, key, seqs)
SELECT block, key, group_concat(seq, ',' ORDER BY seq)
FROM (
  SELECT 't:' || task_id AS key, (seq - 1) / 1024 AS block, seq FROM events
   WHERE task_id IS NOT NULL
  UNION ALL
  SELECT 'w:' || worker_id, (seq - 1) / 1024, seq FROM events WHERE worker_id IS NOT NULL
  UNION ALL
  SELECT 'r:' || repo, (seq - 1) / 1024, seq FROM events WHERE repo IS NOT NULL
  UNION ALL
  SELECT 'y:' || type, (seq - 1) / 1024, seq FROM events
)
WHERE seq <= (SELECT COALESCE(MAX(seq), 0) / 1024 * 1024 FROM events)
GROUP BY block, key;

INSERT INTO event_keys (key, first_block) SELECT key, MIN(block) FROM event_blocks GROUP BY key;

INSERT INTO event_blocks_state (id, built, size)
VALUES (1, (SELECT COALESCE(MAX(seq), 0) / 1024 FROM events), 1024);

DROP INDEX events_by_task;
DROP INDEX events_by_worker;
DROP INDEX events_by_repo;
DROP INDEX events_by_type;
