//! The providers keyctl knows. Adding a cloud is a folder beside this file and a line here.

use std::sync::LazyLock;

use super::{huawei, huawei_ecs, openstack, tencent, Cloud};
use crate::config::{Schema, Schemas};
use crate::model::ProviderKind;

/// Every provider, in the order implicit profiles are listed.
static CLOUDS: &[&dyn Cloud] = &[
    &huawei::Kps,
    &huawei_ecs::Ecs,
    &tencent::Tencent,
    &openstack::OpenStack,
];

/// The same list as the config layer sees it.
static SCHEMAS: LazyLock<Vec<&'static dyn Schema>> =
    LazyLock::new(|| CLOUDS.iter().map(|c| *c as &dyn Schema).collect());

pub fn find(name: &str) -> Option<&'static dyn Cloud> {
    CLOUDS.iter().copied().find(|c| c.name() == name)
}

pub fn schemas() -> Schemas {
    Schemas(SCHEMAS.as_slice())
}

/// `provider = "…"` values, sorted (for `--provider` and messages).
pub fn names() -> Vec<&'static str> {
    schemas().names()
}

/// The kind named `name`, if a provider has that name.
pub fn kind(name: &str) -> Option<ProviderKind> {
    find(name).map(|c| ProviderKind::new(c.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_is_found_by_its_name() {
        for schema in schemas().iter() {
            assert_eq!(find(schema.name()).unwrap().name(), schema.name());
        }
        assert_eq!(names(), ["huawei", "huawei-ecs", "openstack", "tencent"]);
        assert_eq!(kind("tencent"), Some(tencent::KIND));
        assert_eq!(kind("aws"), None);
    }
}
