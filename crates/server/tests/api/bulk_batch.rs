//! The import's batches (issue 12) against the reference: the same random files imported with
//! batches and row by row (every row through the use cases on its own) into two servers set up
//! alike give the same report, the same directory and the same audit entries. The files are
//! built to reach every rule the batches judge in memory: names taken by existing people and by
//! earlier rows, one role per user through groups and direct roles, seat quotas filled through
//! groups and directly, unknown names, and rows that go the row-by-row way in between. A batch
//! the database itself refuses is undone and goes row by row.

use crate::both;
use crate::helpers::{spawn_app, Backend, TestApp};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rolecall::directory::bulk::{read_rows, ImportMode, ImportOptions, ImportReport};
use rolecall::directory::signin::ClientInfo;
use rolecall::directory::OrgAdmin;
use serde_json::json;

/// Groups, roles and profiles both servers get, in the same order.
async fn set_up(app: &TestApp) {
    let sales = app.commerce_role("Sales", "Magento_Sales::sales").await;
    let content = app.commerce_role("Content", "Magento_Cms::page").await;
    for (group, role) in [
        ("Sellers", Some(&sales)),
        ("Writers", Some(&content)),
        ("Plain", None),
    ] {
        let g = app.group(group).await;
        if let Some(role) = role {
            let r = app
                .post(&format!("/groups/{g}/roles"), json!({ "role_id": role }))
                .await;
            assert!(r.status.is_success(), "{}", r.body);
        }
    }
    let seats = app.group("Seats").await;
    let few = app
        .post(
            "/profiles",
            json!({ "application": "site-search", "name": "Few", "seat_quota": 4, "roles": [] }),
        )
        .await;
    assert!(few.status.is_success(), "{}", few.body);
    let few = few.body["id"].as_str().unwrap().to_string();
    let r = app
        .post(
            &format!("/profiles/{few}/groups"),
            json!({ "group_id": seats }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let direct = app
        .post(
            "/profiles",
            json!({ "application": "site-search", "name": "Direct", "seat_quota": 3, "roles": [] }),
        )
        .await;
    assert!(direct.status.is_success(), "{}", direct.body);
    // Someone already here: their e-mail and username are taken.
    let r = app
        .post(
            "/users",
            json!({ "email": "taken@example.com", "username": "taken", "notify": false }),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
}

/// A random file of `n` rows over small pools, so rows collide with each other, with the
/// person already there, with quotas and with the one-role rule.
fn random_file(rng: &mut StdRng, n: usize) -> String {
    let mut csv =
        String::from("operation,email,username,first_name,status,groups,profiles,roles\n");
    let groups = ["Sellers", "Writers", "Plain", "Seats", "Nowhere"];
    let roles = [
        "commerce-admin:Sales",
        "commerce-admin:Content",
        "commerce-admin:Nothing",
    ];
    for i in 0..n {
        let email = match rng.gen_range(0..10) {
            0 => "taken@example.com".to_string(),
            1 => "taken".to_string(),
            _ => format!("p{}@example.com", rng.gen_range(0..n)),
        };
        let username = match rng.gen_range(0..8) {
            0 => "taken".to_string(),
            1 => format!("p{}@example.com", rng.gen_range(0..n)),
            2 => format!("name{}", rng.gen_range(0..4)),
            _ => String::new(),
        };
        let operation = match rng.gen_range(0..20) {
            0 => "remove",
            1 => "deactivate",
            _ => "upsert",
        };
        let status = ["", "", "active", "invited"][rng.gen_range(0..4)];
        let pick = |rng: &mut StdRng, from: &[&str], most: usize| {
            let k = rng.gen_range(0..=most);
            let mut items: Vec<&str> = from.choose_multiple(rng, k).copied().collect();
            items.sort_unstable();
            items.join("; ")
        };
        let g = pick(rng, &groups, 2);
        let p = if rng.gen_bool(0.3) { "Direct" } else { "" };
        let r = if rng.gen_bool(0.2) {
            pick(rng, &roles, 2)
        } else {
            String::new()
        };
        csv.push_str(&format!(
            "{operation},{email},{username},Row{i},{status},\"{g}\",{p},\"{r}\"\n"
        ));
    }
    csv
}

/// Imports `csv` as the operator, applying the valid rows.
async fn run(app: &TestApp, csv: &str, row_by_row: bool, invitations: bool) -> ImportReport {
    run_in(app, csv, ImportMode::ValidRows, row_by_row, invitations).await
}

/// Imports `csv` as the operator in `mode`.
async fn run_in(
    app: &TestApp,
    csv: &str,
    mode: ImportMode,
    row_by_row: bool,
    invitations: bool,
) -> ImportReport {
    let dir = &app.server.dir;
    let org = dir.org(&app.org).await.unwrap();
    let options = ImportOptions {
        mode,
        no_invitations: !invitations,
        row_by_row,
        ..ImportOptions::default()
    };
    let rows = read_rows(std::io::Cursor::new(csv.as_bytes().to_vec()));
    dir.import_users(
        &OrgAdmin::operator(org),
        rows,
        options,
        &ClientInfo::default(),
    )
    .await
    .unwrap()
}

/// The directory as text, without ids and times: people, memberships, seats, roles, the log.
async fn state(app: &TestApp) -> Vec<String> {
    let pool = &app.server.dir.db.pool;
    let mut out = Vec::new();
    for sql in [
        "SELECT email || ' ' || username || ' ' || first_name || ' ' || status AS line FROM users ORDER BY email",
        "SELECT u.email || ' in ' || g.name AS line FROM group_members m JOIN users u ON u.id = m.user_id \
         JOIN user_groups g ON g.id = m.group_id ORDER BY u.email, g.name",
        "SELECT u.email || ' seat ' || p.name AS line FROM profile_users s JOIN users u ON u.id = s.user_id \
         JOIN profiles p ON p.id = s.profile_id ORDER BY u.email, p.name",
        "SELECT u.email || ' role ' || r.name AS line FROM user_roles x JOIN users u ON u.id = x.user_id \
         JOIN roles r ON r.id = x.role_id ORDER BY u.email, r.name",
        "SELECT name_key AS line FROM sign_in_names ORDER BY name_key",
        // Invitations and mails, without their tokens.
        "SELECT u.email || ' invited by ' || COALESCE(i.invited_by, '-') || ' for ' || (i.expires_at - i.created_at) AS line \
         FROM invitations i JOIN users u ON u.id = i.user_id ORDER BY u.email",
        "SELECT recipient || ': ' || subject AS line FROM outbox ORDER BY recipient, subject",
    ] {
        let lines: Vec<String> = sqlx::query_scalar(sql).fetch_all(pool).await.unwrap();
        out.extend(lines);
    }
    // The log in order, except that one row's entries about one person are sorted: a row's
    // groups are applied in the order of their ids, which differ between the servers.
    let log: Vec<(String, String)> = sqlx::query_as(
        "SELECT target_name, action || ' ' || target_name || ' ' || COALESCE(changes, '') \
         FROM audit_log WHERE action <> 'users_imported' ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    for run in log.chunk_by(|a, b| a.0 == b.0) {
        let mut lines: Vec<String> = run.iter().map(|(_, l)| without_ids(l)).collect();
        lines.sort();
        out.extend(lines);
    }
    out
}

/// `line` with every quoted id replaced: ids differ between the servers.
fn without_ids(line: &str) -> String {
    line.split('"')
        .map(|part| {
            if uuid::Uuid::parse_str(part).is_ok() {
                "<id>"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("\"")
}

/// A report as comparable text: every row's line, result and problems (column and rule; the
/// reasons may name two roles in either order, as a row's roles are applied in the order of
/// their ids, which differ between the servers).
fn outcome(r: &ImportReport) -> Vec<String> {
    r.rows
        .read()
        .map(|row| {
            let row = row.expect("a row of the report");
            let problems: Vec<String> = row
                .errors
                .iter()
                .map(|e| format!("{:?}/{}", e.column, e.rule))
                .collect();
            format!(
                "{} {} {:?} {}",
                row.line,
                row.email,
                row.result,
                problems.join(" | ")
            )
        })
        .collect()
}

async fn batches_answer_as_row_by_row(b: Backend) {
    let batched = spawn_app(b).await;
    let reference = spawn_app(b).await;
    set_up(&batched).await;
    set_up(&reference).await;
    let mut rng = StdRng::seed_from_u64(12);
    let mut created = 0;
    // Sizes around a batch (256 rows) so a file spans batches and ends inside one; the
    // second file sends invitations (the default), the others add people without a word.
    let mut files = Vec::new();
    for (n, invitations) in [(40, false), (300, true), (120, false)] {
        files.push((random_file(&mut rng, n), invitations));
    }
    // Then the last file again, which now changes (almost) nothing, and the second again,
    // which changes what the third changed back: rows about people already there that change
    // nothing are found a batch at a time (`bulk_known`), the others go their usual way.
    files.push(files[2].clone());
    files.push(files[1].clone());
    let mut summaries = Vec::new();
    for (csv, invitations) in &files {
        let got = run(&batched, csv, false, *invitations).await;
        let want = run(&reference, csv, true, *invitations).await;
        assert_eq!(outcome(&got), outcome(&want), "file:\n{csv}");
        assert_eq!(got.committed, want.committed);
        created += got.summary.created;
        summaries.push(got.summary.clone());
        let (got, want) = (state(&batched).await, state(&reference).await);
        assert_eq!(got, want, "file:\n{csv}");
    }
    // The file imported twice in a row changed nothing the second time: every row that is not
    // an error is unchanged. The older file found some of its rows unchanged.
    let again = &summaries[3];
    assert_eq!(again.unchanged, again.rows - again.errors, "{summaries:?}");
    assert!(again.unchanged > 10, "{summaries:?}");
    assert!(summaries[4].unchanged > 10, "{summaries:?}");
    // The files did what they were built for: people created, some of them invited.
    assert!(created > 40, "{created}");
    let invited: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM invitations")
        .fetch_one(&batched.server.dir.db.pool)
        .await
        .unwrap();
    assert!(invited > 10, "{invited}");
}
both!(batches_answer_as_row_by_row);

/// A file of `n` distinct people that mostly succeeds; `changed` alters about one row in four
/// of the same people (a name, the groups, deactivated, removed, a status), the rest as they
/// were, and adds new people among them.
fn people_file(n: usize, changed: Option<&mut StdRng>) -> String {
    let mut csv = String::from("operation,email,username,first_name,status,groups\n");
    let mut rng = changed;
    for i in 0..n {
        let groups = ["Plain", "Sellers", "Plain; Writers", ""][i % 4];
        let status = ["", "active", "invited", "inactive"][i % 4 / 2 + i % 3 % 2];
        let mut row = (
            "upsert",
            format!("u{i}"),
            format!("Person{i}"),
            status,
            groups,
        );
        if let Some(rng) = rng.as_deref_mut() {
            match rng.gen_range(0..16) {
                0 => row.2 = format!("Renamed{i}"),
                1 => row.4 = "Writers",
                2 => row.0 = "deactivate",
                3 => row.0 = "remove",
                4 => row.3 = "active",
                _ => {}
            }
        }
        let (operation, username, first, status, groups) = row;
        csv.push_str(&format!(
            "{operation},p{i}@example.com,{username},{first},{status},\"{groups}\"\n"
        ));
        // Among the changes, new people, every other one wanting a username that is taken.
        if rng.is_some() && i % 10 == 0 {
            let wants = if i % 20 == 0 {
                format!("u{i}")
            } else {
                String::new()
            };
            csv.push_str(&format!(
                "upsert,q{i}@example.com,{wants},New{i},,\"Plain\"\n"
            ));
        }
    }
    csv
}

/// Files imported again change nothing the second time, and the rows about people already
/// there are found a batch at a time (`bulk_known`) with the same verdicts as row by row:
/// the same people imported, then again, then with a quarter of the rows changed (renamed,
/// moved to another group, deactivated, removed, activated), then that again; with and without
/// invitations (active people then go their own way, unless they change nothing).
async fn files_imported_again_change_nothing(b: Backend) {
    let batched = spawn_app(b).await;
    let reference = spawn_app(b).await;
    set_up(&batched).await;
    set_up(&reference).await;
    let mut rng = StdRng::seed_from_u64(7);
    let base = people_file(300, None);
    let changed = people_file(300, Some(&mut rng));
    let steps = [
        (&base, false, false),
        (&base, false, true),
        (&base, true, true),
        (&changed, true, false),
        (&changed, false, true),
    ];
    for (csv, invitations, again) in steps {
        let got = run(&batched, csv, false, invitations).await;
        let want = run(&reference, csv, true, invitations).await;
        assert_eq!(outcome(&got), outcome(&want), "file:\n{csv}");
        assert_eq!(
            state(&batched).await,
            state(&reference).await,
            "file:\n{csv}"
        );
        let s = &got.summary;
        if again {
            // Every row that is not an error (a status the operation contradicts, a second
            // role through a group) changes nothing.
            let moved: Vec<String> = outcome(&got)
                .into_iter()
                .filter(|l| !l.contains("Unchanged") && !l.contains("Error"))
                .collect();
            assert_eq!(s.unchanged + s.errors, s.rows, "{s:?} {moved:?}");
            assert!(s.unchanged >= 250, "{s:?}");
        } else {
            assert!(s.created + s.updated + s.removed > 50, "{s:?}");
        }
    }
}
both!(files_imported_again_change_nothing);

/// The batches still refuse what the rules refuse (not only what the reference does): one
/// role per user through two groups, a profile's quota filled through its group, a name
/// another row of the same batch took; and the rows around them are created.
async fn batches_refuse_what_the_rules_refuse(b: Backend) {
    let app = spawn_app(b).await;
    set_up(&app).await;
    let mut csv = String::from("email,username,groups\n");
    csv.push_str("a@example.com,,Sellers; Writers\n"); // two commerce roles
    for i in 0..5 {
        csv.push_str(&format!("s{i}@example.com,,Seats\n")); // 4 seats for 5 people
    }
    csv.push_str("c@example.com,same,Plain\n");
    csv.push_str("d@example.com,same,Plain\n"); // the username c took
    csv.push_str("e@example.com,,Sellers\n");
    let r = run(&app, &csv, false, false).await;
    let results: Vec<(u64, String)> = r
        .rows
        .read()
        .map(|row| {
            let row = row.expect("a row of the report");
            (
                row.line,
                row.errors
                    .first()
                    .map_or(format!("{:?}", row.result), |e| e.rule.clone()),
            )
        })
        .collect();
    let want: Vec<(u64, &str)> = vec![
        (2, "one_role_per_user"),
        (3, "Created"),
        (4, "Created"),
        (5, "Created"),
        (6, "Created"),
        (7, "quota_exceeded"),
        (8, "Created"),
        (9, "unique"),
        (10, "Created"),
    ];
    let want: Vec<(u64, String)> = want.into_iter().map(|(l, s)| (l, s.to_string())).collect();
    assert_eq!(results, want, "{:?}", r.rows);
    let seats: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM group_members m JOIN user_groups g ON g.id = m.group_id WHERE g.name = 'Seats'",
    )
    .fetch_one(&app.server.dir.db.pool)
    .await
    .unwrap();
    assert_eq!(seats, 4);
}
both!(batches_refuse_what_the_rules_refuse);

/// A batch the database refuses after the batch found its names free (another transaction
/// claimed one in between; here a trigger plays that transaction) is undone to its savepoint
/// and its rows go row by row: the claimed name's row fails on its own, the others are
/// created, and nothing of the refused batch stays behind: no name, person, membership or
/// audit entry twice or without its person. All or nothing, the same file writes nothing.
async fn a_batch_the_database_refuses_goes_row_by_row(b: Backend) {
    let app = spawn_app(b).await;
    set_up(&app).await;
    let pool = &app.server.dir.db.pool;
    let claim = match b {
        Backend::Sqlite => vec![
            "CREATE TRIGGER claimed_meanwhile BEFORE INSERT ON sign_in_names \
             WHEN NEW.name_key = 'late@example.com' \
             BEGIN SELECT RAISE(ABORT, 'UNIQUE constraint failed: sign_in_names.org_id, sign_in_names.name_key'); END",
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION claimed_meanwhile() RETURNS trigger AS $$ BEGIN \
             IF NEW.name_key = 'late@example.com' THEN \
             RAISE unique_violation USING MESSAGE = 'duplicate key value violates unique constraint \"sign_in_names_pkey\"'; \
             END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER claimed_meanwhile BEFORE INSERT ON sign_in_names \
             FOR EACH ROW EXECUTE FUNCTION claimed_meanwhile()",
        ],
    };
    for sql in claim {
        sqlx::query(sql).execute(pool).await.unwrap();
    }
    // Six new people of one batch, each joining a group: every one of them is batchable.
    let mut csv = String::from("email,username,groups\n");
    for name in ["p1", "p2", "p3", "late", "p5", "p6"] {
        csv.push_str(&format!("{name}@example.com,,Plain\n"));
    }
    let before = state(&app).await;
    let all_or_nothing = run_in(&app, &csv, ImportMode::AllOrNothing, false, false).await;
    assert!(!all_or_nothing.committed);
    assert_eq!(
        all_or_nothing.summary.errors, 1,
        "{:?}",
        all_or_nothing.rows
    );
    assert_eq!(
        state(&app).await,
        before,
        "an import that failed wrote something"
    );

    let r = run(&app, &csv, false, false).await;
    assert!(r.committed);
    let results: Vec<(u64, String)> = r
        .rows
        .read()
        .map(|row| {
            let row = row.expect("a row of the report");
            (
                row.line,
                row.errors.first().map_or(format!("{:?}", row.result), |e| {
                    format!("{:?}/{}", e.column, e.rule)
                }),
            )
        })
        .collect();
    let want: Vec<(u64, String)> = [
        (2, "Created"),
        (3, "Created"),
        (4, "Created"),
        (5, "Some(\"email\")/unique"),
        (6, "Created"),
        (7, "Created"),
    ]
    .into_iter()
    .map(|(l, s)| (l, s.to_string()))
    .collect();
    assert_eq!(results, want, "{:?}", r.rows);
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await
            .unwrap()
    };
    assert_eq!(
        count("SELECT COUNT(*) FROM users WHERE email LIKE 'p_@example.com'").await,
        5
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM users WHERE email = 'late@example.com'").await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM sign_in_names WHERE name_key LIKE 'p_@example.com' OR name_key = 'late@example.com'").await,
        5
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM group_members m JOIN user_groups g ON g.id = m.group_id \
             WHERE g.name = 'Plain'"
        )
        .await,
        5
    );
    // One creation and one membership recorded per created person, none for the refused one.
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'user_created' AND target_name LIKE 'p_@example.com'").await,
        5
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE action = 'member_added' AND target_name LIKE 'p_@example.com'").await,
        5
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM audit_log WHERE target_name = 'late@example.com'").await,
        0
    );
    // The chain is whole: the refused batch's entries were never appended.
    let verified = app
        .get(&format!("/api/v1/organizations/{}/audit/verify", app.org))
        .await;
    assert!(verified.status.is_success(), "{}", verified.body);
    assert_eq!(verified.body["ok"], true, "{}", verified.body);
}
both!(a_batch_the_database_refuses_goes_row_by_row);

both!(a_column_left_out_is_null);
/// `store::rows` leaves out of an insert the columns that are NULL in all of its rows, on the
/// tables of `NULL_MEANS_LEFT_OUT`. That stores NULL only while none of their columns has a
/// default and accepts NULL: the catalogue of each database says so, or this fails.
async fn a_column_left_out_is_null(b: Backend) {
    let app = spawn_app(b).await;
    let db = app.server.dir.db.clone();
    let mut w = db.write().await.unwrap();
    let (nullable_with_default, not_null_with_default) = match b {
        Backend::Sqlite => (
            "SELECT name FROM pragma_table_info($1) WHERE dflt_value IS NOT NULL AND \"notnull\" = 0",
            "SELECT name FROM pragma_table_info($1) WHERE dflt_value IS NOT NULL AND \"notnull\" = 1",
        ),
        Backend::Postgres => (
            "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             AND column_default IS NOT NULL AND is_nullable = 'YES'",
            "SELECT CAST(column_name AS TEXT) AS name FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             AND column_default IS NOT NULL AND is_nullable = 'NO'",
        ),
    };
    let sql = |s: &str| match b {
        Backend::Sqlite => s.replace("$1", "?"),
        Backend::Postgres => s.to_string(),
    };
    for table in rolecall::store::NULL_MEANS_LEFT_OUT {
        let names = |rows: Vec<sqlx::any::AnyRow>| -> Vec<String> {
            use sqlx::Row;
            rows.iter().map(|r| r.get::<String, _>("name")).collect()
        };
        let wrong = sqlx::query(&sql(nullable_with_default))
            .bind(*table)
            .fetch_all(&mut *w.tx)
            .await
            .unwrap();
        assert_eq!(
            names(wrong),
            Vec::<String>::new(),
            "{table}: a column left out would take its default, not NULL"
        );
        // The catalogue is read as it should be: `users.kind` has a default and is NOT NULL.
        if *table == "users" {
            let fine = sqlx::query(&sql(not_null_with_default))
                .bind(*table)
                .fetch_all(&mut *w.tx)
                .await
                .unwrap();
            let fine = names(fine);
            assert!(fine.contains(&"kind".to_string()), "{fine:?}");
        }
    }
    w.rollback().await.unwrap();
}
