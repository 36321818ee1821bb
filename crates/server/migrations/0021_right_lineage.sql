-- Delegation that revocation cannot launder (second attacker review): everyone a right's
-- authority came from when it was granted — its grantor and the grantor's own upstream then —
-- as comma-separated user ids. `granted_by` alone forgets the chain as soon as a link in the
-- middle loses its right: A grants P, P grants Q, A revokes P, and Q's upstream no longer
-- reached A. The rights rule guards the union of the live chain and these.
-- Empty: granted by the operator, a System right, or granted before this column existed.
ALTER TABLE admin_rights ADD COLUMN lineage TEXT NOT NULL DEFAULT '';
