-- The audit log's query indexes, maintained in batches outside the changes (issue 11).
--
-- Every change appends one entry in its own transaction; with four secondary indexes on the
-- log, each append dirtied six B-trees (plus the head), all written and synced at the change's
-- commit. The indexes by actor, target, action and time are now separate tables that a
-- background flush fills in batches (store/audit_index.rs). Each organisation's mark says
-- through which entry they are complete; a query reads them up to the mark and scans the short
-- unindexed tail after it directly, so results do not depend on when the flush ran.
--
-- The tables' definitions differ between the databases (SQLite stores them WITHOUT ROWID, and
-- rebuilds the log itself WITHOUT ROWID keyed by (org_id, seq): one B-tree fewer per entry), so
-- they are in 0017_audit_index.sqlite.sql and 0017_audit_index.postgres.sql, which also fill
-- them from the entries already there and drop the log's old indexes.
CREATE TABLE audit_index_marks (
    org_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);
