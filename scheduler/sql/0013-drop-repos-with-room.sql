-- `repos_with_room` (0008) answered "which repos still have room" for the queue walk. Since the
-- engine remembers each repo's queue head and room between choices (QueueHeads, 2026-11-27), no
-- statement reads it; it was only kept up to date, on every change of a repo's budget count.
-- `repos_at_budget` stays: "is any repo full?" still reads it.
DROP INDEX IF EXISTS repos_with_room;
