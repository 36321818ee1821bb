-- Nothing: SQLite's existing indexes already compare by code point (0018_scim_lookup.sql).
SELECT 1;
