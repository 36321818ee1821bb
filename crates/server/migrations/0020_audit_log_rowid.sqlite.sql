-- SQLite part of 0020 (see 0020_audit_log_rowid.sql): the log as a rowid table whose
-- (org_id, seq) key is a unique index, filled in the chain's order. Dropping the old table drops
-- its link trigger; it is recreated below, unchanged (0016_audit_link.sqlite.sql).
CREATE TABLE audit_log_rows (
    org_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    id TEXT NOT NULL,
    at BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    target_name TEXT NOT NULL,
    changes TEXT NOT NULL,
    detail TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    request_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (org_id, seq)
);
INSERT INTO audit_log_rows (org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash)
SELECT org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash
FROM audit_log ORDER BY org_id, seq;
DROP TABLE audit_log;
ALTER TABLE audit_log_rows RENAME TO audit_log;
CREATE TRIGGER audit_log_link BEFORE INSERT ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit chain head moved')
    WHERE NOT EXISTS (
        SELECT 1 FROM audit_heads
        WHERE org_id = NEW.org_id AND seq = NEW.seq - 1 AND hash = NEW.prev_hash
    );
    UPDATE audit_heads SET seq = NEW.seq, hash = NEW.hash, updated_at = NEW.at
    WHERE org_id = NEW.org_id;
END;
