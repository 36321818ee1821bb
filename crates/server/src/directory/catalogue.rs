//! The set of governed applications: the shipped catalogue files compiled into the binary, extra
//! definitions from the operator's catalogue directory, and definitions changed through the API
//! (stored in the database, so every node agrees).

use crate::error::{Error, Result};
use rolecall_core::catalogue::{AppTree, ApplicationDef};
use std::sync::Arc;

/// Shipped with the binary: the project never reads files outside its data directory at run time.
const SHIPPED: &[&str] = &[
    include_str!("../../../../catalogue/commerce-admin.json"),
    include_str!("../../../../catalogue/cloud-project.json"),
    include_str!("../../../../catalogue/site-search.json"),
    include_str!("../../../../catalogue/spryker-back-office.json"),
    include_str!("../../../../catalogue/commerce-cloud-service.json"),
];

#[derive(Clone)]
pub struct Catalogue {
    /// Sorted by key.
    pub apps: Vec<Arc<AppTree>>,
}

impl Catalogue {
    pub fn shipped() -> Result<Vec<ApplicationDef>> {
        SHIPPED
            .iter()
            .map(|s| {
                serde_json::from_str(s)
                    .map_err(|e| Error::Internal(format!("shipped catalogue: {e}")))
            })
            .collect()
    }

    /// Later sources override earlier ones by key: shipped, then `extra`, then stored overrides.
    pub fn load(
        extra: Vec<ApplicationDef>,
        overrides: Vec<(String, String, i64)>,
    ) -> Result<Catalogue> {
        let mut defs: Vec<ApplicationDef> = Self::shipped()?;
        let mut put = |d: ApplicationDef| {
            defs.retain(|x| x.key != d.key);
            defs.push(d);
        };
        for d in extra {
            put(d);
        }
        for (key, json, _) in overrides {
            match serde_json::from_str::<ApplicationDef>(&json) {
                Ok(d) => put(d),
                Err(e) => {
                    tracing::error!(application = %key, error = %e, "stored application definition is unreadable; keeping the shipped one")
                }
            }
        }
        let mut apps = Vec::new();
        for d in defs {
            let key = d.key.clone();
            let tree = AppTree::compile(d)
                .map_err(|e| Error::Internal(format!("application {key} is invalid: {e:?}")))?;
            apps.push(Arc::new(tree));
        }
        apps.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(Catalogue { apps })
    }

    pub fn get(&self, key: &str) -> Option<&Arc<AppTree>> {
        self.apps.iter().find(|a| a.key() == key)
    }

    pub fn require(&self, field: &str, key: &str) -> Result<&Arc<AppTree>> {
        self.get(key).ok_or_else(|| {
            rolecall_core::Error::invalid(
                field,
                "unknown_application",
                format!("no application {key:?}"),
            )
            .into()
        })
    }

    /// An application named in a request's path: unknown is 404, as for any object there
    /// (in a body it is a field error, see [`Catalogue::require`]).
    pub fn require_in_path(&self, key: &str) -> Result<&Arc<AppTree>> {
        self.get(key)
            .ok_or_else(|| rolecall_core::Error::not_found("application", key).into())
    }

    pub fn with(&self, tree: AppTree) -> Catalogue {
        let mut apps: Vec<Arc<AppTree>> = self
            .apps
            .iter()
            .filter(|a| a.key() != tree.key())
            .cloned()
            .collect();
        apps.push(Arc::new(tree));
        apps.sort_by(|a, b| a.key().cmp(b.key()));
        Catalogue { apps }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_catalogue_compiles_with_the_real_magento_tree() {
        let c = Catalogue::load(vec![], vec![]).unwrap();
        let keys: Vec<&str> = c.apps.iter().map(|a| a.key()).collect();
        assert_eq!(
            keys,
            [
                "cloud-project",
                "commerce-admin",
                "commerce-cloud-service",
                "site-search",
                "spryker-back-office"
            ]
        );
        let magento = c.get("commerce-admin").unwrap();
        assert_eq!(magento.resources.len(), 231);
        assert!(magento.def.one_role_per_user);
        assert!(magento.def.keep_an_administrator);
        use rolecall_core::validate::RoleNaming;
        assert_eq!(
            c.get("site-search").unwrap().def.role_names,
            RoleNaming::Identifier
        );
        assert_eq!(magento.def.role_names, RoleNaming::Printable);
        let cloud = c.get("cloud-project").unwrap();
        assert!(cloud
            .def
            .default_roles
            .iter()
            .any(|r| r.name == "Project Admin" && r.formerly == ["Project-Admin"]));
        // Seed 003: sections x view/add/edit, roles through groups, agent assist.
        let spryker = c.get("spryker-back-office").unwrap();
        assert!(spryker.def.roles_through_groups);
        assert_eq!(spryker.def.actions, ["view", "add", "edit", "assist"]);
        let impersonate = spryker.resource("agent-assist:impersonate").unwrap();
        let assist = spryker.action_slot("assist").unwrap();
        assert_ne!(
            spryker.resources[impersonate as usize].action_mask & (1 << assist),
            0
        );
        // Seed 000: the product with its Default profile bundling Users; Admins beside it.
        let service = c.get("commerce-cloud-service").unwrap();
        let roles: Vec<&str> = service
            .def
            .default_roles
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(roles, ["Users", "Admins"]);
        assert_eq!(service.def.default_profiles[0].name, "Default");
        assert_eq!(service.def.default_profiles[0].roles, ["Users"]);
        assert!(magento.resource("Magento_Sales::sales_order").is_some());
        assert_eq!(magento.resources[0].id, "Magento_Backend::admin");
    }
}
