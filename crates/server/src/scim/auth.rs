//! Who calls `/scim/v2`: a SCIM client's bearer token (and nothing else: operator tokens,
//! sessions and API credentials are refused here, as SCIM tokens are on `/api/v1`), and the
//! per-organisation rate limit every SCIM request passes (429 with `Retry-After`).

use super::error::ScimFailure;
use crate::directory::scim_clients::scim_principal;
use crate::directory::OrgAdmin;
use crate::http::AppState;
use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};
use rolecall_core::admin::{provisioning_allows, Operation};
use rolecall_core::model::OrgId;
use std::collections::HashMap;
use std::sync::Mutex;

/// An authenticated SCIM client, as the principal acting in its organisation.
pub struct ScimCaller {
    admin: OrgAdmin,
}

impl ScimCaller {
    /// The coarse gate every SCIM endpoint asks: the provisioning column of the permission
    /// matrix. The use case then judges the exact change (`core::change::judge`).
    pub fn permit(&self, op: Operation) -> Result<&OrgAdmin, ScimFailure> {
        if provisioning_allows(op) {
            Ok(&self.admin)
        } else {
            Err(ScimFailure::new(
                403,
                None,
                "a SCIM client provisions users and groups only",
            ))
        }
    }

    pub fn org(&self) -> &rolecall_core::model::Organization {
        &self.admin.org
    }

    /// Is the client still unrevoked? A long `/Bulk` asks before each operation, so revoking
    /// a client stops its requests already running, not only its next ones.
    pub async fn still_admitted(
        &self,
        dir: &crate::directory::Directory,
    ) -> Result<bool, ScimFailure> {
        let crate::directory::Principal::Scim { client, .. } = &self.admin.principal else {
            return Ok(false);
        };
        Ok(dir
            .scim_client(&self.admin.org, client)
            .await?
            .revoked_at
            .is_none())
    }
}

impl FromRequestParts<AppState> for ScimCaller {
    type Rejection = ScimFailure;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .unwrap_or("");
        if token.is_empty() || token.len() > 512 {
            return Err(crate::error::Error::Unauthenticated.into());
        }
        let (client, org) = state
            .dir
            .scim_client_by_secret(token)
            .await?
            .ok_or(crate::error::Error::Unauthenticated)?;
        state.scim_limiter.admit(&state.dir, org.id).await?;
        let admin = OrgAdmin {
            principal: scim_principal(&client),
            org,
        };
        Ok(ScimCaller { admin })
    }
}

/// How often an organisation's configured rate is re-read from its settings.
const RATE_REFRESH_MS: i64 = 10_000;

struct Bucket {
    tokens: f64,
    last_ms: i64,
    rate: f64,
    rate_read_ms: i64,
}

/// A token bucket per organisation (per node): `requests_per_second` sustained, bursts of
/// twice that. Entra needs at least 25 requests a second; the default is 50.
#[derive(Default)]
pub struct ScimLimiter {
    buckets: Mutex<HashMap<OrgId, Bucket>>,
}

impl ScimLimiter {
    /// Admits one request of `org` or answers 429 with the seconds until one would pass.
    pub async fn admit(
        &self,
        dir: &crate::directory::Directory,
        org: OrgId,
    ) -> Result<(), ScimFailure> {
        let now = dir.now();
        let stale = {
            let buckets = self.buckets.lock().map_err(|_| poisoned())?;
            buckets
                .get(&org)
                .is_none_or(|b| now - b.rate_read_ms > RATE_REFRESH_MS)
        };
        let fresh_rate = if stale {
            let org = dir.org(&org.to_string()).await?;
            Some(f64::from(
                dir.settings(&org)
                    .await?
                    .0
                    .provisioning
                    .requests_per_second
                    .max(1),
            ))
        } else {
            None
        };
        let mut buckets = self.buckets.lock().map_err(|_| poisoned())?;
        let initial = fresh_rate.unwrap_or(50.0);
        let b = buckets.entry(org).or_insert_with(|| Bucket {
            tokens: initial * 2.0,
            last_ms: now,
            rate: initial,
            rate_read_ms: now,
        });
        if let Some(rate) = fresh_rate {
            b.rate = rate;
            b.rate_read_ms = now;
        }
        let burst = b.rate * 2.0;
        let elapsed = (now - b.last_ms).max(0) as f64 / 1000.0;
        b.tokens = (b.tokens + elapsed * b.rate).min(burst);
        b.last_ms = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - b.tokens) / b.rate).ceil().max(1.0) as u64;
            Err(ScimFailure {
                error: rolecall_scim::ScimError {
                    status: 429,
                    scim_type: None,
                    detail: format!(
                        "more than {} SCIM requests a second for this organisation; retry after {wait} s",
                        b.rate
                    ),
                },
                retry_after_secs: Some(wait),
            })
        }
    }
}

fn poisoned() -> ScimFailure {
    ScimFailure::new(500, None, "internal error; see the server log")
}
