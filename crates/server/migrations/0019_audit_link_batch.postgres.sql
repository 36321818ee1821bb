DROP TRIGGER audit_log_link ON audit_log;
DROP FUNCTION audit_log_link();
CREATE FUNCTION audit_log_link_batch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    broken integer;
    orgs integer;
    moved integer;
BEGIN
    -- Within each organisation, every entry after the first follows the one before it.
    SELECT count(*) INTO broken FROM (
        SELECT seq, prev_hash,
               lag(seq) OVER w AS before_seq,
               lag(hash) OVER w AS before_hash
        FROM added
        WINDOW w AS (PARTITION BY org_id ORDER BY seq)
    ) chain
    WHERE before_seq IS NOT NULL
      AND (seq <> before_seq + 1 OR prev_hash <> before_hash);
    IF broken > 0 THEN
        RAISE EXCEPTION 'audit chain head moved';
    END IF;
    -- The first follows the head, which moves to the last: once per organisation.
    SELECT count(DISTINCT org_id) INTO orgs FROM added;
    UPDATE audit_heads h
    SET seq = last.seq, hash = last.hash, updated_at = last.at
    FROM (SELECT DISTINCT ON (org_id) org_id, seq, prev_hash FROM added
          ORDER BY org_id, seq) first,
         (SELECT DISTINCT ON (org_id) org_id, seq, hash, at FROM added
          ORDER BY org_id, seq DESC) last
    WHERE h.org_id = first.org_id
      AND last.org_id = first.org_id
      AND h.seq = first.seq - 1
      AND h.hash = first.prev_hash;
    GET DIAGNOSTICS moved = ROW_COUNT;
    IF moved <> orgs THEN
        RAISE EXCEPTION 'audit chain head moved';
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER audit_log_link_batch AFTER INSERT ON audit_log
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_link_batch();
