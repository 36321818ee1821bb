-- SQLite part of 0017 (see 0017_audit_index.sql). The log becomes a WITHOUT ROWID table keyed by
-- (org_id, seq): an entry is one row in one B-tree instead of a row plus its primary key's.
CREATE TABLE audit_log_keyed (
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
) WITHOUT ROWID;
INSERT INTO audit_log_keyed (org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash)
SELECT org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash
FROM audit_log;
-- Drops the four secondary indexes and the link trigger with it; the trigger is recreated below,
-- unchanged (0016_audit_link.sqlite.sql).
DROP TABLE audit_log;
ALTER TABLE audit_log_keyed RENAME TO audit_log;
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

CREATE TABLE audit_by_actor (
    org_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, actor_id, seq)
) WITHOUT ROWID;
CREATE TABLE audit_by_target (
    org_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, target_id, seq)
) WITHOUT ROWID;
CREATE TABLE audit_by_action (
    org_id TEXT NOT NULL,
    action TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, action, seq)
) WITHOUT ROWID;
CREATE TABLE audit_by_time (
    org_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, at, seq)
) WITHOUT ROWID;
INSERT INTO audit_by_actor (org_id, actor_id, seq) SELECT org_id, actor_id, seq FROM audit_log;
INSERT INTO audit_by_target (org_id, target_id, seq) SELECT org_id, target_id, seq FROM audit_log;
INSERT INTO audit_by_action (org_id, action, seq) SELECT org_id, action, seq FROM audit_log;
INSERT INTO audit_by_time (org_id, at, seq) SELECT org_id, at, seq FROM audit_log;
INSERT INTO audit_index_marks (org_id, seq) SELECT org_id, MAX(seq) FROM audit_log GROUP BY org_id;
