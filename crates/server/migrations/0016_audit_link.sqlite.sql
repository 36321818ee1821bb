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
