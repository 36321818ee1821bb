-- Delegated administration (issue 6): organisation kind and account owner.
ALTER TABLE organizations ADD COLUMN kind TEXT NOT NULL DEFAULT 'enterprise';
-- The contract owner (primary admin): cannot be removed before ownership is transferred.
ALTER TABLE organizations ADD COLUMN owner_user_id TEXT;
