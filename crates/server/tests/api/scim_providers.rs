//! Issue 14: the exact request sequences Microsoft Entra ID and Okta send, against the real
//! server on both databases.

use crate::both;
use crate::helpers::{spawn_app, Backend};
use crate::scim_helpers::{patch_op, scim_client};
use reqwest::{Method, StatusCode};
use serde_json::json;

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

both!(entra_user_provisioning);
async fn entra_user_provisioning(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "entra").await;
    // "Test connection": a random id, 200 with an empty list.
    let r = scim
        .find(
            "Users",
            "userName eq \"ad6d0a0d-8a25-4c9f-a9b1-0e1e8a4e7f31\"",
            "",
        )
        .await;
    assert_eq!(
        (
            r["totalResults"].as_u64(),
            r["Resources"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let r = scim
        .find("Users", "userName eq \"non-existent user\"", "")
        .await;
    assert_eq!(r["totalResults"], 0);

    let created = scim
        .post(
            "/Users",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
                "active": true,
                "emails": [{"primary": true, "type": "work", "value": "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"}],
                "meta": {"resourceType": "User"},
                "name": {"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
                "roles": []
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = created.id();
    assert!(created
        .header("location")
        .ends_with(&format!("/scim/v2/Users/{id}")));
    assert_eq!(
        created.header("etag"),
        created.body["meta"]["version"].as_str().unwrap()
    );
    assert_eq!(created.body["active"], true);
    assert_eq!(created.body["name"]["givenName"], "givenName");
    assert_eq!(created.body["meta"]["resourceType"], "User");

    // Provisioned users are Federated IDs, marked as provisioned by the client.
    let rest = app.get(&format!("/users/{id}")).await;
    assert_eq!(rest.body["identity_type"], "federated_id");
    assert_eq!(
        rest.body["provisioned_by"].as_str(),
        Some(scim.client_id.as_str())
    );
    assert_eq!(
        rest.body["email"],
        "Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"
    );

    // Matching by userName (case-insensitively), externalId and the non-RFC e-mail filter.
    for filter in [
        "userName eq \"TEST_USER_ab6490ee-1e48-479e-a20b-2d77186b5dd1\"",
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"",
        "emails[type eq \"work\"].value eq \"test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com\"",
    ] {
        let r = scim.find("Users", filter, "").await;
        assert_eq!(r["totalResults"], 1, "{filter}");
        assert_eq!(r["Resources"][0]["id"], id.as_str(), "{filter}");
    }
    assert_eq!(
        scim.find(
            "Users",
            "externalId eq \"0A21F0F2-8D2A-4F8E-BF98-7363C4AED4EF\"",
            ""
        )
        .await["totalResults"],
        0,
        "externalId is case-exact"
    );
    let got = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(got.status, StatusCode::OK);

    // Update: one op per attribute, capitalised ops.
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
                {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["emails"][0]["value"], "updatedEmail@microsoft.com");
    assert_eq!(r.body["name"]["familyName"], "updatedFamilyName");
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["email"],
        "updatedEmail@microsoft.com"
    );
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([
                {"op": "Replace", "path": "userName", "value": "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}
            ])),
        )
        .await;
    assert_eq!(
        r.body["userName"],
        "5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"
    );
    // The enterprise extension by full URN, the manager as a bare id.
    let manager = scim
        .post(
            "/Users",
            json!({"userName": "boss@testuser.com", "emails": [{"value": "boss@testuser.com", "type": "work", "primary": true}]}),
        )
        .await
        .id();
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([
                {"op": "Add", "path": format!("{ENT}:department"), "value": "Sales"},
                {"op": "Add", "path": format!("{ENT}:manager"), "value": manager},
                {"op": "Add", "path": "addresses[type eq \"work\"].locality", "value": "Redmond"}
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body[ENT]["department"], "Sales");
    assert_eq!(r.body[ENT]["manager"]["value"], manager.as_str());
    assert_eq!(r.body["addresses"][0]["locality"], "Redmond");
    let r = scim
        .find(
            "Users",
            &format!("{ENT}:manager.value eq \"{manager}\""),
            "",
        )
        .await;
    assert_eq!(r["totalResults"], 1);
    // aadOptscim062020: a path-less replace with dotted and URN-prefixed keys.
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{
                "op": "replace",
                "value": {
                    "displayName": "Babs Jensen",
                    "name.givenName": "Babs",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
                    "emails[type eq \"work\"].value": "babs@testuser.com"
                }
            }])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["displayName"], "Babs Jensen");
    assert_eq!(r.body["name"]["givenName"], "Babs");
    assert_eq!(r.body[ENT]["employeeNumber"], "701984");
    assert_eq!(r.body[ENT]["department"], "Sales");

    // Unassigning sends active "False" (a string): a soft delete, still returned.
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["active"]),
        (StatusCode::OK, &json!(false))
    );
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["status"],
        "inactive"
    );
    assert_eq!(
        scim.get(&format!("/Users/{id}")).await.body["active"],
        false
    );
    assert_eq!(
        scim.find("Users", "active eq false", "").await["totalResults"],
        1
    );
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "Replace", "path": "active", "value": "True"}])),
        )
        .await;
    assert_eq!(r.body["active"], true);
    assert_eq!(
        app.get(&format!("/users/{id}")).await.body["status"],
        "active"
    );

    // Hard delete.
    assert_eq!(
        scim.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NO_CONTENT
    );
    let r = scim.get(&format!("/Users/{id}")).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(
        scim.delete(&format!("/Users/{id}")).await.status,
        StatusCode::NOT_FOUND
    );
}

both!(entra_group_provisioning);
async fn entra_group_provisioning(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "entra").await;
    let mut users = Vec::new();
    for n in 0..3 {
        let r = scim
            .post(
                "/Users",
                json!({"userName": format!("u{n}@contoso.example"), "active": true,
                       "emails": [{"primary": true, "type": "work", "value": format!("u{n}@contoso.example")}]}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        users.push(r.id());
    }
    let r = scim
        .post(
            "/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group", "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName",
                "meta": {"resourceType": "Group"}
            }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let gid = r.id();
    let r = scim
        .get(&format!("/Groups/{gid}?excludedAttributes=members"))
        .await;
    assert_eq!(
        (r.status, r.body["displayName"].as_str()),
        (StatusCode::OK, Some("displayName"))
    );
    let r = scim
        .find(
            "Groups",
            "displayName eq \"displayName\"",
            "&excludedAttributes=members",
        )
        .await;
    assert_eq!(r["totalResults"], 1);
    assert!(r["Resources"][0].get("members").is_none());

    // Group PATCH answers 204.
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "Replace", "path": "displayName", "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "Add", "path": "members", "value": [
                {"$ref": null, "value": users[0]}, {"$ref": null, "value": users[1]}, {"$ref": null, "value": users[2]}
            ]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": users[1]}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let g = scim.get(&format!("/Groups/{gid}")).await;
    // Members who joined in one PATCH share a join time, so their order is by id: compare as sets.
    let mut members: Vec<&str> = g.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    members.sort_unstable();
    let mut expected = vec![users[0].as_str(), users[2].as_str()];
    expected.sort_unstable();
    assert_eq!(members, expected);
    assert_eq!(
        g.body["displayName"],
        "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
    );
    let r = scim
        .find("Groups", &format!("members[value eq \"{}\"]", users[2]), "")
        .await;
    assert_eq!(r["totalResults"], 1);
    let r = scim
        .find("Users", &format!("groups.value eq \"{gid}\""), "")
        .await;
    assert_eq!(r["totalResults"], 2);
    // The REST API sees the same membership.
    let rest = app.get(&format!("/users?group={gid}")).await;
    assert_eq!(rest.body["total"], 2);
    // The audit log records each change as the SCIM client that made it.
    let log = app
        .get(&format!("/audit?target={}&limit=100", users[1]))
        .await;
    let entries = log.body["items"].as_array().unwrap();
    let actions: Vec<&str> = entries
        .iter()
        .rev()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["user_created", "member_added", "member_removed"],
        "{}",
        log.body
    );
    for e in entries {
        assert_eq!(e["actor"]["kind"], "scim_client", "{e}");
        assert_eq!(e["actor"]["id"], scim.client_id.as_str());
        assert_eq!(e["actor"]["name"], "entra");
    }
    assert_eq!(
        scim.delete(&format!("/Groups/{gid}")).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        scim.get(&format!("/Groups/{gid}")).await.status,
        StatusCode::NOT_FOUND
    );
}

both!(okta_provisioning);
async fn okta_provisioning(b: Backend) {
    let app = spawn_app(b).await;
    let scim = scim_client(&app, "okta").await;
    let r = scim
        .find(
            "Users",
            "userName eq \"test.user@okta.local\"",
            "&startIndex=1&count=100",
        )
        .await;
    assert_eq!(r["totalResults"], 0);
    let user_body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "test.user@okta.local",
        "name": {"givenName": "Test", "familyName": "User"},
        "emails": [{"primary": true, "value": "test.user@okta.local", "type": "work"}],
        "displayName": "Test User",
        "locale": "en-US",
        "externalId": "00ujl29u0le5T6Aj10h7",
        "groups": [],
        "password": "1mz050nq",
        "active": true
    });
    let r = scim.post("/Users", user_body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.id();
    assert_eq!(r.body["locale"], "en-US");
    assert!(r.body.get("password").is_none());
    // A second create of the same userName is a uniqueness conflict.
    let dup = scim.post("/Users", user_body).await;
    assert_eq!(
        (dup.status, dup.body["scimType"].as_str()),
        (StatusCode::CONFLICT, Some("uniqueness"))
    );
    let r = scim
        .find(
            "Users",
            "userName eq \"test.user@okta.local\"",
            "&startIndex=1&count=100",
        )
        .await;
    assert_eq!(r["totalResults"], 1);

    // Update: GET, then a full PUT including id.
    let mut full = scim.get(&format!("/Users/{id}")).await.body;
    full["name"]["givenName"] = json!("Another");
    full["displayName"] = json!("Another User");
    full["password"] = json!("1mz050nq");
    let r = scim.put(&format!("/Users/{id}"), full).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["name"]["givenName"], "Another");
    assert_eq!(r.body["id"], id.as_str());

    // Deactivation: a path-less replace; Okta never deletes.
    let r = scim
        .patch(
            &format!("/Users/{id}"),
            patch_op(json!([{"op": "replace", "value": {"active": false}}])),
        )
        .await;
    assert_eq!(
        (r.status, &r.body["active"]),
        (StatusCode::OK, &json!(false))
    );

    // Group push: create with empty members, rename with its own id, membership by filter.
    let other = scim
        .post("/Users", json!({"userName": "second@okta.local", "emails": [{"value": "second@okta.local", "primary": true}]}))
        .await
        .id();
    let r = scim
        .post(
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Test SCIMv2", "members": []}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let gid = r.id();
    let r = scim
        .find(
            "Groups",
            "displayName eq \"Test SCIMv2\"",
            "&startIndex=1&count=100",
        )
        .await;
    assert_eq!(r["totalResults"], 1);
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "replace", "value": {"id": gid, "displayName": "Test SCIMv2 renamed"}}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([{"op": "add", "path": "members", "value": [{"value": id, "display": "test.user@okta.local"}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(json!([
                {"op": "remove", "path": format!("members[value eq \"{id}\"]")},
                {"op": "add", "path": "members", "value": [{"value": other, "display": "second@okta.local"}]}
            ])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    let g = scim.get(&format!("/Groups/{gid}")).await.body;
    assert_eq!(g["displayName"], "Test SCIMv2 renamed");
    assert_eq!(
        g["members"],
        json!([{"value": other, "display": "second@okta.local", "type": "User", "$ref": format!("{}/scim/v2/Users/{other}", app.base)}])
    );
    // A different id in the rename is a mutability error, and nothing changes.
    let r = scim
        .patch(
            &format!("/Groups/{gid}"),
            patch_op(
                json!([{"op": "replace", "value": {"id": "someone-else", "displayName": "x"}}]),
            ),
        )
        .await;
    assert_eq!(
        (r.status, r.body["scimType"].as_str()),
        (StatusCode::BAD_REQUEST, Some("mutability"))
    );
    let r = scim
        .send(Method::GET, &format!("/Groups/{gid}"), None, &[])
        .await;
    assert_eq!(r.body["displayName"], "Test SCIMv2 renamed");
}
