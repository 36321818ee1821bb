//! Listing users page by page: the use case over `store::user_list`, and the opaque cursor that
//! carries a keyset position between requests. A cursor is the position (sort, order, last sort
//! key, last id) sealed with the server key for one organisation, so a client cannot read it,
//! alter it or replay it against another organisation's list: any of those is a 422 on
//! `cursor`, never a wrong page.

use super::Directory;
use crate::error::Result;
use crate::store::user_list::{self as lq, Position, SortKey, SortOrder, UserFilter, UserSort};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rolecall_core::model::{Organization, User, UserId};
use serde::{Deserialize, Serialize};

/// Where the requested page starts.
#[derive(Debug, Clone)]
pub enum PageStart {
    /// 1-based page number.
    Page(i64),
    /// A cursor from an earlier page's `next_cursor`.
    Cursor(String),
}

/// A request for one page of users.
#[derive(Debug, Clone)]
pub struct UserListRequest {
    pub filter: UserFilter,
    pub sort: UserSort,
    pub order: SortOrder,
    pub start: PageStart,
    pub per_page: i64,
    /// Count matches only up to this many (the console's "10,000 or more"); exact when `None`.
    pub count_cap: Option<i64>,
}

/// The first 50 users by username, unfiltered.
impl Default for UserListRequest {
    fn default() -> Self {
        UserListRequest {
            filter: UserFilter::default(),
            sort: UserSort::default(),
            order: SortOrder::default(),
            start: PageStart::Page(1),
            per_page: 50,
            count_cap: None,
        }
    }
}

/// One page of users; `next_cursor` is present when more users follow, `prev_cursor` when
/// users come before the page.
#[derive(Debug)]
pub struct UserList {
    pub items: Vec<User>,
    /// How many users match; at least this many when `total_capped`.
    pub total: i64,
    pub total_capped: bool,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

/// The sealed content of a cursor. Short names: it travels in every next-page URL.
#[derive(Debug, Serialize, Deserialize)]
struct CursorBody {
    s: String,
    o: String,
    k: SortKey,
    i: UserId,
    /// Present (`"b"`) on a cursor to the page before the key: the console's "Previous".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    d: Option<String>,
}

/// Associated data of the seal: a cursor opens only for the organisation it was made for.
fn cursor_owner(org: &Organization) -> String {
    format!("user-list cursor of {}", org.id)
}

fn bad_cursor(message: impl Into<String>) -> crate::error::Error {
    rolecall_core::Error::invalid("cursor", "cursor", message).into()
}

impl Directory {
    pub async fn list_users(&self, org: &Organization, req: &UserListRequest) -> Result<UserList> {
        let position = match &req.start {
            PageStart::Page(n) => Position::Offset((n - 1) * req.per_page),
            PageStart::Cursor(c) => self.open_cursor(org, req, c)?,
        };
        let mut c = self.db.pool.acquire().await?;
        let page = lq::list_users(
            &mut c,
            self.backend(),
            org.id,
            &req.filter,
            req.sort,
            req.order,
            &position,
            req.per_page,
            req.count_cap,
        )
        .await?;
        let next_cursor = match page.next {
            Some((k, i)) => Some(self.seal_cursor(org, req, k, i, false)?),
            None => None,
        };
        let prev_cursor = match page.prev {
            Some((k, i)) => Some(self.seal_cursor(org, req, k, i, true)?),
            None => None,
        };
        Ok(UserList {
            items: page.items,
            total: page.total,
            total_capped: page.total_capped,
            next_cursor,
            prev_cursor,
        })
    }

    fn seal_cursor(
        &self,
        org: &Organization,
        req: &UserListRequest,
        k: SortKey,
        i: UserId,
        before: bool,
    ) -> Result<String> {
        let body = CursorBody {
            s: req.sort.as_str().into(),
            o: req.order.as_str().into(),
            k,
            i,
            d: before.then(|| "b".to_string()),
        };
        let plain = serde_json::to_string(&body)
            .map_err(|e| crate::error::Error::Internal(format!("cursor: {e}")))?;
        let sealed = self
            .keys
            .seal(&plain, &cursor_owner(org))
            .map_err(|e| crate::error::Error::Internal(format!("cursor: {e}")))?;
        Ok(URL_SAFE_NO_PAD.encode(sealed))
    }

    fn open_cursor(
        &self,
        org: &Organization,
        req: &UserListRequest,
        text: &str,
    ) -> Result<Position> {
        let forged = "is not a cursor this server issued for this organisation's user list \
                      (altered, truncated, or sealed with a key no longer configured); \
                      start again without a cursor";
        let sealed = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
            .ok_or_else(|| bad_cursor(forged))?;
        let plain = self
            .keys
            .open(&sealed, &cursor_owner(org))
            .map_err(|_| bad_cursor(forged))?;
        let body: CursorBody = serde_json::from_str(&plain).map_err(|_| bad_cursor(forged))?;
        if body.s != req.sort.as_str() || body.o != req.order.as_str() {
            return Err(bad_cursor(format!(
                "was issued for sort={}&order={}; ask with the same sort and order, or start \
                 again without a cursor",
                body.s, body.o
            )));
        }
        let key_fits = match body.k {
            SortKey::Text(_) => matches!(req.sort, UserSort::Username | UserSort::Email),
            SortKey::Int(_) => matches!(req.sort, UserSort::LastSignInAt | UserSort::CreatedAt),
        };
        if !key_fits {
            return Err(bad_cursor(forged));
        }
        Ok(match body.d.as_deref() {
            None => Position::After {
                key: body.k,
                id: body.i,
            },
            Some("b") => Position::Before {
                key: body.k,
                id: body.i,
            },
            Some(_) => return Err(bad_cursor(forged)),
        })
    }
}

impl Directory {
    /// One numbered page of users in username order with its total: what the console's lists
    /// of members and holders show.
    pub async fn users_page(
        &self,
        org: &Organization,
        filter: UserFilter,
        page: i64,
        per_page: i64,
    ) -> Result<(Vec<User>, i64)> {
        let req = UserListRequest {
            filter,
            start: PageStart::Page(page.max(1)),
            per_page,
            ..Default::default()
        };
        let list = self.list_users(org, &req).await?;
        Ok((list.items, list.total))
    }
}
