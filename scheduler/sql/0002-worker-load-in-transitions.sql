-- A worker's load (points_in_use, active_tasks) is now kept by the engine in the same statement
-- sequence that moves the task (scheduler/worker-load.ts), instead of by a trigger: the trigger
-- ran two UPDATEs per status change and doubled the cost of every transition. The property tests
-- check after every command that the counters equal the sum over the worker's tasks.
DROP TRIGGER tasks_worker_load;
