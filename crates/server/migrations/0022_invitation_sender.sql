-- Who may resend or withdraw an invitation (SECURITY.md): inviting is open to product and
-- profile admins, but another admin's invitation is not theirs to cancel or re-send.
-- The user id of the person or service account who sent the live token (a resend moves it).
-- NULL: sent by the operator, the server or a SCIM client, or before this column existed;
-- then only System admins may resend or withdraw it.
ALTER TABLE invitations ADD COLUMN sent_by TEXT;
