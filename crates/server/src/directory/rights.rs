//! The server half of the one rights rule: inside a use case's write transaction, load who is
//! acting (their admin rights), the people upstream of them (whoever delegated those rights, and
//! for an API credential the person who created it) and what each of those people holds, then ask
//! `rolecall_core::change::judge`. Every use case that writes goes through [`Directory::approve`]
//! and commits only with the [`Approved`] it returns.

use super::Directory;
use crate::directory::{OrgAdmin, Principal};
use crate::error::Result;
use crate::store::rights as rq;
use rolecall_core::admin::{AdminRight, Operation};
use rolecall_core::change::{
    answers_to_grantor, judge, Actor, Approved, Change, Provisioner, Reach,
};
use rolecall_core::model::{OrgId, UserId};
use sqlx::AnyConnection;

/// The walk up a delegation chain visits at most this many people. Nobody is lost beyond it:
/// each right stores its whole lineage when granted, and every person found is guarded, walked
/// or not.
const MAX_CHAIN: usize = 64;

impl Directory {
    /// Judges `change` for the admin acting through `admin`, with rights and holdings read in
    /// the caller's transaction (so a right revoked a moment ago no longer counts).
    pub(crate) async fn approve(
        &self,
        c: &mut AnyConnection,
        admin: &OrgAdmin,
        change: Change,
    ) -> Result<Approved> {
        let actor = self.actor(c, admin, std::slice::from_ref(&change)).await?;
        Ok(judge(&actor, change)?)
    }

    /// Judges several changes for one admin, loading the actor once (bulk operations).
    pub(crate) async fn approve_all(
        &self,
        c: &mut AnyConnection,
        admin: &OrgAdmin,
        changes: Vec<Change>,
    ) -> Result<Option<Approved>> {
        let actor = self.actor(c, admin, &changes).await?;
        let mut out: Option<Approved> = None;
        for change in changes {
            let ok = judge(&actor, change)?;
            out = Some(match out {
                None => ok,
                Some(prev) => prev.and(ok),
            });
        }
        Ok(out)
    }

    /// The acting admin as the core sees them, for judging `changes`. What the guarded people
    /// hold is loaded only when a change alters someone's access: `judge` compares holdings
    /// with effects and nothing else.
    pub(crate) async fn actor(
        &self,
        c: &mut AnyConnection,
        admin: &OrgAdmin,
        changes: &[Change],
    ) -> Result<Actor> {
        let b = self.backend();
        let org = admin.org.id;
        let has_effects = changes.iter().any(|ch| !ch.effects.is_empty());
        let user = match &admin.principal {
            Principal::Operator { .. } | Principal::Server { .. } | Principal::Policy { .. } => {
                return Ok(Actor::operator())
            }
            Principal::Scim {
                client, created_by, ..
            } => {
                // A SCIM client holds no admin rights; it acts by the provisioning column, on
                // the groups it created, and its creator is upstream of it.
                let mut own_groups = Vec::new();
                for ch in changes {
                    for r in &ch.reach {
                        if let Reach::Group(g) = r {
                            if rq::group_provisioned_by(&mut *c, b, *g).await?.as_deref()
                                == Some(client.as_str())
                                && !own_groups.contains(g)
                            {
                                own_groups.push(*g);
                            }
                        }
                    }
                }
                let mut guarded = Vec::new();
                if let (Some(creator), true) = (created_by, has_effects) {
                    guarded.push(rq::holdings(&mut *c, b, *creator).await?);
                    for up in self.upstream(c, org, *creator).await? {
                        guarded.push(rq::holdings(&mut *c, b, up).await?);
                    }
                }
                return Ok(Actor {
                    user: None,
                    rights: Vec::new(),
                    guarded,
                    provisioner: Some(Provisioner {
                        client: client.clone(),
                        own_groups,
                    }),
                });
            }
            Principal::Person(u, _) | Principal::Service { user: u, .. } => *u,
        };
        let rights: Vec<AdminRight> = crate::store::signin::admin_rights(&mut *c, b, org, user)
            .await?
            .iter()
            .filter_map(|(k, t)| AdminRight::from_row(k, t))
            .collect();
        let mut guarded = Vec::new();
        if has_effects {
            guarded.push(rq::holdings(&mut *c, b, user).await?);
            for up in self.upstream(c, org, user).await? {
                guarded.push(rq::holdings(&mut *c, b, up).await?);
            }
        }
        Ok(Actor {
            user: Some(user),
            rights,
            guarded,
            provisioner: None,
        })
    }

    /// Everyone whose delegation `user`'s authority comes from: the grantors of their
    /// non-System rights, the creator of their credential, and so on up the chain (`user`
    /// itself excluded), together with each right's stored lineage — who was upstream when it
    /// was granted — so revoking a link in the middle does not free the rest of the chain.
    pub(super) async fn upstream(
        &self,
        c: &mut AnyConnection,
        org: OrgId,
        user: UserId,
    ) -> Result<Vec<UserId>> {
        let b = self.backend();
        let mut found: Vec<UserId> = Vec::new();
        let mut todo = vec![user];
        let mut walked = 0;
        while let Some(next) = todo.pop() {
            if walked >= MAX_CHAIN {
                break;
            }
            walked += 1;
            let mut sources = Vec::new();
            if let Some(creator) = rq::credential_creator(&mut *c, b, next).await? {
                sources.push(creator);
            }
            let rows = rq::rights_with_lineage(&mut *c, b, org, next).await?;
            // A System admin's authority answers to no one: their grantors are peers.
            let system = rows.iter().any(|(k, t, _, _)| {
                AdminRight::from_row(k, t).is_some_and(|r| !answers_to_grantor(&r))
            });
            if !system {
                for (_, _, grantor, lineage) in rows {
                    sources.extend(grantor);
                    sources.extend(lineage);
                }
            }
            for s in sources {
                if s != user && !found.contains(&s) {
                    found.push(s);
                    todo.push(s);
                }
            }
        }
        Ok(found)
    }
}

/// Approval for what only the server's operator does (creating organisations, changing the
/// catalogue); the handler has already required a server-wide token.
pub(crate) fn operator_approval(op: Operation) -> Approved {
    match judge(
        &Actor::operator(),
        Change::new(op).reaching(Reach::Organization),
    ) {
        Ok(ok) => ok,
        // The operator holds System, which every operation allows; see core::admin.
        Err(e) => unreachable!("the operator may do everything: {e}"),
    }
}
