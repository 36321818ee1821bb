//! Reads behind `/scim/v2` lists (issue 14): searches by a filter the adapter translated to
//! SQL, and the group memberships SCIM resources show. Writes go through the ordinary use cases
//! (`users.rs`), so SCIM changes obey every rule the REST API's do.

use super::Directory;
use crate::error::Result;
use crate::store::scim::{self as sq, Page};
use rolecall_core::model::{Group, GroupId, Organization, User, UserId};
use rolecall_scim::sql::SqlFilter;
use rustc_hash::FxHashMap;

impl Directory {
    /// People of the organisation matching `filter` (placeholders from `$2`), in `order`.
    pub async fn scim_users(
        &self,
        org: &Organization,
        filter: Option<&SqlFilter>,
        order: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Page<User>> {
        let mut c = self.db.pool.acquire().await?;
        sq::find_users(&mut c, self.backend(), org.id, filter, order, offset, limit).await
    }

    /// Groups of the organisation matching `filter` (placeholders from `$2`), in `order`.
    pub async fn scim_groups(
        &self,
        org: &Organization,
        filter: Option<&SqlFilter>,
        order: &str,
        offset: u64,
        limit: u64,
    ) -> Result<Page<Group>> {
        let mut c = self.db.pool.acquire().await?;
        sq::find_groups(&mut c, self.backend(), org.id, filter, order, offset, limit).await
    }

    /// The groups of each user (for SCIM's read-only `groups`).
    pub async fn groups_of_users(
        &self,
        users: &[UserId],
    ) -> Result<FxHashMap<UserId, Vec<(GroupId, String)>>> {
        let mut c = self.db.pool.acquire().await?;
        sq::groups_of(&mut c, self.backend(), users).await
    }

    /// The members of each group (for SCIM's `members`).
    pub async fn members_of_groups(
        &self,
        groups: &[GroupId],
    ) -> Result<FxHashMap<GroupId, Vec<(UserId, String)>>> {
        let mut c = self.db.pool.acquire().await?;
        sq::members_of(&mut c, self.backend(), groups).await
    }
}
