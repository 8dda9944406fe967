//! clouds.yaml, read from a file as keyctl reads it, and merged into a profile.
#![no_main]

use keyctl::config::{Origin, Profile};
use keyctl::provider::openstack::{self, load_cloud, resolve_cloud_with, SearchPath};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("clouds.yaml");
    std::fs::write(&path, data).unwrap();
    let search = SearchPath::explicit(path, None);
    let _ = load_cloud("c", &search);
    let profile = Profile::new(
        "os",
        openstack::KIND,
        Origin::Environment,
        openstack::Settings::default(),
    );
    let _ = resolve_cloud_with(&profile, "c", &search);
});
