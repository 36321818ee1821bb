//! Migration of Magento 2 admins (issue 12): roles with their resources and scopes, users with
//! their Magento password hashes signing in (and upgraded to Argon2id), lock state, inactive
//! users, unmapped rows reported, 2FA left behind.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::StatusCode;
use rolecall::auth::OrgAdmin;
use rolecall::directory::signin::ClientInfo;
use rolecall_bulk::{MagentoExport, MagentoTable};

const ROLES: &str = "role_id,parent_id,tree_level,sort_order,role_type,user_id,user_type,role_name,gws_is_all,gws_websites,gws_store_groups\n\
1,0,1,0,G,0,2,Administrators,1,,\n\
2,0,1,0,G,0,2,Sales Desk,0,1,\n\
3,1,2,0,U,1,2,admin,,,\n\
4,2,2,0,U,2,2,sara,,,\n\
5,2,2,0,U,3,2,otto,,,\n\
6,2,2,0,U,4,2,lena,,,\n\
7,0,1,0,G,0,2,Ghost Parent,1,,\n\
8,99,2,0,U,5,2,nobody,,,\n";

const RULES: &str = "rule_id,role_id,resource_id,privileges,permission\n\
1,1,Magento_Backend::all,,allow\n\
2,2,Magento_Sales::sales,,allow\n\
3,2,Magento_Sales::sales_order,,allow\n\
4,2,Vendor_Unknown::thing,,allow\n\
5,2,Magento_Cms::page,,deny\n";

const WEBSITES: &str = "website_id,code,name,sort_order,default_group_id,is_default\n\
0,admin,Admin,0,0,0\n\
1,eu,Europe,1,1,1\n";

const GROUPS: &str = "group_id,website_id,name,root_category_id,default_store_id,code\n\
0,0,Default,0,0,default\n\
1,1,EU Store,2,1,eu_store\n";

/// Users with real Magento hashes of the password `password` (Magento's EncryptorTest
/// vectors: sha256 v1, md5 upgraded to sha256 "0:1", and Argon2id v2).
const USERS: &str = "user_id,firstname,lastname,email,username,password,created,modified,logdate,lognum,reload_acl_flag,is_active,extra,rp_token,rp_token_created_at,interface_locale,failures_num,first_failure,lock_expires\n\
1,Ada,Admin,ada@shop.example,admin,13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322:salt:1,,,,0,0,1,,,,en_US,0,,\n\
2,Sara,Sales,sara@shop.example,sara,3b68ca4706cbae291455e4340478076c1e1618e742b6144cfcc3e50f648903e4:salt:0:1,,,,0,0,1,,,,en_US,0,,\n\
3,Otto,Old,otto@shop.example,otto,7640855aef9cb6ffd20229601d2904a2192e372b391db8230d7faf073b393e4c:salt:2,,,,0,0,0,,,,en_US,0,,\n\
4,Lena,Locked,lena@shop.example,lena,13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322:salt:1,,,,0,0,1,,,,en_US,0,,2999-01-01 00:00:00\n\
5,No,Body,nobody@shop.example,nobody,13601bda4ea78e55a07b98866d2be6be0744e3866f13c00c811cab608a28f322:salt:1,,,,0,0,1,,,,en_US,0,,\n";

fn plan() -> rolecall_bulk::MagentoPlan {
    let mut export = MagentoExport::new();
    for (table, csv) in [
        (MagentoTable::StoreWebsite, WEBSITES),
        (MagentoTable::StoreGroup, GROUPS),
        (MagentoTable::AuthorizationRole, ROLES),
        (MagentoTable::AuthorizationRule, RULES),
        (MagentoTable::AdminUser, USERS),
    ] {
        export.read(table, csv.as_bytes()).unwrap();
    }
    export.plan()
}

async fn sign_in(app: &TestApp, login: &str) -> StatusCode {
    app.sign_in(login, "password").await.status
}

async fn magento_admins_keep_their_passwords(b: Backend) {
    let app = spawn_app(b).await;
    app.without_2fa().await;
    let org = app.server.dir.org("acme").await.unwrap();
    let admin = OrgAdmin::operator(org);
    let client = ClientInfo::default();

    let dry = app
        .server
        .dir
        .import_magento(&admin, plan(), true, true, &client)
        .await
        .unwrap();
    assert!(!dry.committed);
    assert_eq!(app.get("/users?q=shop.example").await.body["total"], 0);

    let report = app
        .server
        .dir
        .import_magento(&admin, plan(), false, true, &client)
        .await
        .unwrap();
    assert!(report.committed, "{report:?}");
    let roles: Vec<(&str, &str)> = report
        .roles
        .iter()
        .map(|r| (r.name.as_str(), r.result.as_str()))
        .collect();
    assert!(
        roles.contains(&("Administrators", "unchanged")),
        "{roles:?}"
    );
    assert!(roles.contains(&("Sales Desk", "created")), "{roles:?}");
    let sales = report
        .roles
        .iter()
        .find(|r| r.name == "Sales Desk")
        .unwrap();
    assert_eq!(sales.left_out, ["Vendor_Unknown::thing"]);
    assert!(
        report.scopes_created.contains(&"eu".to_string()),
        "{report:?}"
    );
    // The user of an unknown parent role and the role of a missing user are reported.
    assert!(
        report
            .unmapped
            .iter()
            .any(|u| u.table == "authorization_role"),
        "{report:?}"
    );
    assert!(report.notices.iter().any(|n| n.contains("enrols again")));
    let users: Vec<(&str, &str)> = report
        .users
        .iter()
        .map(|r| (r.name.as_str(), r.result.as_str()))
        .collect();
    assert_eq!(
        users,
        [
            ("admin", "created"),
            ("sara", "created"),
            ("otto", "created"),
            ("lena", "created")
        ],
        "{report:?}"
    );

    // The role is limited to the website and holds the resources.
    let r = app.get("/roles?application=commerce-admin&q=Sales").await;
    let role = &r.body["items"][0];
    assert_eq!(role["scopes"], serde_json::json!(["eu"]), "{role}");

    // Real Magento hashes of "password" sign in, and are upgraded to Argon2id.
    assert_eq!(sign_in(&app, "admin").await, StatusCode::OK);
    assert_eq!(sign_in(&app, "sara@shop.example").await, StatusCode::OK);
    assert_ne!(
        app.sign_in("sara", "wrong password").await.status,
        StatusCode::OK
    );
    let stored: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'sara'")
            .fetch_one(&app.server.dir.db.pool)
            .await
            .unwrap();
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert_eq!(
        sign_in(&app, "sara").await,
        StatusCode::OK,
        "the upgraded hash works"
    );
    // Inactive and locked accounts stay shut.
    assert_ne!(sign_in(&app, "otto").await, StatusCode::OK);
    assert_ne!(sign_in(&app, "lena").await, StatusCode::OK);
    let otto = app.get("/users?q=otto").await;
    assert_eq!(otto.body["items"][0]["status"], "inactive");

    // Again: nothing new.
    let again = app
        .server
        .dir
        .import_magento(&admin, plan(), false, true, &client)
        .await
        .unwrap();
    assert!(
        again.users.iter().all(|u| u.result == "unchanged"),
        "{again:?}"
    );
    assert!(
        again.roles.iter().all(|u| u.result == "unchanged"),
        "{again:?}"
    );
}
both!(magento_admins_keep_their_passwords);
