//! Keystone replies: a token reply (its catalog then searched for compute, as a session does)
//! and a role assignment list.
#![no_main]

use keyctl::http::HttpResponse;
use keyctl::provider::openstack::keystone;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut headers = http::HeaderMap::new();
    headers.insert("x-subject-token", http::HeaderValue::from_static("token"));
    let resp = HttpResponse {
        status: 201,
        headers,
        body: data.to_vec(),
    };
    if let Ok(issued) = keystone::parse_issued(&resp) {
        let endpoints = &issued.compute_endpoints;
        let _ = keystone::select_compute(endpoints, "public", None);
        let _ = keystone::select_compute(endpoints, "internalURL", Some("RegionOne"));
        let _ = keystone::compute_regions(endpoints, "public");
    }
    if let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = keystone::assigned_users(&body);
    }
});
