-- The audit chain's link, checked once per INSERT statement on PostgreSQL (issue 12). The
-- row trigger of 0016 moved the organisation's head once per entry: each move is a new version
-- of the one audit_heads row, which PostgreSQL cannot prune before the transaction ends, and
-- each next move walks the versions before it. A bulk import appends tens of thousands of
-- entries in one transaction, so its appends grew quadratic. The statement trigger in
-- 0019_audit_link_batch.postgres.sql checks the same rule over all the statement's rows (each
-- organisation's new entries follow its head and each other, no gap, no repeat, each
-- prev_hash the hash before it) and moves each head once. SQLite keeps 0016's row trigger:
-- it has no row versions to walk.
SELECT 1;
