-- Which task tiers a worker may take is decided per repo, from the worker's trust tier and the
-- repo's trust rules (0006); the per-worker copy of the default mapping was written and never read.
ALTER TABLE workers DROP COLUMN max_tier;
