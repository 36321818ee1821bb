//! User lists that scale (issue 10): the sort orders both ways, cursor paging that holds still
//! while users are added, each filter, and the 422 answers for bad list parameters.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// One person of the fixture: e-mail, username, and when (seconds into the test) they last
/// signed in, if ever.
struct Someone {
    email: &'static str,
    username: &'static str,
    signs_in_at: Option<i64>,
}

/// Created in this order, one second apart, so creation order differs from both name orders.
const PEOPLE: [Someone; 5] = [
    Someone {
        email: "carol@example.com",
        username: "mike",
        signs_in_at: Some(20),
    },
    Someone {
        email: "alice@example.com",
        username: "zulu",
        signs_in_at: Some(30),
    },
    Someone {
        email: "erin@example.com",
        username: "bravo",
        signs_in_at: None,
    },
    Someone {
        email: "bob@example.com",
        username: "oscar",
        signs_in_at: Some(10),
    },
    Someone {
        email: "dave@example.com",
        username: "golf",
        signs_in_at: None,
    },
];

const PASSWORD: &str = "Correct-Horse-9-Battery-Staple";

/// Creates the five people (with passwords) and signs in those who sign in, moving the clock
/// so every instant differs. Returns (email, id) in creation order.
async fn fixture(app: &TestApp) -> Vec<(String, String)> {
    app.without_2fa().await;
    let mut made = Vec::new();
    for p in &PEOPLE {
        let r = app
            .post(
                "/users",
                json!({ "email": p.email, "username": p.username, "notify": false }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        let r = app
            .put(
                &format!("/users/{id}/password"),
                json!({ "password": PASSWORD }),
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
        made.push((p.email.to_string(), id));
        app.clock.advance_secs(1);
    }
    let mut by_time: Vec<_> = PEOPLE.iter().filter(|p| p.signs_in_at.is_some()).collect();
    by_time.sort_by_key(|p| p.signs_in_at);
    let mut elapsed = 0;
    for p in by_time {
        let at = p.signs_in_at.unwrap();
        app.clock.advance_secs(at - elapsed);
        elapsed = at;
        let r = app.sign_in(p.email, PASSWORD).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }
    made
}

fn emails(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_string())
        .collect()
}

fn ids_of(made: &[(String, String)], emails: &[&str]) -> Vec<String> {
    emails
        .iter()
        .map(|e| made.iter().find(|(m, _)| m == e).unwrap().1.clone())
        .collect()
}

both!(users_sort_by_each_key_both_ways);
async fn users_sort_by_each_key_both_ways(b: Backend) {
    let app = spawn_app(b).await;
    let made = fixture(&app).await;
    let order = |sort: &str, dir: &str| {
        let path = format!("/users?sort={sort}&order={dir}");
        let app = &app;
        async move {
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            emails(&r.body)
        }
    };
    let alphabetical =
        ["alice", "bob", "carol", "dave", "erin"].map(|n| format!("{n}@example.com"));
    assert_eq!(order("email", "asc").await, alphabetical);
    let mut reversed = alphabetical.to_vec();
    reversed.reverse();
    assert_eq!(order("email", "desc").await, reversed);

    // Username order (the default) is not e-mail order here.
    let by_username = ["erin", "dave", "carol", "bob", "alice"].map(|n| format!("{n}@example.com"));
    assert_eq!(order("username", "asc").await, by_username);
    assert_eq!(
        emails(&app.get("/users").await.body),
        by_username,
        "default: username, ascending"
    );

    let created: Vec<String> = made.iter().map(|(e, _)| e.clone()).collect();
    assert_eq!(order("created_at", "asc").await, created);
    let mut created_desc = created.clone();
    created_desc.reverse();
    assert_eq!(order("created_at", "desc").await, created_desc);

    // Never signed in sorts as the oldest; the two who never did are ordered by id.
    let mut never = ids_of(&made, &["dave@example.com", "erin@example.com"]);
    never.sort();
    let never: Vec<String> = never
        .iter()
        .map(|id| made.iter().find(|(_, i)| i == id).unwrap().0.clone())
        .collect();
    let mut asc = never.clone();
    asc.extend(["bob", "carol", "alice"].map(|n| format!("{n}@example.com")));
    assert_eq!(order("last_sign_in_at", "asc").await, asc);
    let mut desc = asc.clone();
    desc.reverse();
    assert_eq!(order("last_sign_in_at", "desc").await, desc);
}

/// Follows `next_cursor` to the end; the e-mails of each page.
async fn pages_from(app: &TestApp, query: &str, cursor: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut cursor = cursor.to_string();
    loop {
        let r = app.get(&format!("/users?{query}&cursor={cursor}")).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.get("page").is_none(), "a cursor page has no number");
        pages.push(emails(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => return pages,
        }
    }
}

both!(cursor_pages_hold_still_while_users_are_added);
async fn cursor_pages_hold_still_while_users_are_added(b: Backend) {
    let app = spawn_app(b).await;
    fixture(&app).await;
    let first = app.get("/users?sort=email&per_page=2").await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(
        emails(&first.body),
        ["alice@example.com", "bob@example.com"]
    );
    assert_eq!(first.body["page"], 1);
    assert_eq!(first.body["total"], 5);
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("more follow")
        .to_string();

    // Two land before the page boundary, one after it.
    for email in ["aaron@example.com", "bert@example.com", "cody@example.com"] {
        app.user(email).await;
    }
    let rest = pages_from(&app, "sort=email&per_page=2", &cursor).await;
    assert_eq!(
        rest,
        vec![
            vec!["carol@example.com", "cody@example.com"],
            vec!["dave@example.com", "erin@example.com"],
        ],
        "the cursor continues after bob: nobody repeated, nobody skipped"
    );
    // Page numbers shift under the same inserts; that is what the cursor is for.
    let page2 = app.get("/users?sort=email&per_page=2&page=2").await;
    assert_eq!(emails(&page2.body), ["bert@example.com", "bob@example.com"]);
    assert_eq!(page2.body["total"], 8);

    // Descending, by creation time: newest first, and a later user never shows up mid-walk.
    let first = app
        .get("/users?sort=created_at&order=desc&per_page=3")
        .await;
    assert_eq!(
        emails(&first.body),
        ["cody@example.com", "bert@example.com", "aaron@example.com"]
    );
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    app.clock.advance_secs(5);
    app.user("zed@example.com").await;
    let rest = pages_from(&app, "sort=created_at&order=desc&per_page=3", &cursor).await;
    let created_desc: Vec<String> = PEOPLE.iter().rev().map(|p| p.email.to_string()).collect();
    assert_eq!(rest.concat(), created_desc);
    assert_eq!(rest.len(), 2);

    // The last page says so.
    let all = app.get("/users?per_page=500").await;
    assert!(all.body.get("next_cursor").is_none(), "{}", all.body);
}

both!(an_altered_or_foreign_cursor_is_refused_on_cursor);
async fn an_altered_or_foreign_cursor_is_refused_on_cursor(b: Backend) {
    let app = spawn_app(b).await;
    fixture(&app).await;
    let first = app.get("/users?sort=email&per_page=2").await;
    let cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    let refused = |path: String| {
        let app = &app;
        async move {
            let r = app.get(&path).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path}: {}",
                r.body
            );
            let fields: Vec<String> = r.field_errors().into_iter().map(|(f, _)| f).collect();
            assert_eq!(fields, ["cursor"], "{path}: {}", r.body);
        }
    };
    // One character changed anywhere (the middle, the end) no longer opens.
    for at in [cursor.len() / 2, cursor.len() - 1] {
        let mut bytes = cursor.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        refused(format!("/users?sort=email&per_page=2&cursor={altered}")).await;
    }
    refused(format!(
        "/users?sort=email&per_page=2&cursor={}",
        &cursor[..cursor.len() - 4]
    ))
    .await;
    refused("/users?sort=email&cursor=not-a-cursor".into()).await;
    // Another order than the one it was issued for.
    refused(format!("/users?sort=created_at&per_page=2&cursor={cursor}")).await;
    refused(format!(
        "/users?sort=email&order=desc&per_page=2&cursor={cursor}"
    ))
    .await;
    // A cursor already says where the page starts.
    refused(format!("/users?sort=email&page=2&cursor={cursor}")).await;

    // Another organisation's list does not open it.
    app.server
        .dir
        .create_org("beta", "Beta")
        .await
        .expect("org");
    let r = app
        .get(&format!(
            "/api/v1/organizations/beta/users?sort=email&per_page=2&cursor={cursor}"
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert_eq!(r.field_errors()[0].0, "cursor");
}

both!(users_filter_by_application_profile_admin_right_and_sign_in);
async fn users_filter_by_application_profile_admin_right_and_sign_in(b: Backend) {
    let app = spawn_app(b).await;
    let made = fixture(&app).await;
    let id = |email: &str| ids_of(&made, &[email])[0].clone();
    let listed = |query: &str| {
        let path = format!("/users?sort=email&{query}");
        let app = &app;
        async move {
            let r = app.get(&path).await;
            assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
            assert_eq!(
                r.body["total"].as_u64().unwrap() as usize,
                r.body["items"].as_array().unwrap().len(),
                "{path}"
            );
            emails(&r.body)
        }
    };

    // Application: a direct role (alice), a role through a group (bob), a seat in one of its
    // profiles (carol directly, dave through a group). Erin has a role of another application.
    let ss_role = app
        .role("site-search", "Lookup", json!([]), json!([]))
        .await;
    let other_role = app
        .role("commerce-admin", "Night Clerks", json!([]), json!([]))
        .await;
    let r = app
        .post(
            &format!("/users/{}/roles", id("alice@example.com")),
            json!({ "role_id": ss_role }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            &format!("/users/{}/roles", id("erin@example.com")),
            json!({ "role_id": other_role }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let searchers = app.group("Searchers").await;
    app.post(
        &format!("/groups/{searchers}/members"),
        json!({ "user_id": id("bob@example.com") }),
    )
    .await;
    let r = app
        .post(
            &format!("/groups/{searchers}/roles"),
            json!({ "role_id": ss_role }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let seated = app.group("Seated").await;
    app.post(
        &format!("/groups/{seated}/members"),
        json!({ "user_id": id("dave@example.com") }),
    )
    .await;
    let p = app
        .post("/profiles", json!({ "application": "cloud-project", "name": "Viewers", "seat_quota": null, "roles": [] }))
        .await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let profile = p.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/profiles/{profile}/users"),
            json!({ "user_id": id("carol@example.com") }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let r = app
        .post(
            &format!("/profiles/{profile}/groups"),
            json!({ "group_id": seated }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);

    assert_eq!(
        listed("application=site-search").await,
        ["alice@example.com", "bob@example.com"]
    );
    assert_eq!(
        listed("application=cloud-project").await,
        ["carol@example.com", "dave@example.com"]
    );
    assert_eq!(
        listed("application=commerce-admin").await,
        ["erin@example.com"]
    );
    assert!(listed("application=no-such-app").await.is_empty());
    assert_eq!(
        listed(&format!("profile={profile}")).await,
        ["carol@example.com", "dave@example.com"]
    );

    // Admin rights: bob administers support, erin a product; `any` finds both.
    for (who, right) in [
        ("bob@example.com", json!({ "kind": "support" })),
        (
            "erin@example.com",
            json!({ "kind": "product", "application": "site-search" }),
        ),
    ] {
        let r = app
            .post(&format!("/users/{}/admin-rights", id(who)), right)
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    assert_eq!(listed("admin_right=support").await, ["bob@example.com"]);
    assert_eq!(listed("admin_right=product").await, ["erin@example.com"]);
    assert_eq!(
        listed("admin_right=any").await,
        ["bob@example.com", "erin@example.com"]
    );
    assert!(listed("admin_right=system").await.is_empty());

    // Last sign-in: bob at +10 s, carol at +20 s, alice at +30 s (after the 5 s of creation).
    let at = |email: &str| {
        let app = &app;
        let id = id(email);
        async move {
            app.get(&format!("/users/{id}")).await.body["last_sign_in_at"]
                .as_i64()
                .unwrap()
        }
    };
    let carol = at("carol@example.com").await;
    assert_eq!(
        listed(&format!("last_sign_in_before={carol}")).await,
        ["bob@example.com"]
    );
    assert_eq!(
        listed(&format!("last_sign_in_after={carol}")).await,
        ["alice@example.com"]
    );
    assert_eq!(
        listed(&format!(
            "last_sign_in_after={}&last_sign_in_before={}",
            carol - 1,
            carol + 1
        ))
        .await,
        ["carol@example.com"]
    );
    // Filters combine, and combine with a sort and a cursor.
    assert_eq!(
        listed(&format!("admin_right=any&last_sign_in_before={carol}")).await,
        ["bob@example.com"]
    );
    let first = app
        .get("/users?application=cloud-project&sort=email&per_page=1")
        .await;
    assert_eq!(emails(&first.body), ["carol@example.com"]);
    assert_eq!(first.body["total"], 2);
    let next = first.body["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!(
            "/users?application=cloud-project&sort=email&per_page=1&cursor={next}"
        ))
        .await;
    assert_eq!(emails(&second.body), ["dave@example.com"]);
    assert!(second.body.get("next_cursor").is_none());
}

both!(bad_list_parameters_are_422_naming_the_parameter);
async fn bad_list_parameters_are_422_naming_the_parameter(b: Backend) {
    let app = spawn_app(b).await;
    for (query, field) in [
        ("sort=name", "sort"),
        ("sort=-email", "sort"),
        ("order=up", "order"),
        ("admin_right=king", "admin_right"),
        ("profile=not-a-uuid", "profile"),
        ("application=", "application"),
        ("last_sign_in_before=-1", "last_sign_in_before"),
        ("last_sign_in_after=-5", "last_sign_in_after"),
        ("cursor=", "cursor"),
        ("per_page=0", "per_page"),
    ] {
        let r = app.get(&format!("/users?{query}")).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{query}: {}",
            r.body
        );
        let fields: Vec<String> = r.field_errors().into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{query}: {}", r.body);
    }
}

/// Walks a request's pages forwards by `next_cursor` then back by `prev_cursor`: the pages
/// (e-mails) both ways, and the first page's total and whether it was capped.
async fn both_ways(
    app: &TestApp,
    req: rolecall::directory::UserListRequest,
) -> (Vec<Vec<String>>, Vec<Vec<String>>, i64, bool) {
    use rolecall::directory::PageStart;
    let dir = &app.server.dir;
    let org = dir.org(&app.org).await.unwrap();
    let emails = |l: &rolecall::directory::UserList| -> Vec<String> {
        l.items
            .iter()
            .map(|u| u.email.as_str().to_string())
            .collect()
    };
    let mut page = dir.list_users(&org, &req).await.unwrap();
    let (total, capped) = (page.total, page.total_capped);
    assert!(page.prev_cursor.is_none(), "the first page has no previous");
    let mut forward = vec![emails(&page)];
    while let Some(next) = page.next_cursor.clone() {
        let at = rolecall::directory::UserListRequest {
            start: PageStart::Cursor(next),
            ..req.clone()
        };
        page = dir.list_users(&org, &at).await.unwrap();
        forward.push(emails(&page));
        assert!(forward.len() < 10);
    }
    let mut backward = vec![emails(&page)];
    while let Some(prev) = page.prev_cursor.clone() {
        let at = rolecall::directory::UserListRequest {
            start: PageStart::Cursor(prev),
            ..req.clone()
        };
        page = dir.list_users(&org, &at).await.unwrap();
        backward.push(emails(&page));
        assert!(backward.len() < 10);
    }
    backward.reverse();
    (forward, backward, total, capped)
}

both!(pages_go_both_ways_with_prefix_search_small_sets_and_a_capped_count);
/// The console's list through the directory on both databases: previous cursors walk back
/// through the same pages; a count with a cap stops there and says so; the prefix search and a
/// small group (the query then starts from its members) page like any other list.
async fn pages_go_both_ways_with_prefix_search_small_sets_and_a_capped_count(b: Backend) {
    use rolecall::directory::{SortOrder, TextMatch, UserFilter, UserListRequest, UserSort};
    let app = spawn_app(b).await;
    let made = fixture(&app).await;
    let by_email = |order| UserListRequest {
        sort: UserSort::Email,
        order,
        per_page: 2,
        ..Default::default()
    };

    let (forward, backward, total, capped) = both_ways(
        &app,
        UserListRequest {
            count_cap: Some(3),
            ..by_email(SortOrder::Asc)
        },
    )
    .await;
    let all = [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
        "dave@example.com",
        "erin@example.com",
    ];
    assert_eq!(forward, [&all[0..2], &all[2..4], &all[4..5]]);
    assert_eq!(backward, forward);
    assert_eq!(
        (total, capped),
        (3, true),
        "five match, counted up to three"
    );
    let exact = both_ways(&app, by_email(SortOrder::Asc)).await;
    assert_eq!((exact.2, exact.3), (5, false));

    // "B" starts Bob's e-mail and Erin's username (bravo); "ob" starts nothing.
    let prefix = |q: &str| UserFilter {
        q: Some(q.into()),
        q_match: TextMatch::Prefix,
        ..Default::default()
    };
    let found = both_ways(
        &app,
        UserListRequest {
            filter: prefix("B"),
            ..by_email(SortOrder::Desc)
        },
    )
    .await;
    assert_eq!(found.0, [["erin@example.com", "bob@example.com"]]);
    assert_eq!(found.2, 2);
    let none = both_ways(
        &app,
        UserListRequest {
            filter: prefix("ob"),
            ..by_email(SortOrder::Asc)
        },
    )
    .await;
    assert_eq!(none.2, 0);

    let group = app.group("Few").await;
    for id in ids_of(
        &made,
        &["carol@example.com", "alice@example.com", "erin@example.com"],
    ) {
        let r = app
            .post(
                &format!("/groups/{group}/members"),
                json!({ "user_id": id }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let (forward, backward, total, capped) = both_ways(
        &app,
        UserListRequest {
            filter: UserFilter {
                group: Some(group.parse().unwrap()),
                ..Default::default()
            },
            count_cap: Some(2),
            ..by_email(SortOrder::Desc)
        },
    )
    .await;
    assert_eq!(
        forward,
        [
            vec!["erin@example.com", "carol@example.com"],
            vec!["alice@example.com"]
        ]
    );
    assert_eq!(backward, forward);
    // A small starting set is counted exactly, whatever the cap.
    assert_eq!((total, capped), (3, false));
}
