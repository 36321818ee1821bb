-- The audit log's rows in a rowid table again on SQLite (issues 12 and 14). 0017 made the log
-- WITHOUT ROWID to save its primary key's B-tree. Such a table is an index B-tree: a row may
-- keep only about 1,000 bytes of a 4 KiB page in place, and its interior pages hold copies of
-- whole rows. A `user_created` entry (about 1,100 bytes: the new person's every field) spilled
-- into an overflow page of its own, almost empty, and interior pages held seven entries each:
-- 20,000 imported people made a 100 MiB log (2.5 KiB an entry), all of it written to the
-- write-ahead log and synced. As a rowid table the same log takes 31 MiB plus a 2 MiB key
-- index, and appending is twice as fast. PostgreSQL's heap has no such limit: nothing changes
-- there. The SQLite part is 0020_audit_log_rowid.sqlite.sql.
SELECT 1;
