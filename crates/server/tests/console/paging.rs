//! The users list at scale (issue 15): Next / Previous by sealed position through a filtered,
//! sorted list, the console's answer to a cursor it did not issue, what the count says, and the
//! search by the start of a name.

use crate::helpers::{spawn_app, Backend, TestApp};
use crate::support::FormClient;
use reqwest::StatusCode;
use serde_json::json;

/// The e-mails listed on a users page, in page order (the e-mail column; usernames differ).
fn listed(body: &str) -> Vec<String> {
    body.split("<td>")
        .skip(1)
        .filter_map(|cell| cell.split_once("</td>").map(|(text, _)| text))
        .filter(|text| text.starts_with('p') && text.ends_with("@example.com"))
        .map(str::to_string)
        .collect()
}

/// The address of the page's link with `rel`, if the page has one.
fn link(body: &str, rel: &str) -> Option<String> {
    let marker = format!("rel=\"{rel}\" href=\"");
    let at = body.find(&marker)? + marker.len();
    let end = body[at..].find('"')? + at;
    Some(body[at..end].replace("&amp;", "&"))
}

/// 120 people `p000`…`p119` (usernames `u…`, so the e-mail column is told apart), the even ones
/// in group "Night shift", every fifth inactive; a System admin signed in to the console.
async fn fixture(app: &TestApp) -> (FormClient, String) {
    app.without_2fa().await;
    let group = app.group("Night shift").await;
    for i in 0..120 {
        let r = app
            .post(
                "/users",
                json!({ "email": format!("p{i:03}@example.com"), "username": format!("u{i:03}"), "notify": false }),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_string();
        if i % 2 == 0 {
            let r = app
                .post(
                    &format!("/groups/{group}/members"),
                    json!({ "user_id": id }),
                )
                .await;
            assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        }
        if i % 5 == 0 {
            let r = app
                .patch(&format!("/users/{id}"), json!({ "status": "inactive" }))
                .await;
            assert!(r.status.is_success(), "{}", r.body);
        }
    }
    let (_, pw) = app.person("admin@corp.test", true).await;
    let mut c = FormClient::new(app);
    c.sign_in("acme", "admin@corp.test", &pw).await;
    (c, group)
}

/// Follows Next from `first` to the end, then Previous back to the start; returns the pages
/// both ways (each a list of e-mails), checking the first page has no Previous.
async fn walk(c: &mut FormClient, first: &str) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let mut forward = Vec::new();
    let mut page = c.get(first).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        link(&page.body, "prev").is_none(),
        "the first page has no Previous"
    );
    loop {
        forward.push(listed(&page.body));
        match link(&page.body, "next") {
            Some(next) => page = c.get(&next).await,
            None => break,
        }
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(forward.len() < 20, "Next never ends");
    }
    let mut backward = vec![listed(&page.body)];
    while let Some(prev) = link(&page.body, "prev") {
        page = c.get(&prev).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        backward.push(listed(&page.body));
        assert!(backward.len() < 20, "Previous never ends");
    }
    backward.reverse();
    (forward, backward)
}

/// Next visits every matching person exactly once, in the chosen order, 50 a page, with the
/// filters kept; Previous walks back through the same pages. Two shapes of the query: a group
/// (few members: the query starts from them) with e-mail descending, and a status (tested on
/// each row of the username order).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_and_previous_visit_each_filtered_sorted_user_once_in_order() {
    let app = spawn_app(Backend::Sqlite).await;
    let (mut c, group) = fixture(&app).await;

    let (forward, backward) = walk(
        &mut c,
        &format!("/console/users?group={group}&sort=email&order=desc"),
    )
    .await;
    let expected: Vec<String> = (0..120)
        .rev()
        .filter(|i| i % 2 == 0)
        .map(|i| format!("p{i:03}@example.com"))
        .collect();
    assert_eq!(forward.iter().map(Vec::len).collect::<Vec<_>>(), [50, 10]);
    assert_eq!(forward.concat(), expected);
    assert_eq!(backward, forward, "Previous returns the same pages");

    let (forward, backward) = walk(&mut c, "/console/users?status=active").await;
    let expected: Vec<String> = (0..120)
        .filter(|i| i % 5 != 0)
        .map(|i| format!("p{i:03}@example.com"))
        .collect();
    assert_eq!(forward.iter().map(Vec::len).collect::<Vec<_>>(), [49, 47]);
    // The admin (active, username admin@corp.test) is listed first and is not a `p…` e-mail.
    assert_eq!(forward.concat(), expected);
    assert_eq!(backward, forward);

    let page = c.get("/console/users?status=active").await;
    assert!(page.body.contains("97 users match."), "{}", page.body);
    let next = link(&page.body, "next").unwrap();
    assert!(
        next.contains("status=active") && next.contains("cursor="),
        "{next}"
    );
    assert!(!next.contains("page="), "no page numbers: {next}");
}

/// A cursor altered, made up, or issued for another order is the console's own error page
/// (422, naming the cursor, with a way back), never a 500 or a wrong page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tampered_cursor_is_the_consoles_error_not_a_500() {
    let app = spawn_app(Backend::Sqlite).await;
    let (mut c, _) = fixture(&app).await;
    let first = c.get("/console/users").await;
    let next = link(&first.body, "next").unwrap();
    let cursor = next.split("cursor=").nth(1).unwrap().to_string();
    let mut altered: Vec<char> = cursor.chars().collect();
    let mid = altered.len() / 2;
    altered[mid] = if altered[mid] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    for path in [
        format!("/console/users?cursor={altered}"),
        "/console/users?cursor=not-a-cursor".to_string(),
        format!("/console/users?sort=created_at&cursor={cursor}"),
    ] {
        let page = c.get(&path).await;
        assert_eq!(
            page.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{path}: {}",
            page.body
        );
        assert!(page.body.contains("cursor"), "{path}: {}", page.body);
        assert!(
            page.body.contains("<html"),
            "the console's page: {}",
            page.body
        );
    }
    // The cursor as issued still works.
    assert_eq!(c.get(&next).await.status, StatusCode::OK);
}

/// The search matches the start of the username, the e-mail, the first or the last name, in
/// any case; text inside a name (not at its start) does not match, as the hint says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_by_the_start_of_a_name_finds_the_person() {
    let app = spawn_app(Backend::Sqlite).await;
    app.without_2fa().await;
    let r = app
        .post(
            "/users",
            json!({ "email": "nina.k@example.com", "username": "nkowalska", "first_name": "Nina", "last_name": "Kowalska", "notify": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = app
        .post(
            "/users",
            json!({ "email": "other@example.com", "notify": false }),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let (_, pw) = app.person("admin@corp.test", true).await;
    let mut c = FormClient::new(&app);
    c.sign_in("acme", "admin@corp.test", &pw).await;

    for q in ["KOWAL", "nin", "nkow", "nina.k%40", "Nina"] {
        let page = c.get(&format!("/console/users?q={q}")).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("<td>nina.k@example.com</td>"),
            "{q}: {}",
            page.body
        );
        assert!(!page.body.contains("<td>other@example.com</td>"), "{q}");
        assert!(page.body.contains("1 user matches."), "{q}: {}", page.body);
    }
    for q in ["owalska", "example.com", "ina"] {
        let page = c.get(&format!("/console/users?q={q}")).await;
        assert!(
            !page.body.contains("<td>nina.k@example.com</td>"),
            "{q}: {}",
            page.body
        );
    }
    let page = c.get("/console/users").await;
    assert!(
        page.body.contains("begin with the text"),
        "the hint says how search matches"
    );
}
