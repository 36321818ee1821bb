-- Nothing: PostgreSQL's log is a heap table already (0020_audit_log_rowid.sql).
SELECT 1;
