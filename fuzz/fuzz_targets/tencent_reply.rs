//! Tencent CVM replies: the judge (the body decides, even with HTTP 200) and a DescribeKeyPairs
//! page. The first two bytes pick the status, the rest is the body.
#![no_main]

use keyctl::http::HttpResponse;
use keyctl::provider::tencent::probe;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [a, b, rest @ ..] => (100 + u16::from_be_bytes([*a, *b]) % 500, rest),
        _ => (200, data),
    };
    for status in [200, status] {
        let resp = HttpResponse {
            status,
            headers: http::HeaderMap::new(),
            body: body.to_vec(),
        };
        let _ = probe::judge(&resp);
        let _ = probe::page(&resp);
    }
});
