-- Delegation that cannot leak (issue 9): who handed out each admin right. An admin's authority
-- never reaches the access of the people it came from (core::change), so the chain is stored.
-- NULL: granted by the operator (init, --demo, a server or organisation token).
ALTER TABLE admin_rights ADD COLUMN granted_by TEXT;
