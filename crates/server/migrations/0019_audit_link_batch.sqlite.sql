-- Nothing: SQLite keeps the row trigger of 0016 (0019_audit_link_batch.sql says why).
SELECT 1;
