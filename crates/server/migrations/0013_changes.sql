-- One counter moved by every write transaction (store/changes.rs): nodes that keep
-- authentications and compiled rights in memory poll it as the safety net behind
-- PostgreSQL's LISTEN/NOTIFY, so a change made elsewhere is never missed for long.
CREATE TABLE change_counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);
INSERT INTO change_counter (id, n) VALUES (1, 0);
