-- A repo whose review budget is full can grant nothing, yet its ready tasks sit in the shared
-- ready queue of their skill set: a worker walking that queue stepped over every one of them
-- before finding (or not finding) a task it may take. With one repo whose budget is full, each
-- pick read the whole queue. These two partial indexes say at once whether any repo is full and
-- which repos still have room; a repo row moves between them only when its budget fills or frees.
CREATE INDEX repos_with_room ON repos (key) WHERE budget_used < max_open_prs;
CREATE INDEX repos_at_budget ON repos (key) WHERE budget_used >= max_open_prs;
