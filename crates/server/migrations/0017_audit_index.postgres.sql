-- PostgreSQL part of 0017 (see 0017_audit_index.sql): the same index tables, filled from the
-- entries already there; the log keeps its primary key and loses its four secondary indexes.
CREATE TABLE audit_by_actor (
    org_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, actor_id, seq)
);
CREATE TABLE audit_by_target (
    org_id TEXT NOT NULL,
    target_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, target_id, seq)
);
CREATE TABLE audit_by_action (
    org_id TEXT NOT NULL,
    action TEXT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, action, seq)
);
CREATE TABLE audit_by_time (
    org_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    PRIMARY KEY (org_id, at, seq)
);
INSERT INTO audit_by_actor (org_id, actor_id, seq) SELECT org_id, actor_id, seq FROM audit_log;
INSERT INTO audit_by_target (org_id, target_id, seq) SELECT org_id, target_id, seq FROM audit_log;
INSERT INTO audit_by_action (org_id, action, seq) SELECT org_id, action, seq FROM audit_log;
INSERT INTO audit_by_time (org_id, at, seq) SELECT org_id, at, seq FROM audit_log;
INSERT INTO audit_index_marks (org_id, seq) SELECT org_id, MAX(seq) FROM audit_log GROUP BY org_id;
DROP INDEX audit_log_actor;
DROP INDEX audit_log_target;
DROP INDEX audit_log_action;
DROP INDEX audit_log_at;
