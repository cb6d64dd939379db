-- Every heartbeat moved this index's key (last_heartbeat_at), and heartbeats are the most
-- frequent write of all. The one reader, the sweep that marks silent workers offline, reads the
-- workers announced online, which it can find through a partial index that heartbeats do not touch.
DROP INDEX workers_announced_online;
CREATE INDEX workers_announced ON workers (id) WHERE announced_online = 1;
