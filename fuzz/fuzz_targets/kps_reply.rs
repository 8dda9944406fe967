//! KPS replies: a list page, a detail, IAM's project list, and the judge of a failed reply.
//! The first two bytes pick the status the judge sees, the rest is the body.
#![no_main]

use keyctl::http::HttpResponse;
use keyctl::provider::huawei::probe;
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
    let _ = probe::list_page(&ok);
    let _ = probe::detail(&ok);
    let _ = probe::projects(&ok);
    let failed = HttpResponse { status, ..ok };
    let _ = probe::judge(&failed, "key");
});
