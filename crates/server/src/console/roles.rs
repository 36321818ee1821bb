//! Console pages: roles.

use crate::http::AppState;
use axum::Router;

pub(super) fn router() -> Router<AppState> {
    Router::new()
}
