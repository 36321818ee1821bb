//! Rows written many at a time (issue 12): one `INSERT … VALUES (…), (…), …` per few hundred
//! rows instead of one statement each. On SQLite every statement is a round trip between the
//! async task and sqlx's worker thread, and an import of new people made ten of them per row;
//! the import's batches (`directory::bulk_batch`) write a batch's people, memberships, seats and
//! roles with a handful. Single changes use the same row builders with one row.

use super::{Backend, Link};
use crate::error::Result;
use rolecall_core::model::{Millis, OrgId, User};
use sqlx::AnyConnection;
use std::collections::HashSet;

/// One value of a row, typed as the column is. No `Debug`: a value may be a secret (an
/// invitation mail's body carries its token).
#[derive(Clone)]
pub(crate) enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<String> for Cell {
    fn from(v: String) -> Self {
        Cell::Text(Some(v))
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Self {
        Cell::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Self {
        Cell::Text(v)
    }
}
impl From<i64> for Cell {
    fn from(v: i64) -> Self {
        Cell::Int(Some(v))
    }
}
impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Self {
        Cell::Int(v)
    }
}

/// The `n`th placeholder. SQLite gets a bare `?` (the values are bound in order): a numbered
/// one (`?n`) costs SQLite a walk of the statement's parameter list each time sqlx asks its
/// name, so a statement of 10,000 numbered values took 270 ms to bind, one of bare ones 3 ms.
pub(super) fn mark(b: Backend, n: usize) -> String {
    match b {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// Bound values per statement: under SQLite's limit (32,766) and PostgreSQL's (65,535).
pub(super) const MAX_BINDS: usize = 30_000;

/// `INSERT INTO table (cols) VALUES (…), …` for `rows` rows, then `tail`: the placeholders
/// written straight into the text, as a statement of 256 people has over 10,000 of them.
pub(super) fn insert_statement(
    b: Backend,
    table: &str,
    cols: &[&str],
    rows: usize,
    tail: &str,
) -> String {
    use std::fmt::Write;
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", cols.join(", "));
    sql.reserve(rows * cols.len() * 4 + tail.len() + 1);
    let mut n = 0;
    for i in 0..rows {
        sql.push_str(if i == 0 { "(" } else { ", (" });
        for j in 0..cols.len() {
            n += 1;
            if j > 0 {
                sql.push_str(", ");
            }
            match b {
                Backend::Sqlite => sql.push('?'),
                // Writing to a String cannot fail.
                Backend::Postgres => {
                    let _ = write!(sql, "${n}");
                }
            }
        }
        sql.push(')');
    }
    if !tail.is_empty() {
        sql.push(' ');
        sql.push_str(tail);
    }
    sql
}

/// Tables where leaving a column out of an `INSERT` stores what binding NULL to it would:
/// every column with a default is NOT NULL, so a NULL is bound only where there is no default
/// (`tests/api/bulk_batch.rs`, `a_column_left_out_is_null`, checks each table against both databases' catalogues).
/// A new person leaves most of `users`' 60-odd columns NULL (the SCIM profile's fields and
/// their search keys), and a statement of a few hundred people bound each of them.
pub const NULL_MEANS_LEFT_OUT: &[&str] = &["users"];

/// Which of `columns` an insert of `rows` into `table` names: all of them, or on a table of
/// [`NULL_MEANS_LEFT_OUT`] those with a value in some row.
fn written_columns(table: &str, columns: usize, rows: &[Vec<Cell>]) -> Vec<bool> {
    if !NULL_MEANS_LEFT_OUT.contains(&table) {
        return vec![true; columns];
    }
    let mut keep = vec![false; columns];
    for row in rows {
        for (k, cell) in keep.iter_mut().zip(row) {
            *k |= match cell {
                Cell::Text(v) => v.is_some(),
                Cell::Int(v) => v.is_some(),
            };
        }
    }
    if keep.iter().all(|k| !k) {
        return vec![true; columns];
    }
    keep
}

/// Inserts `rows` (each in the order of `cols`) into `table`, as few statements as the bind
/// limit allows; `tail` follows each statement's values (an `ON CONFLICT` clause). The count
/// of rows the database reports written.
pub(crate) async fn insert_rows(
    c: &mut AnyConnection,
    b: Backend,
    table: &str,
    cols: &[&str],
    rows: Vec<Vec<Cell>>,
    tail: &str,
) -> std::result::Result<u64, sqlx::Error> {
    let per = (MAX_BINDS / cols.len().max(1)).max(1);
    let mut written = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let part: Vec<Vec<Cell>> = rows.by_ref().take(per).collect();
        if let Some(row) = part.iter().find(|r| r.len() != cols.len()) {
            return Err(sqlx::Error::Protocol(format!(
                "a row for {table} has {} values for {} columns",
                row.len(),
                cols.len()
            )));
        }
        let keep = written_columns(table, cols.len(), &part);
        let named: Vec<&str> = cols
            .iter()
            .zip(&keep)
            .filter_map(|(c, k)| k.then_some(*c))
            .collect();
        let sql = insert_statement(b, table, &named, part.len(), tail);
        let mut q = sqlx::query(&sql);
        for row in part {
            for (cell, _) in row.into_iter().zip(&keep).filter(|(_, k)| **k) {
                q = match cell {
                    Cell::Text(v) => q.bind(v),
                    Cell::Int(v) => q.bind(v),
                };
            }
        }
        written += q.execute(&mut *c).await?.rows_affected();
    }
    Ok(written)
}

/// A user's row of `users`: the column names and their values.
pub(crate) fn user_row(u: &User) -> Result<(Vec<&'static str>, Vec<Cell>)> {
    let mut cols = vec![
        "id",
        "org_id",
        "username",
        "username_key",
        "email",
        "email_key",
        "first_name",
        "last_name",
        "locale",
        "status",
        "version",
        "created_at",
        "updated_at",
        "last_sign_in_at",
        "kind",
    ];
    let mut cells: Vec<Cell> = vec![
        u.id.to_string().into(),
        u.org_id.to_string().into(),
        u.username.as_str().into(),
        u.username.key().into(),
        u.email.as_str().into(),
        u.email.key().into(),
        u.first_name.as_str().into(),
        u.last_name.as_str().into(),
        u.locale.as_str().into(),
        u.status.as_str().into(),
        u.version.into(),
        u.created_at.into(),
        u.updated_at.into(),
        u.last_sign_in_at.into(),
        u.kind.as_str().into(),
    ];
    for (col, v) in super::user_profile::columns(u)? {
        cols.push(col);
        cells.push(v.into());
    }
    Ok((cols, cells))
}

/// The sign-in names a user claims (`sign_in_names`): the e-mail's key, then the username's
/// when it differs. The field each came from names a clash.
pub(crate) fn sign_in_names(u: &User) -> Vec<(&'static str, String)> {
    let email = u.email.key();
    let username = u.username.key();
    let mut out = vec![("email", email.clone())];
    if username != email {
        out.push(("username", username));
    }
    out
}

/// Which of `keys` are already someone's sign-in name in `org`.
pub(crate) async fn taken_names(
    c: &mut AnyConnection,
    b: Backend,
    org: OrgId,
    keys: &[String],
) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for part in keys.chunks(MAX_BINDS / 2) {
        let marks: Vec<String> = (0..part.len()).map(|i| mark(b, i + 2)).collect();
        let sql = format!(
            "SELECT name_key FROM sign_in_names WHERE org_id = {} AND name_key IN ({})",
            mark(b, 1),
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(org.to_string());
        for k in part {
            q = q.bind(k.as_str());
        }
        for row in q.fetch_all(&mut *c).await? {
            out.insert(super::get_str(&row, "name_key")?);
        }
    }
    Ok(out)
}

/// Inserts new people whose sign-in names the caller found free: their names, their rows and
/// their e-mail entries, a few statements for all of them.
pub(crate) async fn insert_people(
    c: &mut AnyConnection,
    b: Backend,
    people: &[User],
) -> Result<()> {
    let Some(first) = people.first() else {
        return Ok(());
    };
    let mut names = Vec::new();
    for u in people {
        for (_, key) in sign_in_names(u) {
            names.push(vec![
                u.org_id.to_string().into(),
                key.into(),
                u.id.to_string().into(),
            ]);
        }
    }
    insert_rows(
        c,
        b,
        "sign_in_names",
        &["org_id", "name_key", "user_id"],
        names,
        "",
    )
    .await?;
    let (cols, _) = user_row(first)?;
    let mut rows = Vec::with_capacity(people.len());
    let mut emails = Vec::new();
    for u in people {
        rows.push(user_row(u)?.1);
        emails.extend(super::user_profile::email_rows(u));
    }
    insert_rows(c, b, "users", &cols, rows, "").await?;
    insert_rows(
        c,
        b,
        "user_emails",
        super::user_profile::EMAIL_COLUMNS,
        emails,
        "",
    )
    .await?;
    Ok(())
}

/// Adds association rows (`(left, right, extra)`; `extra` fills `extra_col` when the table has
/// one) unless there; the number added. Every association table's primary key is exactly
/// (left, right), so the conflict target names that key and any other constraint still fails.
pub(crate) async fn link_all(
    c: &mut AnyConnection,
    b: Backend,
    l: Link,
    org: &str,
    now: Millis,
    extra_col: Option<&'static str>,
    pairs: Vec<(String, String, Option<String>)>,
) -> Result<u64> {
    let mut cols = vec![l.left, l.right, "org_id", "created_at"];
    cols.extend(extra_col);
    let rows = pairs
        .into_iter()
        .map(|(left, right, extra)| {
            let mut row: Vec<Cell> = vec![left.into(), right.into(), org.into(), now.into()];
            if extra_col.is_some() {
                row.push(extra.into());
            }
            row
        })
        .collect();
    let tail = format!("ON CONFLICT ({}, {}) DO NOTHING", l.left, l.right);
    Ok(insert_rows(c, b, l.table, &cols, rows, &tail).await?)
}
