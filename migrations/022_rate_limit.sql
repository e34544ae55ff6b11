-- Request counts per client per window, shared by every server process (`sharedcare serve
-- --workers N`), so a client gets the same limit whichever process its requests land on.
-- UNLOGGED: a count is worth nothing after a crash, so it is neither written to the WAL nor sent
-- to standbys (after a failover every client starts a fresh window). key is a hash of the client
-- address, never the address itself; times are milliseconds since 1970 from the server's clock.
CREATE UNLOGGED TABLE rate_limit (
  key         text PRIMARY KEY,
  window_end  bigint NOT NULL,
  hits        integer NOT NULL
);
