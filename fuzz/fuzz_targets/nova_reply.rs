//! Nova replies: a list page (paged and not, as ECS and as OpenStack), a detail, the version
//! document, and the errors a failed reply makes (Nova's and Keystone's). The first two bytes
//! pick the status the error readers see, the rest is the body.
#![no_main]

use keyctl::http::HttpResponse;
use keyctl::provider::openstack::probe::{self, Reading};
use keyctl::provider::openstack::Microversion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 500, rest),
        _ => (200, data),
    };
    let ok = HttpResponse {
        status: 200,
        headers: http::HeaderMap::new(),
        body: body.to_vec(),
    };
    for ecs in [false, true] {
        for microversion in [Microversion(2, 1), Microversion(2, 35)] {
            let _ = probe::list_page(&ok, Reading { ecs, microversion }, Some("user"));
        }
        let _ = probe::detail(&ok, ecs, None);
    }
    let _ = probe::version_document(&ok);
    let failed = HttpResponse { status, ..ok };
    let _ = probe::errors(&failed, "key", "user");
});
