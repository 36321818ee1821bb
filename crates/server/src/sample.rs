//! The sample organization `acme` that `rolecall serve --demo` creates on an empty store, so the
//! README's tour has something to look at.

use crate::directory::OrgAdmin;
use crate::directory::{Directory, NewRole, NewUser};
use crate::error::Result;
use rolecall_core::model::{ActionSet, Grant, Role};

pub struct Sample {
    pub org_slug: String,
    pub admin_email: String,
    pub admin_password: String,
}

pub async fn create(dir: &Directory) -> Result<Sample> {
    let org = dir.create_org("acme", "Acme Commerce").await?;
    let operator = OrgAdmin::operator(org.clone());
    let (admin, admin_password) = dir
        .bootstrap_admin(&org, "owner@acme.example", None)
        .await?;
    let patch = crate::directory::UserPatch {
        first_name: Some("Olivia".into()),
        last_name: Some("Owner".into()),
        ..Default::default()
    };
    let admin = dir
        .update_user(&operator, admin.id, patch, None, None, &Default::default())
        .await?;
    let all = |r: &str| Grant {
        resource: r.into(),
        actions: ActionSet::All,
    };
    dir.create_scope(
        &operator,
        "commerce-admin",
        "eu",
        Some("global"),
        "EU Website",
    )
    .await?;
    dir.create_scope(
        &operator,
        "commerce-admin",
        "eu_store",
        Some("eu"),
        "EU Store",
    )
    .await?;
    dir.create_scope(
        &operator,
        "commerce-admin",
        "eu_fr",
        Some("eu_store"),
        "French Store View",
    )
    .await?;
    let sales = dir
        .create_role(
            &operator,
            NewRole {
                application: "commerce-admin".into(),
                name: "Sales-Operations".into(),
                description: Some("Orders, invoices, shipments and credit memos".into()),
                grants: vec![
                    all("Magento_Sales::sales"),
                    all("Magento_Backend::dashboard"),
                ],
                scopes: vec![],
            },
        )
        .await?;
    let eu_content = dir
        .create_role(
            &operator,
            NewRole {
                application: "commerce-admin".into(),
                name: "EU-Content".into(),
                description: Some("CMS pages and blocks of the EU website only".into()),
                grants: vec![all("Magento_Cms::page"), all("Magento_Cms::block")],
                scopes: vec!["eu".into()],
            },
        )
        .await?;
    let sam = dir
        .create_user(
            &operator,
            NewUser {
                email: "sam@acme.example".into(),
                first_name: Some("Sam".into()),
                last_name: Some("Seller".into()),
                ..Default::default()
            },
        )
        .await?;
    dir.assign_role(&operator, sam.id, sales.id).await?;
    let group = dir
        .create_group(
            &operator,
            "Content team",
            Some("Editors of the EU storefront"),
        )
        .await?;
    let eve = dir
        .create_user(
            &operator,
            NewUser {
                email: "eve@acme.example".into(),
                first_name: Some("Eve".into()),
                last_name: Some("Editor".into()),
                ..Default::default()
            },
        )
        .await?;
    dir.add_member(&operator, group.id, eve.id).await?;
    dir.add_group_role(&operator, group.id, eu_content.id)
        .await?;
    let viewer: Option<Role> = dir
        .list_roles(&org, Some("cloud-project"), Some("viewer"))
        .await?
        .into_iter()
        .next();
    if let Some(viewer) = viewer {
        dir.add_group_role(&operator, group.id, viewer.id).await?;
    }
    // Seed 003: Spryker's back office gives roles through groups; agent assist is one of them.
    let agent_assist = dir
        .list_roles(&org, Some("spryker-back-office"), Some("agent assist"))
        .await?
        .into_iter()
        .next();
    if let Some(role) = agent_assist {
        let agents = dir
            .create_group(
                &operator,
                "Customer service",
                Some("Back Office agents who help customers on the Storefront"),
            )
            .await?;
        dir.add_group_role(&operator, agents.id, role.id).await?;
        dir.add_member(&operator, agents.id, sam.id).await?;
    }
    // Seed 000: Commerce as a Cloud Service licenses through its Default profile.
    let default = dir
        .list_profiles(&org, Some("commerce-cloud-service"))
        .await?
        .into_iter()
        .find(|p| p.profile.name.as_str() == "Default");
    if let Some(default) = default {
        dir.add_profile_user(&operator, default.profile.id, eve.id)
            .await?;
    }
    Ok(Sample {
        org_slug: org.slug.into_string(),
        admin_email: admin.email.into_string(),
        admin_password,
    })
}
