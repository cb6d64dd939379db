-- `GET /v1/tasks` (the dashboard, `owp admin tasks`) pages through tasks in creation order. A
-- listing by repo, assignee or area walked the creation-order index and skipped every task that
-- did not match: 77 ms for one worker's tasks at 100,000 tasks, 10 ms for a page of one repo's
-- among 125 repos. Each of these reads its matches in order. The repo never changes after a task
-- is created; the assignee is written once per grant and the area on an edit, and status changes
-- (the hot path) touch none of them.
CREATE INDEX tasks_by_repo ON tasks (repo, created_at, id);
CREATE INDEX tasks_by_assignee ON tasks (assignee, created_at, id) WHERE assignee IS NOT NULL;
CREATE INDEX tasks_by_area ON tasks (area, created_at, id) WHERE area IS NOT NULL;
