-- audit: the chain head an append advances is found by its key, never by scanning the table.
--
-- audit_chain_head holds 17 rows, each updated on every event of its chain (a hundred a second on
-- a busy region). The planner, seeing a table of one or two pages, scanned it whole for each
-- append's UPDATE. But every update leaves the row's old version behind until the page is pruned
-- or vacuumed, and the table grows by pages of dead versions between vacuums (11 pages for 17 rows
-- after a few minutes of the soak; without autovacuum it never shrinks): each append then read
-- every page and every dead version, and the UPDATE's time rose through a ten-minute soak from
-- 0.15 to 0.34 ms (pg_stat_statements, BENCHMARKS.md). By its primary key the UPDATE reads the
-- one row's version chain, whatever the table's size.
--
-- Set on the function, so it holds for the statements inside it only (as enable_bitmapscan, 025).
ALTER FUNCTION audit_append(text, timestamptz, text, text, text, text, uuid, timestamptz)
  SET enable_seqscan = off;
