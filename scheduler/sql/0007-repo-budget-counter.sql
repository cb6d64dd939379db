-- At 10,000 workers a pool has over a hundred repos (a review budget is at most 100), and picking
-- a worker's next task read one queue head per repo and skill set after counting each repo's
-- budget: hundreds of reads per pick. Now the budget in use is kept on the repo row (the engine's
-- single transition writer moves it with the task), and one ready queue per skill set spans the
-- repos, walked in order with each repo's rules checked per row.
ALTER TABLE repos ADD COLUMN budget_used INTEGER NOT NULL DEFAULT 0;
UPDATE repos SET budget_used = (
  SELECT COUNT(*) FROM tasks
   WHERE tasks.repo = repos.key
     AND tasks.status IN ('offered', 'leased', 'in_progress', 'blocked', 'pr_opened'));

CREATE INDEX tasks_ready_by_skill_set
  ON tasks (skill_set_id, priority DESC, estimate_points, created_at, id)
  WHERE status = 'ready' AND deps_pending = 0;
