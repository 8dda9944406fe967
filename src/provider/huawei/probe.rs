//! KPS's reply readers as plain functions of a reply, for the property tests
//! (tests/properties.rs) and the fuzz targets (fuzz/): each runs what a real reply meets once
//! the HTTP layer hands it over, with a provider that never sends anything. Not an API.

use std::sync::OnceLock;

use super::paging::Pages;
use super::{wire, KpsProvider, Op, Settings, KIND};
use crate::config::{Origin, Profile, SecretSource};
use crate::error::Result;
use crate::http::{Http, HttpOptions, HttpResponse, Verdict};
use crate::model::KeyPair;
use crate::provider::paging::MarkerReply;
use crate::provider::Context;
use crate::secret::Secret;

/// The project every reply is read for.
pub const PROJECT: &str = "0b7ea2f4c0d24a1e9a6a2f6e8d3c1b5a";
/// The region of the provider the replies are read with.
pub const REGION: &str = "cn-north-4";

/// One provider for every call: building its HTTP client costs far more than a read.
fn provider() -> &'static KpsProvider {
    static KPS: OnceLock<KpsProvider> = OnceLock::new();
    KPS.get_or_init(|| {
        let inline = |v: &str| Some(SecretSource::Inline(Secret::new(v)));
        let settings = Settings {
            project_id: Some(PROJECT.into()),
            access_key: inline("PROBEAK0000000000001"),
            secret_key: inline("probe-secret-key-0000000000000000000000"),
            ..Settings::default()
        };
        let p = Profile::new("hw", KIND, Origin::Environment, settings);
        let http = Http::new(HttpOptions::default()).expect("an HTTP client with no settings");
        let ctx = Context::new(http, None);
        KpsProvider::new(&p, Some(REGION.to_string()), &ctx).expect("an offline KPS provider")
    })
}

/// A ListKeypairs page as the walk reads it: its key pairs, each converted, and the marker of
/// the next page.
pub fn list_page(resp: &HttpResponse) -> Result<(Vec<KeyPair>, Option<String>)> {
    let pages = Pages {
        kps: provider(),
        project_id: PROJECT,
    };
    let (items, next) = pages.read(resp)?;
    let keys = items
        .iter()
        .map(|item| pages.convert(resp, item))
        .collect::<Result<_>>()?;
    Ok((keys, next))
}

/// A key pair detail reply, as `show` reads it.
pub fn detail(resp: &HttpResponse) -> Result<KeyPair> {
    provider().detail_to_keypair(resp, PROJECT)
}

/// IAM's project list, as the project id lookup reads it: the id of the project named
/// [`REGION`], if there is one.
pub fn projects(resp: &HttpResponse) -> Result<Option<String>> {
    wire::project_named(resp, REGION)
}

/// The verdicts on a reply to a list, a show (of `name`) and an IAM lookup.
pub fn judge(resp: &HttpResponse, name: &str) -> [Verdict; 3] {
    let kps = provider();
    [
        kps.judge(resp, Op::List),
        kps.judge(resp, Op::Show(name)),
        kps.judge(resp, Op::Iam),
    ]
}
