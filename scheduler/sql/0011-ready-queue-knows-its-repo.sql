-- A repo whose review budget is full grants nothing, but its ready tasks stay in the ready queue of
-- their skill set, and since nobody takes them, they pile up at its front. A worker walking that
-- queue while more repos have room than it reads one by one stepped over each of them, and every
-- step read the task's row and its repo's (~1 µs): 230–340 µs per pick at 10,000 workers. With the
-- repo in the index, the walk skips the tasks of full repos from the index entry alone.
DROP INDEX tasks_ready_by_skill_set;
CREATE INDEX tasks_ready_by_skill_set
  ON tasks (skill_set_id, priority DESC, estimate_points, created_at, id, repo)
  WHERE status = 'ready' AND deps_pending = 0;
