//! Every operation of the REST API (by its OpenAPI `operationId`) and the `rolecall` command
//! that performs it, so the command line can do whatever the API can. `tests/cli.rs`
//! (`every_api_operation_has_a_command`) walks the served document: an operation missing here,
//! an entry naming an operation that no longer exists, or a command path clap does not accept
//! fails it. Add a line here with every new endpoint.

/// How an operation is reached from the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Performed {
    /// By this command (the words after `rolecall`, then its own options and arguments).
    By(&'static str),
    /// Deliberately not by a command of its own; says why.
    NotByCommand(&'static str),
}

/// (operationId, how the CLI performs it), grouped like the API's tags.
pub const OPERATIONS: &[(&str, Performed)] = &[
    // Health and the document itself.
    ("healthz", Performed::By("health")),
    ("readyz", Performed::By("ready")),
    ("openapi_document", Performed::By("openapi")), // `--url` fetches the served one
    // Organizations.
    ("list_orgs", Performed::By("orgs list")),
    ("create_org", Performed::By("orgs create")),
    ("get_org", Performed::By("orgs get")),
    ("update_org", Performed::By("orgs update")),
    ("get_settings", Performed::By("settings show")),
    ("put_settings", Performed::By("settings set")),
    // Applications and scopes.
    ("list_apps", Performed::By("apps list")),
    ("get_app", Performed::By("apps get")),
    ("put_app", Performed::By("apps put")),
    ("list_scopes", Performed::By("scopes list")),
    ("create_scope", Performed::By("scopes create")),
    ("delete_scope", Performed::By("scopes delete")),
    // Signing in: `login` walks a session through every step it needs.
    ("sign_in", Performed::By("login")),
    ("second_factor", Performed::By("login")), // --code / --recovery-code, or asked for
    ("totp_enrolment", Performed::By("login")), // first sign-in where 2FA is required
    ("totp_confirm", Performed::By("login")),
    ("sign_out", Performed::By("logout")),
    ("me", Performed::By("whoami")),
    ("change_password", Performed::By("me password")), // also `login` with an expired one
    ("reverify", Performed::By("me reverify")),        // also `--reverify` on any change
    ("my_sessions", Performed::By("me sessions")),
    ("end_my_session", Performed::By("me end-session")),
    ("request_reset", Performed::By("password-reset request")),
    ("confirm_reset", Performed::By("password-reset confirm")),
    // Users.
    ("list_users", Performed::By("users list")),
    ("create_user", Performed::By("users create")),
    ("get_user", Performed::By("users get")),
    ("update_user", Performed::By("users update")), // and `users deactivate|reactivate`
    ("delete_user", Performed::By("users delete")),
    ("list_user_roles", Performed::By("users roles")),
    ("assign_role", Performed::By("assign")),
    ("unassign_role", Performed::By("unassign")),
    ("user_products", Performed::By("users products")),
    ("remove_product", Performed::By("users remove-product")),
    ("effective_permissions", Performed::By("users permissions")),
    ("set_user_password", Performed::By("users set-password")),
    ("offboard", Performed::By("users offboard")),
    ("import_users", Performed::By("users import")),
    ("export_users", Performed::By("users export")),
    // Invitations.
    ("invite", Performed::By("invitations create")),
    ("list_invitations", Performed::By("invitations list")),
    ("resend", Performed::By("invitations resend")),
    ("withdraw", Performed::By("invitations withdraw")),
    ("accept", Performed::By("invitations accept")),
    // Groups.
    ("list_groups", Performed::By("groups list")),
    ("create_group", Performed::By("groups create")),
    ("get_group", Performed::By("groups get")),
    ("update_group", Performed::By("groups update")),
    ("delete_group", Performed::By("groups delete")),
    ("list_members", Performed::By("groups members")),
    ("add_member", Performed::By("groups add-member")),
    ("add_members_batch", Performed::By("groups add-member")), // several users
    ("remove_member", Performed::By("groups remove-member")),
    ("list_group_roles", Performed::By("groups roles")),
    ("add_group_role", Performed::By("groups add-role")),
    ("remove_group_role", Performed::By("groups remove-role")),
    // Roles and checks.
    ("list_roles", Performed::By("roles list")),
    ("create_role", Performed::By("roles create")),
    ("get_role", Performed::By("roles get")),
    ("update_role", Performed::By("roles update")),
    ("delete_role", Performed::By("roles delete")),
    ("assign_role_batch", Performed::By("roles add-users")),
    ("get_grants", Performed::By("roles grants")),
    ("put_grants", Performed::By("roles set-grants")), // and `roles grant|ungrant`
    ("check", Performed::By("check")),
    ("check_batch", Performed::By("check-batch")),
    // Product profiles.
    ("products", Performed::By("products")),
    ("application_profiles", Performed::By("apps profiles")),
    ("list_profiles", Performed::By("profiles list")),
    ("create_profile", Performed::By("profiles create")),
    ("get_profile", Performed::By("profiles get")),
    ("update_profile", Performed::By("profiles update")),
    ("delete_profile", Performed::By("profiles delete")),
    ("list_profile_users", Performed::By("profiles users")),
    ("add_profile_user", Performed::By("profiles add-user")),
    (
        "add_profile_users_batch",
        Performed::By("profiles add-user"),
    ), // several users
    ("remove_profile_user", Performed::By("profiles remove-user")),
    ("list_profile_groups", Performed::By("profiles groups")),
    ("add_profile_group", Performed::By("profiles add-group")),
    (
        "remove_profile_group",
        Performed::By("profiles remove-group"),
    ),
    // Administrators.
    ("list_admins", Performed::By("admins list")),
    ("user_rights", Performed::By("admins rights")),
    ("grant_right", Performed::By("admins grant")),
    ("revoke_right", Performed::By("admins revoke")),
    ("get_owner", Performed::By("owner show")),
    ("transfer_owner", Performed::By("owner transfer")),
    // API credentials and SCIM clients.
    ("list_credentials", Performed::By("credentials list")),
    ("create_credential", Performed::By("credentials create")),
    ("get_credential", Performed::By("credentials get")),
    ("revoke_credential", Performed::By("credentials revoke")),
    ("list_scim_clients", Performed::By("scim-clients list")),
    ("create_scim_client", Performed::By("scim-clients create")),
    ("get_scim_client", Performed::By("scim-clients get")),
    ("revoke_scim_client", Performed::By("scim-clients revoke")),
    // Sign-in administration.
    ("user_sessions", Performed::By("sessions list")),
    ("end_user_sessions", Performed::By("sessions end")), // without a session id
    ("end_user_session", Performed::By("sessions end")),  // with a session id
    ("reset_user_2fa", Performed::By("2fa reset")),       // one user
    ("bulk_reset_2fa", Performed::By("2fa reset")),       // several users
    ("list_locks", Performed::By("locks list")),
    ("unlock_user", Performed::By("locks lift")),
    ("auth_events", Performed::By("events")),
    // Reports.
    ("stale_accounts", Performed::By("reports stale")),
    ("deactivate_stale", Performed::By("reports stale")), // with --deactivate
    ("review_user", Performed::By("reports user")),
    ("review_application", Performed::By("reports application")),
    ("review_profile", Performed::By("reports profile")),
    ("seat_usage", Performed::By("reports seats")),
    // The audit log.
    ("list", Performed::By("audit list")),
    ("export", Performed::By("audit export")),
    ("head", Performed::By("audit head")),
    ("verify", Performed::By("audit verify")),
    ("prune", Performed::By("audit prune")),
];

/// The command that performs `operation_id`, if the table names one.
pub fn command_for(operation_id: &str) -> Option<Performed> {
    OPERATIONS
        .iter()
        .find(|(id, _)| *id == operation_id)
        .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn each_operation_is_listed_once_and_exceptions_say_why() {
        let mut seen = HashSet::new();
        for (id, performed) in OPERATIONS {
            assert!(seen.insert(*id), "{id} is listed twice");
            match performed {
                Performed::By(cmd) => assert!(
                    !cmd.trim().is_empty() && !cmd.starts_with("rolecall"),
                    "{id}: name the words after `rolecall`"
                ),
                Performed::NotByCommand(why) => {
                    assert!(why.len() > 20, "{id}: say why it has no command")
                }
            }
        }
        assert_eq!(
            command_for("invite"),
            Some(Performed::By("invitations create"))
        );
        assert_eq!(command_for("no_such_operation"), None);
    }
}
