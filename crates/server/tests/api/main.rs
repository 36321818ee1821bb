//! One integration-test binary: every test starts the real server on 127.0.0.1:0 against a real
//! database, once on SQLite (a temporary file) and once on PostgreSQL (a fresh database in the
//! cluster `scripts/test` starts). PostgreSQL tests fail, never skip, when no server is given.

#![allow(clippy::unwrap_used)]

mod admins;
mod audit; // issue 11: the one audit log
mod bulk_batch; // issue 12: the import's batches against row by row
mod bulk_changes; // issue 12: many users at once, a product removed
mod bulk_export; // issue 12: export and the round trip
mod bulk_import; // issue 12
mod bulk_kill; // issue 12: SIGKILL mid-import
mod contract; // every response checked against the OpenAPI document
mod helpers;
mod magento; // issue 12: Magento admins keep their passwords
mod multinode;
mod offboard; // issue 11: offboarding in one step
mod openapi; // the document: valid 3.1, house rules, shared errors answered
mod owner_takeover; // issue 9 item 10
mod reports; // issue 11: access reports

mod catalogue_and_scopes;
mod checks;
mod concurrency;
mod credentials;
mod cross_org; // issue 9 item 5: generated from the OpenAPI document
mod escalation; // issue 9: the escalation paths, over HTTP
mod groups_roles;
mod hardening; // issue 9 items 11 to 15
mod invitations; // "Get started" invitations
mod lockout; // issue 9 item 7
mod profiles;
mod revocation; // issue 13: memory gives way to every revocation at once
mod rights_property; // the rights invariant as a property (issue 9)
mod scim_client_library; // issue 14: the Python scim2-client
mod scim_filter_property; // issue 14: SQL and memory agree
mod scim_helpers;
mod scim_model; // issue 14: profile attributes and SCIM clients
mod scim_providers; // issue 14: Entra and Okta request sequences
mod scim_rules; // issue 14: SCIM under the same rules
mod secrets_at_rest; // issue 9 item 9
mod seed_notices; // issue 10: password classes, re-verification, account and rights mails
mod seed_rules; // issue 10: the seed rules that did not hold
mod signin;
mod snapshot_updates; // issue 14: incremental snapshot updates
mod user_lists; // issue 10: sorting, cursors and filters of the user list
mod users;
mod writer; // issue 9 items 6 and 8
