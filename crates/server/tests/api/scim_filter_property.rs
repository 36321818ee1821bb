//! Issue 14: SCIM filters evaluated in SQL (the server's column map, on SQLite and PostgreSQL)
//! and in memory (`rolecall_scim::matches` over the resources the server returns) agree, over
//! generated users — non-ASCII case pairs, LIKE metacharacters, several e-mails, phones,
//! addresses, groups, deactivated users — and generated filters of the whole grammar.
//!
//! The run prints its seed; `ROLECALL_PROPTEST_SEED=<n>` replays it and
//! `ROLECALL_PROPTEST_CASES=<n>` makes a long run.

use crate::helpers::{spawn_app, Backend};
use crate::scim_helpers::{patch_op, scim_client, url_encode};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use reqwest::StatusCode;
use rolecall_scim::schema::ResourceType;
use rolecall_scim::Filter;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// Words the generated users and filters share, so filters hit: case pairs beyond ASCII,
/// LIKE's `%`, `_` and `\`, quotes.
const WORDS: &[&str] = &[
    "ärger",
    "Ärger",
    "ÄRGER",
    "straße",
    "STRASSE",
    "Ωmega",
    "ωmega",
    "müller",
    "Müller",
    "50%",
    "a_b",
    "a\\b",
    "o'neil",
    "Sales",
    "sales",
    "R&D",
    "x",
    "İstanbul",
    "istanbul",
    "",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

fn text() -> impl Strategy<Value = String> {
    (word(), word(), 0u8..3).prop_map(|(a, b, n)| match n {
        0 => a,
        1 => format!("{a}{b}"),
        _ => format!("{a} {b}"),
    })
}

fn opt_text() -> impl Strategy<Value = Option<String>> {
    prop::option::of(text()).prop_map(|t| t.filter(|s| !s.trim().is_empty()))
}

#[derive(Debug, Clone)]
struct GenUser {
    given: Option<String>,
    title: Option<String>,
    display: Option<String>,
    department: Option<String>,
    locality: Option<String>,
    extra_email_type: Option<String>,
    phone: Option<String>,
    active: bool,
    in_group: bool,
    timezone: bool,
}

fn gen_user() -> impl Strategy<Value = GenUser> {
    (
        (opt_text(), opt_text(), opt_text(), opt_text(), opt_text()),
        (
            prop::option::of(word()),
            opt_text(),
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (given, title, display, department, locality),
                (t, phone, active, in_group, timezone),
            )| GenUser {
                given,
                title,
                display,
                department,
                locality,
                extra_email_type: t.filter(|s| !s.is_empty()),
                phone,
                active,
                in_group,
                timezone,
            },
        )
}

fn lit() -> impl Strategy<Value = String> {
    prop_oneof![
        word().prop_map(|w| Value::String(w).to_string()),
        text().prop_map(|w| Value::String(w).to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("null".to_string()),
        Just("\"2020-01-01T00:00:00Z\"".to_string()),
        Just("\"2100-01-01T00:00:00.5+01:00\"".to_string()),
        Just("\"work\"".to_string()),
        Just("\"en-US\"".to_string()),
        Just("\"Europe/Berlin\"".to_string()),
        Just("5".to_string()),
    ]
}

const PATHS: &[&str] = &[
    "userName",
    "name.givenName",
    "name.familyName",
    "name",
    "displayName",
    "title",
    "locale",
    "timezone",
    "active",
    "externalId",
    "id",
    "emails",
    "emails.value",
    "emails.type",
    "emails.primary",
    "emails.display",
    "phoneNumbers",
    "phoneNumbers.value",
    "addresses.locality",
    "addresses.type",
    "groups.display",
    "groups",
    "meta.created",
    "meta.lastModified",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "nosuch",
];

const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];

fn test_expr() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (prop::sample::select(PATHS), prop::sample::select(OPS), lit())
            .prop_map(|(p, o, v)| format!("{p} {o} {v}")),
        1 => prop::sample::select(PATHS).prop_map(|p| format!("{p} pr")),
        1 => (prop::sample::select(&["emails", "addresses", "phoneNumbers"][..]), prop::sample::select(&["type", "value", "primary", "locality"][..]), prop::sample::select(OPS), lit())
            .prop_map(|(a, s, o, v)| format!("{a}[{s} {o} {v}]")),
        1 => (prop::sample::select(OPS), lit())
            .prop_map(|(o, v)| format!("emails[type eq \"work\" and value {o} {v}]")),
    ]
}

fn filter() -> impl Strategy<Value = String> {
    test_expr().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or ({b})")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

fn seed() -> u64 {
    match std::env::var("ROLECALL_PROPTEST_SEED") {
        Ok(s) => s.parse().expect("ROLECALL_PROPTEST_SEED is a number"),
        Err(_) => {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(std::process::id() as u64);
            h.finish()
        }
    }
}

fn run_property(backend: Backend, default_cases: u32) {
    let cases = std::env::var("ROLECALL_PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default_cases);
    let seed = seed();
    eprintln!("SCIM filter property on {backend:?}: seed {seed} ({cases} filters)");
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 100,
        ..Config::default()
    };
    let mut runner = TestRunner::new_with_rng(config, rng);
    let users = prop::collection::vec(gen_user(), 30)
        .new_tree(&mut runner)
        .expect("users")
        .current();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let app = rt.block_on(async {
        let app = spawn_app(backend).await;
        let mut settings = app.get("/settings").await.body;
        settings["provisioning"]["requests_per_second"] = json!(100_000);
        assert_eq!(app.put("/settings", settings).await.status, StatusCode::OK);
        app
    });
    let scim = rt.block_on(scim_client(&app, "property"));
    let docs: Vec<Value> = rt.block_on(async {
        let gid = scim.post("/Groups", json!({"displayName": "Ärger-Gruppe"})).await.id();
        let mut ids = Vec::new();
        for (i, u) in users.iter().enumerate() {
            let mut emails = vec![json!({"value": format!("user{i}@Shop{}.example", i % 3), "type": "work", "primary": true})];
            if let Some(t) = &u.extra_email_type {
                emails.push(json!({"value": format!("Other.{i}@home.example"), "type": t}));
            }
            let mut body = json!({
                "userName": format!(
                    "{}.{i}",
                    u.given.clone().unwrap_or_else(|| "user".into()).chars().filter(|c| c.is_alphanumeric()).collect::<String>()
                ),
                "emails": emails,
                "active": u.active,
                "externalId": format!("Ext-{}", i % 4),
            });
            let o = body.as_object_mut().unwrap();
            if let Some(g) = &u.given { o.insert("name".into(), json!({"givenName": g, "familyName": "Müller"})); }
            if let Some(t) = &u.title { o.insert("title".into(), json!(t)); }
            if let Some(d) = &u.display { o.insert("displayName".into(), json!(d)); }
            if let Some(p) = &u.phone { o.insert("phoneNumbers".into(), json!([{"value": p, "type": "work"}])); }
            if let Some(l) = &u.locality { o.insert("addresses".into(), json!([{"locality": l, "type": "work"}])); }
            if u.timezone { o.insert("timezone".into(), json!("Europe/Berlin")); o.insert("locale".into(), json!("de-DE")); }
            if let Some(d) = &u.department {
                o.insert("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".into(), json!({"department": d, "manager": {"value": format!("m{}", i % 2)}}));
            }
            let r = scim.post("/Users", body.clone()).await;
            assert_eq!(r.status, StatusCode::CREATED, "{body}: {}", r.body);
            let id = r.id();
            if u.in_group {
                let r = scim.patch(&format!("/Groups/{gid}"), patch_op(json!([{"op": "add", "path": "members", "value": [{"value": id}]}]))).await;
                assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
            }
            ids.push(id);
        }
        let all = scim.get("/Users?count=200").await;
        assert_eq!(all.body["totalResults"].as_u64(), Some(ids.len() as u64));
        all.body["Resources"].as_array().unwrap().clone()
    });
    let rt_user = ResourceType::user();
    let checked = std::sync::atomic::AtomicUsize::new(0);
    let matched = std::sync::atomic::AtomicUsize::new(0);
    let result = runner.run(&filter(), |text| {
        let memory: Result<BTreeSet<String>, _> = Filter::parse(&text).and_then(|f| {
            let mut hits = BTreeSet::new();
            for d in &docs {
                if rolecall_scim::matches(&f, d, &rt_user)? {
                    hits.insert(d["id"].as_str().unwrap().to_string());
                }
            }
            Ok(hits)
        });
        let r = rt.block_on(scim.get(&format!(
            "/Users?count=200&attributes=id&filter={}",
            url_encode(&text)
        )));
        match (memory, r.status) {
            (Ok(hits), StatusCode::OK) => {
                let sql: BTreeSet<String> = r.body["Resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| d["id"].as_str().unwrap().to_string())
                    .collect();
                prop_assert_eq!(r.body["totalResults"].as_u64(), Some(sql.len() as u64));
                prop_assert_eq!(&sql, &hits, "filter {} disagrees", text);
                checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                matched.fetch_add(
                    usize::from(!hits.is_empty()),
                    std::sync::atomic::Ordering::Relaxed,
                );
            }
            (Err(e), StatusCode::BAD_REQUEST) => {
                prop_assert_eq!(
                    r.body["scimType"].as_str(),
                    e.scim_type.map(|t| t.as_str()),
                    "filter {}",
                    text
                );
            }
            (m, s) => {
                return Err(TestCaseError::fail(format!(
                    "filter {text}: memory {m:?}, server {s} {}",
                    r.body
                )))
            }
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("SQL and memory disagree (seed {seed}): {e}");
    }
    let (checked, matched) = (checked.into_inner(), matched.into_inner());
    eprintln!("SCIM filter property on {backend:?}: {checked} accepted filters agreed, {matched} matched someone");
    assert!(
        matched * 4 >= checked,
        "too few filters matched anyone: {matched} of {checked}"
    );
}

#[test]
fn filters_agree_in_sql_and_memory_on_sqlite() {
    run_property(Backend::Sqlite, 400);
}

#[test]
fn filters_agree_in_sql_and_memory_on_postgres() {
    run_property(Backend::Postgres, 400);
}
