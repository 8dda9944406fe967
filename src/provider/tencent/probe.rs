//! DescribeKeyPairs' reply readers as plain functions of a reply, for the property tests
//! (tests/properties.rs) and the fuzz targets (fuzz/): each runs what a real reply meets once
//! the HTTP layer hands it over, with a provider that never sends anything. Not an API.

use std::sync::{Mutex, OnceLock};

use super::errors::judge_page;
use super::{Settings, TencentProvider, KIND};
use crate::config::{Origin, Profile, SecretSource};
use crate::error::Result;
use crate::http::{Http, HttpOptions, HttpResponse, Verdict};
use crate::model::KeyPair;
use crate::provider::Context;
use crate::secret::Secret;

/// One provider for every call: building its HTTP client costs far more than a read.
fn provider() -> &'static TencentProvider {
    static TC: OnceLock<TencentProvider> = OnceLock::new();
    TC.get_or_init(|| {
        let inline = |v: &str| Some(SecretSource::Inline(Secret::new(v)));
        let settings = Settings {
            secret_id: inline("AKIDprobe0000000000000000000000000000"),
            secret_key: inline("probe-secret-key-00000000000000000"),
            ..Settings::default()
        };
        let p = Profile::new("tc", KIND, Origin::Environment, settings);
        let http = Http::new(HttpOptions::default()).expect("an HTTP client with no settings");
        let ctx = Context::new(http, None);
        let region = Some("ap-guangzhou".to_string());
        TencentProvider::new(&p, region, &ctx).expect("an offline Tencent provider")
    })
}

/// The verdict on a reply (Tencent answers its errors with HTTP 200: the body decides).
pub fn judge(resp: &HttpResponse) -> Verdict {
    super::errors::judge(resp)
}

/// A DescribeKeyPairs page as the walk reads it: the verdict on it, then its TotalCount and its
/// key pairs, each converted. A refused reply is its verdict's error.
pub fn page(resp: &HttpResponse) -> Result<(u64, Vec<KeyPair>)> {
    let judged = Mutex::new(None);
    match judge_page(resp, &judged) {
        Verdict::Accept => {}
        Verdict::Retry { error, .. } | Verdict::Fail(error) => return Err(error),
    }
    let (total, keys) = super::paging::read_page(resp, judged)?;
    let tc = provider();
    Ok((total, keys.into_iter().map(|k| tc.to_keypair(k)).collect()))
}
