//! `BENCH_FLOOR=1`: what SQLite alone needs to store what an import of new people stored
//! (issues 12 and 14), measured on the import's own database with the same SQLite build and
//! the writer's settings. The rows the import wrote are set aside in temporary tables,
//! deleted, and written back with `INSERT … SELECT`, so no value crosses the driver and no
//! application code runs: what is left is SQLite's own work — the tables, their indexes, the
//! foreign keys, the audit chain's trigger and the commit. Two shapes:
//! - the import's: every row in one transaction;
//! - SCIM's: one person per transaction (a user row, an e-mail, a sign-in name, an audit entry,
//!   the change counter), then the same people 8 and 32 to a transaction, as a shared commit
//!   would write them. Each statement is a call of its own, prepared once and crossing from
//!   the async task to sqlx's SQLite thread, as the server's do; or each transaction is one
//!   string of statements, one crossing (parsed each time).
//!
//! `BENCH_FLOOR_DRIVER=1` also writes the import's users again with their values through the
//! driver, to tell the cost of binding from SQLite's own.

use sqlx::{AnyConnection, Connection, Executor};
use std::path::Path;
use std::time::Instant;

/// The people the one-person-per-transaction shapes write back.
const SINGLE: i64 = 2_000;

pub async fn measure(db: &Path, org: &str) -> Result<(), Box<dyn std::error::Error>> {
    let url = format!("sqlite://{}", db.display());
    let mut c = AnyConnection::connect(&url).await?;
    // BENCH_FLOOR_CHECKPOINTS=0: commits never copy the log into the database.
    if std::env::var("BENCH_FLOOR_CHECKPOINTS").is_ok_and(|v| v == "0") {
        c.execute("PRAGMA wal_autocheckpoint = 0").await?;
    }
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = NORMAL",
        "PRAGMA cache_size = -65536",
        "PRAGMA temp_store = FILE",
        "PRAGMA foreign_keys = OFF",
    ] {
        c.execute(pragma).await?;
    }
    // The import's rows: its people and what it wrote about them. Its audit entries are the
    // ones after the last group the bench made.
    let first = format!(
        "(SELECT max(seq) FROM audit_log WHERE org_id = '{org}' AND action = 'group_created')"
    );
    let setup = [
        format!("CREATE TEMP TABLE f_users AS SELECT * FROM users WHERE org_id = '{org}'"),
        "CREATE TEMP TABLE f_emails AS SELECT * FROM user_emails \
         WHERE user_id IN (SELECT id FROM temp.f_users)"
            .to_string(),
        "CREATE TEMP TABLE f_names AS SELECT * FROM sign_in_names \
         WHERE user_id IN (SELECT id FROM temp.f_users)"
            .to_string(),
        "CREATE TEMP TABLE f_members AS SELECT * FROM group_members \
         WHERE user_id IN (SELECT id FROM temp.f_users)"
            .to_string(),
        format!(
            "CREATE TEMP TABLE f_audit AS SELECT * FROM audit_log \
             WHERE org_id = '{org}' AND seq > {first} ORDER BY seq"
        ),
        format!(
            "CREATE TEMP TABLE f_head AS SELECT seq, hash FROM audit_log \
             WHERE org_id = '{org}' AND seq = {first}"
        ),
    ];
    // Indexes for the one-person shapes' look-ups, so they read one row, not the whole table.
    let indexes = [
        "CREATE INDEX temp.f_emails_user ON f_emails (user_id)",
        "CREATE INDEX temp.f_names_user ON f_names (user_id)",
        "CREATE INDEX temp.f_audit_target ON f_audit (target_id, action)",
    ];
    for sql in setup.iter().map(String::as_str).chain(indexes) {
        c.execute(sql).await?;
    }
    set_aside(&mut c, org, "temp.f_users").await?;
    let people: i64 = sqlx::query_scalar("SELECT count(*) FROM temp.f_users")
        .fetch_one(&mut c)
        .await?;

    // The import's shape: everything in one transaction.
    c.execute("PRAGMA foreign_keys = ON").await?;
    let statements = [
        ("users", "INSERT INTO users SELECT * FROM temp.f_users"),
        (
            "e-mails",
            "INSERT INTO user_emails SELECT * FROM temp.f_emails",
        ),
        (
            "sign-in names",
            "INSERT INTO sign_in_names SELECT * FROM temp.f_names",
        ),
        (
            "memberships",
            "INSERT INTO group_members SELECT * FROM temp.f_members",
        ),
        (
            "audit entries",
            "INSERT INTO audit_log SELECT * FROM temp.f_audit ORDER BY seq",
        ),
    ];
    let t = Instant::now();
    c.execute("BEGIN IMMEDIATE").await?;
    let mut parts = Vec::new();
    for (name, sql) in statements {
        let s = Instant::now();
        c.execute(sql).await?;
        parts.push((name, s.elapsed().as_secs_f64()));
    }
    let s = Instant::now();
    c.execute("COMMIT").await?;
    parts.push(("commit", s.elapsed().as_secs_f64()));
    let took = t.elapsed().as_secs_f64();
    println!(
        "floor, the import's rows in one transaction: {people} people in {took:.2} s = {:.0} rows/s ({:.1} µs a row)",
        people as f64 / took,
        took * 1e6 / people as f64
    );
    for (name, secs) in parts {
        println!(
            "  {name}: {:.0} ms, {:.1} µs a row",
            secs * 1e3,
            secs * 1e6 / people as f64
        );
    }

    // BENCH_FLOOR_DRIVER=1: the users insert again, with its values through the driver.
    if std::env::var("BENCH_FLOOR_DRIVER").is_ok_and(|v| v == "1") {
        users_through_driver(&mut c, db).await?;
    }

    // SCIM's shape: the first SINGLE people, 1, 8 or 32 to a transaction; each statement a
    // call of its own (as the server's are), or each whole transaction in one call.
    for one_call in [false, true] {
        for per in [1, 8, 32] {
            single(&mut c, org, per, one_call).await?;
        }
    }
    c.close().await?;
    Ok(())
}

/// Writes the first [`SINGLE`] people back `per` to a transaction and prints the time a
/// person took. `one_call`: each transaction is one string of statements, so it crosses to
/// sqlx's SQLite thread once instead of once per statement (SQLite then parses each time).
async fn single(
    c: &mut AnyConnection,
    org: &str,
    per: i64,
    one_call: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    c.execute("PRAGMA foreign_keys = OFF").await?;
    c.execute("DROP TABLE IF EXISTS temp.f_single").await?;
    c.execute(
        format!("CREATE TEMP TABLE f_single AS SELECT * FROM temp.f_users WHERE rowid <= {SINGLE}")
            .as_str(),
    )
    .await?;
    set_aside(c, org, "temp.f_single").await?;
    c.execute("PRAGMA foreign_keys = ON").await?;
    let insert_user = "INSERT INTO users SELECT * FROM temp.f_single WHERE rowid = $1";
    let insert_email = "INSERT INTO user_emails SELECT * FROM temp.f_emails \
         WHERE user_id = (SELECT id FROM temp.f_single WHERE rowid = $1)";
    let insert_name = "INSERT INTO sign_in_names SELECT * FROM temp.f_names \
         WHERE user_id = (SELECT id FROM temp.f_single WHERE rowid = $1)";
    // The person's `user_created` entry again, appended at the chain's head.
    let insert_audit = format!(
        "INSERT INTO audit_log SELECT a.org_id, h.seq + 1, a.id || '-' || h.seq, a.at, \
         a.actor_kind, a.actor_id, a.actor_name, a.action, a.target_kind, a.target_id, \
         a.target_name, a.changes, a.detail, a.source_ip, a.user_agent, a.request_id, h.hash, \
         a.hash || h.seq FROM temp.f_audit a, audit_heads h \
         WHERE h.org_id = '{org}' AND a.action = 'user_created' \
         AND a.target_id = (SELECT id FROM temp.f_single WHERE rowid = $1)"
    );
    let count = "UPDATE change_counter SET n = n + 1";
    let person = [
        insert_user,
        insert_email,
        insert_name,
        insert_audit.as_str(),
    ];
    // Time per statement kind: begin, user, e-mail, sign-in name, audit, counter, commit.
    let mut spent = [0f64; 7];
    let t = Instant::now();
    let mut i = 1;
    while i <= SINGLE {
        let group = i..(i + per).min(SINGLE + 1);
        i += per;
        if one_call {
            let mut sql = String::from("BEGIN IMMEDIATE;");
            for k in group {
                for stmt in person.iter().chain([&count]) {
                    sql.push_str(&stmt.replace("$1", &k.to_string()));
                    sql.push(';');
                }
            }
            sql.push_str("COMMIT;");
            c.execute(sql.as_str()).await?;
            continue;
        }
        let s = Instant::now();
        c.execute("BEGIN IMMEDIATE").await?;
        spent[0] += s.elapsed().as_secs_f64();
        for k in group {
            for (n, sql) in person.into_iter().enumerate() {
                let s = Instant::now();
                sqlx::query(sql).bind(k).execute(&mut *c).await?;
                spent[n + 1] += s.elapsed().as_secs_f64();
            }
            let s = Instant::now();
            c.execute(count).await?;
            spent[5] += s.elapsed().as_secs_f64();
        }
        let s = Instant::now();
        c.execute("COMMIT").await?;
        spent[6] += s.elapsed().as_secs_f64();
    }
    let took = t.elapsed().as_secs_f64();
    let how = if one_call {
        "each transaction one call".to_string()
    } else {
        let each: Vec<String> = spent
            .iter()
            .map(|x| format!("{:.0}", x * 1e6 / SINGLE as f64))
            .collect();
        format!(
            "a call a statement; µs a person: begin, user, e-mail, sign-in name, audit entry, \
             counter, commit = {}",
            each.join(", ")
        )
    };
    println!(
        "floor, {SINGLE} people {per} to a transaction: {:.0} µs a person = {:.0} people/s ({how})",
        took * 1e6 / SINGLE as f64,
        SINGLE as f64 / took,
    );
    Ok(())
}

/// The import's users written again 256 to a statement, their values crossing the driver:
/// bound one by one (as `store::rows::insert_rows` does, through sqlx's `Any` driver, or
/// through its SQLite driver on a connection of its own) or as one JSON text per statement
/// that SQLite unpacks (`json_each`).
async fn users_through_driver(
    c: &mut AnyConnection,
    db: &Path,
) -> Result<(), Box<dyn std::error::Error>> {
    use sqlx::Row;
    let cols: Vec<(String, bool)> =
        sqlx::query("SELECT name, upper(type) LIKE '%INT%' FROM pragma_table_info('users')")
            .fetch_all(&mut *c)
            .await?
            .iter()
            .map(|r| Ok((r.try_get::<String, _>(0)?, r.try_get::<i64, _>(1)? == 1)))
            .collect::<Result<_, sqlx::Error>>()?;
    let names: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
    let rows = sqlx::query(&format!("SELECT {} FROM temp.f_users", names.join(", ")))
        .fetch_all(&mut *c)
        .await?;
    let mut values = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut row = Vec::with_capacity(cols.len());
        for (i, (_, int)) in cols.iter().enumerate() {
            row.push(if *int {
                serde_json::Value::from(r.try_get::<Option<i64>, _>(i)?)
            } else {
                serde_json::Value::from(r.try_get::<Option<String>, _>(i)?)
            });
        }
        values.push(row);
    }
    drop(rows);
    let one = format!("({})", vec!["?"; cols.len()].join(", "));
    let bound_sql = |rows: usize| {
        format!(
            "INSERT INTO users ({}) VALUES {}",
            names.join(", "),
            vec![one.clone(); rows].join(", ")
        )
    };
    for how in [
        "Any, bound one by one",
        "SQLite driver, bound one by one",
        "Any, one JSON text",
    ] {
        c.execute("PRAGMA foreign_keys = OFF").await?;
        c.execute("DELETE FROM users WHERE id IN (SELECT id FROM temp.f_users)")
            .await?;
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
        c.execute("PRAGMA foreign_keys = ON").await?;
        let took = if how.starts_with("SQLite") {
            // A connection of sqlx's SQLite driver with nothing between (the temporary
            // tables stay on the first one, which holds no transaction meanwhile).
            use sqlx::sqlite::SqliteConnection;
            let mut n = SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
            n.execute("PRAGMA cache_size = -65536").await?;
            n.execute("PRAGMA foreign_keys = ON").await?;
            n.execute("BEGIN IMMEDIATE").await?;
            let t = Instant::now();
            for part in values.chunks(256) {
                let sql = bound_sql(part.len());
                let mut q = sqlx::query::<sqlx::Sqlite>(&sql);
                for v in part.iter().flatten() {
                    q = match v {
                        serde_json::Value::Number(x) => q.bind(x.as_i64()),
                        serde_json::Value::String(x) => q.bind(x.as_str()),
                        _ => q.bind(None::<String>),
                    };
                }
                q.execute(&mut n).await?;
            }
            let took = t.elapsed().as_secs_f64();
            n.execute("COMMIT").await?;
            n.close().await?;
            took
        } else {
            let json = how.ends_with("JSON text");
            c.execute("BEGIN IMMEDIATE").await?;
            let t = Instant::now();
            for part in values.chunks(256) {
                if json {
                    let picks: Vec<String> =
                        (0..cols.len()).map(|i| format!("value->>{i}")).collect();
                    let sql = format!(
                        "INSERT INTO users ({}) SELECT {} FROM json_each($1)",
                        names.join(", "),
                        picks.join(", ")
                    );
                    sqlx::query(&sql)
                        .bind(serde_json::to_string(part)?)
                        .execute(&mut *c)
                        .await?;
                } else {
                    let sql = bound_sql(part.len());
                    let mut q = sqlx::query(&sql);
                    for v in part.iter().flatten() {
                        q = match v {
                            serde_json::Value::Number(x) => q.bind(x.as_i64()),
                            serde_json::Value::String(x) => q.bind(x.as_str()),
                            _ => q.bind(None::<String>),
                        };
                    }
                    q.execute(&mut *c).await?;
                }
            }
            let took = t.elapsed().as_secs_f64();
            c.execute("COMMIT").await?;
            took
        };
        println!(
            "floor, users through the driver ({how}): {:.1} µs a row",
            took * 1e6 / values.len() as f64
        );
    }
    Ok(())
}

/// Deletes `people`'s rows (and, for the whole import, its audit entries), and checkpoints, so
/// the timed writes start where the import started: from a checkpointed log.
async fn set_aside(
    c: &mut AnyConnection,
    org: &str,
    people: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let ids = format!("(SELECT id FROM {people})");
    let mut sql = vec![
        format!("DELETE FROM group_members WHERE user_id IN {ids}"),
        format!("DELETE FROM sign_in_names WHERE user_id IN {ids}"),
        format!("DELETE FROM user_emails WHERE user_id IN {ids}"),
        format!("DELETE FROM users WHERE id IN {ids}"),
    ];
    if people == "temp.f_users" {
        sql.push(format!(
            "DELETE FROM audit_log WHERE org_id = '{org}' AND seq > (SELECT seq FROM temp.f_head)"
        ));
        sql.push(format!(
            "UPDATE audit_heads SET seq = (SELECT seq FROM temp.f_head), \
             hash = (SELECT hash FROM temp.f_head) WHERE org_id = '{org}'"
        ));
    }
    for s in sql {
        c.execute(s.as_str()).await?;
    }
    c.execute("VACUUM").await?;
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)").await?;
    Ok(())
}
