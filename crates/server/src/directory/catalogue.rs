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
        assert_eq!(keys, ["cloud-project", "commerce-admin", "site-search"]);
        let magento = c.get("commerce-admin").unwrap();
        assert_eq!(magento.resources.len(), 231);
        assert!(magento.def.one_role_per_user);
        assert!(magento.resource("Magento_Sales::sales_order").is_some());
        assert_eq!(magento.resources[0].id, "Magento_Backend::admin");
    }
}
