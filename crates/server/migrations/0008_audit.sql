-- The one audit log (issue 11): every change of state in an organisation, written in the
-- transaction of the change, hash-chained per organisation (rolecall_core::audit). `seq` orders
-- entries for storage and paging; the chain itself is carried by `prev_hash`.
CREATE TABLE audit_log (
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
CREATE INDEX audit_log_actor ON audit_log (org_id, actor_id, seq);
CREATE INDEX audit_log_target ON audit_log (org_id, target_id, seq);
CREATE INDEX audit_log_action ON audit_log (org_id, action, seq);
CREATE INDEX audit_log_at ON audit_log (org_id, at);

-- One row per organisation: the chain head (last entry) and where the kept chain starts
-- (`first_seq`, whose entry must link to `anchor_hash`: the genesis or the last pruned entry).
-- Appenders lock this row (FOR UPDATE on PostgreSQL; the single writer on SQLite), which
-- serialises the writers of one organisation across nodes.
CREATE TABLE audit_heads (
    org_id TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    first_seq BIGINT NOT NULL,
    anchor_hash TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The old sign-in event log becomes the first entries of each chain (sealed by the server on
-- start: hashing needs Rust). Its rows named the user concerned, not who acted.
INSERT INTO audit_log (org_id, seq, id, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, target_name, changes, detail, source_ip, user_agent, request_id, prev_hash, hash)
SELECT org_id, ROW_NUMBER() OVER (PARTITION BY org_id ORDER BY at, id), id, at, 'unrecorded', '', '', kind,
       CASE WHEN user_id IS NULL THEN 'login' ELSE 'user' END, COALESCE(user_id, ''), '', '{}', detail, source_ip, user_agent, '', '', ''
FROM auth_events;
DROP TABLE auth_events;

INSERT INTO audit_heads (org_id, seq, hash, first_seq, anchor_hash, updated_at)
SELECT id, 0, '0000000000000000000000000000000000000000000000000000000000000000', 1, '0000000000000000000000000000000000000000000000000000000000000000', 0
FROM organizations;

-- Tombstones keep the whole name as it was, so "who did this?" is answerable years later.
ALTER TABLE deleted_users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE deleted_users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';
