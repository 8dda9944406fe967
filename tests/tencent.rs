//! The Tencent adapter against the in-process emulator, which verifies every TC3 signature from
//! the raw request it received (its own code, not keyctl's signer) and enforces the API's
//! 10 requests/second limit per SecretId.

mod common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use keyctl::config::Profile;
use keyctl::error::{Error, Kind};
use keyctl::model::{KeyPair, KeyType, ProviderKind};
use keyctl::provider::tencent::TencentProvider;
use keyctl::provider::{Context, ListQuery, Provider};
use keyctl_emulator::faults::FaultConfig;
use keyctl_emulator::keys::{generate, SeedKey};
use keyctl_emulator::tencent::{seed_keys, TcKey, TencentConfig, DEMO_SECRET_ID, DEMO_SECRET_KEY};
use keyctl_emulator::{Config, Emulator};

fn emulator(tencent: TencentConfig) -> Emulator {
    Emulator::start(Config {
        tencent,
        ..Default::default()
    })
}

fn with_keys(n: usize) -> TencentConfig {
    TencentConfig {
        keys: seed_keys(&generate("tc", n, 7)),
        ..Default::default()
    }
}

fn profile(name: &str, emu: &Emulator, region: &str, secret_id: &str, secret_key: &str) -> Profile {
    let mut p = common::profile(name, ProviderKind::new("tencent"));
    p.endpoint = Some(emu.url());
    p.region = Some(region.to_string());
    common::inline_secret(&mut p, "secret_id", secret_id);
    common::inline_secret(&mut p, "secret_key", secret_key);
    p
}

fn demo_profile(emu: &Emulator) -> Profile {
    profile("tc", emu, "ap-guangzhou", DEMO_SECRET_ID, DEMO_SECRET_KEY)
}

/// Retries fast enough for tests, with room for a few throttled answers in a row.
fn context() -> Context {
    common::fast_context(10, 10, 100, None)
}

fn provider(p: &Profile, ctx: &Context) -> TencentProvider {
    TencentProvider::new(p, None, ctx).expect("provider builds")
}

fn ids(keys: &[KeyPair]) -> Vec<String> {
    keys.iter()
        .map(|k| k.id.clone().unwrap_or_default())
        .collect()
}

fn assert_complete(got: &[KeyPair], expected: &[TcKey]) {
    let got_ids = ids(got);
    let unique: HashSet<&String> = got_ids.iter().collect();
    assert_eq!(unique.len(), got_ids.len(), "no duplicates");
    let want: HashSet<String> = expected.iter().map(|k| k.key_id.clone()).collect();
    let have: HashSet<String> = got_ids.into_iter().collect();
    assert_eq!(have, want, "exactly the emulator's key set");
}

fn expect_err<T: std::fmt::Debug>(r: Result<T, Error>) -> Error {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_1000_key_pairs_completely_without_tripping_the_limit() {
    let emu = emulator(with_keys(1000));
    let ctx = context();
    let started = Instant::now();
    let keys = provider(&demo_profile(&emu), &ctx)
        .list(&ListQuery::default())
        .await
        .expect("list");
    let took = started.elapsed();
    let state = &emu.state().tencent;
    assert_complete(&keys, &state.keys());
    assert_eq!(state.requests(), 10, "ceil(1000/100) pages, no retries");
    assert_eq!(
        state.rate_limited(),
        0,
        "the emulator never refused a request"
    );
    // 10 requests fit one window of the limiter (10 starts per 1.053 s): the first page, then
    // the other nine at once. That the emulator refused none is the proof of staying under it.
    assert!(
        took < Duration::from_secs(4),
        "much slower than the rate floor: {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn maps_every_field() {
    let emu = emulator(with_keys(40));
    let ctx = context();
    let keys = provider(&demo_profile(&emu), &ctx)
        .list(&ListQuery::default())
        .await
        .expect("list");
    let seeded = emu.state().tencent.keys();
    assert_eq!(keys.len(), seeded.len());
    for (k, s) in keys.iter().zip(&seeded) {
        assert_eq!(k.id.as_deref(), Some(s.key_id.as_str()));
        assert_eq!(k.name, s.name);
        assert_eq!(k.provider, ProviderKind::new("tencent"));
        assert_eq!(k.profile, "tc");
        assert_eq!(k.region.as_deref(), Some("ap-guangzhou"));
        assert_eq!(k.key_type, Some(KeyType::Ssh));
        assert_eq!(k.project_id, Some(s.project_id.to_string()));
        assert_eq!(k.public_key.as_deref(), Some(s.public_key.as_str()));
        assert_eq!(
            k.description.as_deref(),
            Some(s.description.as_str()).filter(|d| !d.is_empty())
        );
        assert_eq!(k.instance_ids.as_deref(), Some(s.instance_ids.as_slice()));
        let tags: Vec<(String, String)> = k.tags.clone().unwrap_or_default().into_iter().collect();
        assert_eq!(tags, s.tags);
        let created = k
            .created_at
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        assert_eq!(created.as_deref(), Some(s.created_time.as_str()));
        assert_eq!(
            k.provider_fingerprint, None,
            "Tencent returns no fingerprint"
        );
    }
    assert!(keys
        .iter()
        .any(|k| k.tags.as_ref().is_some_and(|t| !t.is_empty())));
    assert!(keys
        .iter()
        .any(|k| k.instance_ids.as_ref().is_some_and(|i| !i.is_empty())));
    assert!(keys.iter().any(|k| k.project_id.as_deref() == Some("1001")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_internal_errors_still_give_the_complete_set() {
    let faults = FaultConfig {
        throttle_rate: 0.25,
        error_rate: 0.15,
        fail_first: 1,
        seed: 42,
        ..Default::default()
    };
    let emu = Emulator::start(Config {
        tencent: with_keys(1000),
        faults,
        ..Default::default()
    });
    let ctx = context();
    let keys = provider(&demo_profile(&emu), &ctx)
        .list(&ListQuery::default())
        .await
        .expect("list");
    assert_complete(&keys, &emu.state().tencent.keys());
    let (_, injected) = emu.state().faults.counts();
    assert!(injected >= 2, "faults were injected: {injected}");
    assert!(emu.state().tencent.requests() >= 10 + injected);
    assert_eq!(emu.state().tencent.rate_limited(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn set_changing_mid_walk_gives_no_duplicates() {
    let late = SeedKey {
        name: "late_key".into(),
        public_key: generate("x", 1, 99).remove(0).public_key,
    };
    // After the first page the new key lands at the front: every later page shifts by one, so
    // the last key of page 1 comes back again on page 2.
    let config = TencentConfig {
        insert_after_requests: Some((1, late)),
        ..with_keys(250)
    };
    let original: Vec<TcKey> = config.keys.clone();
    let emu = emulator(config);
    let ctx = context();
    let keys = provider(&demo_profile(&emu), &ctx)
        .list(&ListQuery::default())
        .await
        .expect("list");
    assert_eq!(emu.state().tencent.keys().len(), 251, "the set did change");
    let got = ids(&keys);
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(
        unique.len(),
        got.len(),
        "no duplicates: {} of {}",
        unique.len(),
        got.len()
    );
    for k in &original {
        assert!(unique.contains(&k.key_id), "{} is missing", k.key_id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn name_filter_keeps_exact_matches_only() {
    let emu = emulator(with_keys(30));
    let ctx = context();
    let p = provider(&demo_profile(&emu), &ctx);
    let one = p
        .list(&ListQuery {
            name: Some("tc_00012".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_eq!(
        one.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
        ["tc_00012"]
    );
    // The server's key-name filter is fuzzy (tc_00010 … tc_00019 contain it); none is exact.
    let none = p
        .list(&ListQuery {
            name: Some("tc_0001".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    assert!(none.is_empty(), "{:?}", ids(&none));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_filter_is_pushed_down() {
    let emu = emulator(with_keys(100));
    let ctx = context();
    let p = provider(&demo_profile(&emu), &ctx);
    let got = p
        .list(&ListQuery {
            project_id: Some("1001".into()),
            ..Default::default()
        })
        .await
        .expect("list");
    let want: Vec<TcKey> = emu
        .state()
        .tencent
        .keys()
        .into_iter()
        .filter(|k| k.project_id == 1001)
        .collect();
    assert!(!want.is_empty());
    assert_complete(&got, &want);
    let e = expect_err(
        p.list(&ListQuery {
            project_id: Some("default".into()),
            ..Default::default()
        })
        .await,
    );
    assert_eq!(e.kind, Kind::Usage);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_are_followed_to_the_end() {
    let emu = emulator(with_keys(95));
    let ctx = context();
    let p = provider(&demo_profile(&emu), &ctx);
    let keys = p
        .list(&ListQuery {
            page_size: Some(10),
            ..Default::default()
        })
        .await
        .expect("list");
    assert_complete(&keys, &emu.state().tencent.keys());
    assert_eq!(emu.state().tencent.requests(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_by_id_and_by_name() {
    let emu = emulator(with_keys(30));
    let ctx = context();
    let p = provider(&demo_profile(&emu), &ctx);
    let target = emu.state().tencent.keys()[12].clone();
    let by_id = p
        .show(&target.key_id, &ListQuery::default())
        .await
        .expect("show by id");
    assert_eq!(by_id.name, target.name);
    let by_name = p
        .show(&target.name, &ListQuery::default())
        .await
        .expect("show by name");
    assert_eq!(by_name.id.as_deref(), Some(target.key_id.as_str()));

    let e = expect_err(p.show("skey-zzzzzzzz", &ListQuery::default()).await);
    assert_eq!(e.kind, Kind::NotFound);
    let e = expect_err(p.show("no_such_key", &ListQuery::default()).await);
    assert_eq!(e.kind, Kind::NotFound);
    assert!(e.hint.is_some());
    // A fuzzy-only match is not a match.
    let e = expect_err(p.show("tc_0001", &ListQuery::default()).await);
    assert_eq!(e.kind, Kind::NotFound);
    let e = expect_err(p.show("skey-BAD", &ListQuery::default()).await);
    assert_eq!(e.kind, Kind::Usage, "malformed id: {e}");
    assert_eq!(e.place.code.as_deref(), Some("InvalidKeyPairId.Malformed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn show_of_an_ambiguous_name_lists_the_ids() {
    let mut config = with_keys(10);
    let twin = config.keys[0].name.clone();
    config.keys[5].name = twin.clone();
    let (a, b) = (config.keys[0].key_id.clone(), config.keys[5].key_id.clone());
    let emu = emulator(config);
    let ctx = context();
    let e = expect_err(
        provider(&demo_profile(&emu), &ctx)
            .show(&twin, &ListQuery::default())
            .await,
    );
    assert_eq!(e.kind, Kind::Usage);
    assert!(
        e.message.contains("ambiguous") && e.message.contains(&a) && e.message.contains(&b),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_key_is_an_auth_error() {
    let emu = emulator(with_keys(3));
    let ctx = context();
    let p = profile(
        "tc",
        &emu,
        "ap-guangzhou",
        DEMO_SECRET_ID,
        "not-the-right-secret-key",
    );
    let e = expect_err(provider(&p, &ctx).list(&ListQuery::default()).await);
    assert_eq!(e.kind, Kind::Auth);
    assert_eq!(
        e.place.code.as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    assert!(e.hint.unwrap_or_default().contains("SecretKey"));
    assert!(e.place.request_id.is_some(), "the RequestId is carried");
    assert_eq!(e.attempts, Some(1), "auth failures are not retried");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_secret_id_is_an_auth_error_with_its_hint() {
    let emu = emulator(with_keys(3));
    let ctx = context();
    let p = profile(
        "tc",
        &emu,
        "ap-guangzhou",
        "AKIDunknown0000000000000000000000",
        DEMO_SECRET_KEY,
    );
    let e = expect_err(provider(&p, &ctx).list(&ListQuery::default()).await);
    assert_eq!(e.kind, Kind::Auth);
    assert_eq!(
        e.place.code.as_deref(),
        Some("AuthFailure.SecretIdNotFound")
    );
    let hint = e.hint.clone().unwrap_or_default();
    assert!(
        hint.contains("SecretId is wrong") && hint.contains("deleted"),
        "{hint}"
    );
    assert!(
        !e.to_string().contains("AKIDunknown"),
        "the SecretId is not printed: {e}"
    );
}

/// Two walks at once (ap-guangzhou and ap-shanghai) under these SecretIds, each with its own
/// context and so its own limiter, as two keyctl runs would have: how many key pairs each got.
async fn walks_with_own_limiters(emu: &Emulator, secret_ids: [&str; 2]) -> [usize; 2] {
    let (ctx_a, ctx_b) = (context(), context());
    let a = provider(
        &profile("a", emu, "ap-guangzhou", secret_ids[0], DEMO_SECRET_KEY),
        &ctx_a,
    );
    let b = provider(
        &profile("b", emu, "ap-shanghai", secret_ids[1], DEMO_SECRET_KEY),
        &ctx_b,
    );
    let query = ListQuery::default();
    let (ra, rb) = tokio::join!(a.list(&query), b.list(&query));
    [ra.expect("a").len(), rb.expect("b").len()]
}

/// The emulator's extra SecretIds (what the benchmark rotates through): accepted with the same
/// SecretKey, each with its own rate window. Two walks at once under two SecretIds, each with
/// its own limiter, are not throttled; the same load under one SecretId is
/// (`separate_limiters_would_trip_the_limit`, the control).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_secret_ids_are_accepted_each_with_its_own_limit() {
    const OTHER: &str = "AKIDbenchOther000000000000000000001";
    let emu = emulator(TencentConfig {
        more_secret_ids: vec![OTHER.into()],
        ..with_keys(1000)
    });
    assert_eq!(
        walks_with_own_limiters(&emu, [DEMO_SECRET_ID, OTHER]).await,
        [1000, 1000]
    );
    assert_eq!(emu.state().tencent.requests(), 20);
    assert_eq!(
        emu.state().tencent.rate_limited(),
        0,
        "each SecretId has its own window"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn temporary_credentials_send_their_token() {
    let emu = emulator(TencentConfig {
        token: Some("tmp-token-0123456789".into()),
        ..with_keys(5)
    });
    let ctx = context();
    let mut p = demo_profile(&emu);
    let e = expect_err(provider(&p, &ctx).list(&ListQuery::default()).await);
    assert_eq!(e.kind, Kind::Auth);
    assert_eq!(e.place.code.as_deref(), Some("AuthFailure.TokenFailure"));
    assert!(e.hint.unwrap_or_default().contains("temporary"));
    common::inline_secret(&mut p, "token", "tmp-token-0123456789");
    let keys = provider(&p, &ctx)
        .list(&ListQuery::default())
        .await
        .expect("list with token");
    assert_eq!(keys.len(), 5);
}

/// What a raw request signs and what it sends, so a test can make them differ.
struct Raw<'a> {
    timestamp: i64,
    signed_host: Option<&'a str>,
    signed_body: &'a [u8],
    sent_body: &'a [u8],
}

impl Raw<'_> {
    fn at(timestamp: i64) -> Raw<'static> {
        let body: &'static [u8] = br#"{"Limit": 5}"#;
        Raw {
            timestamp,
            signed_host: None,
            signed_body: body,
            sent_body: body,
        }
    }
}

/// A request signed by keyctl's signer and sent with plain reqwest; the emulator's JSON reply.
async fn raw_describe(emu: &Emulator, raw: Raw<'_>) -> serde_json::Value {
    use keyctl::sign::tencent::{sign, Credentials, Payload, Request};
    let host = emu.addr.to_string();
    let signature = sign(
        &Request {
            method: "POST",
            host: raw.signed_host.unwrap_or(&host),
            content_type: "application/json",
            canonical_query: "",
            extra_signed_headers: &[],
            payload: Payload::Body(raw.signed_body),
            service: "cvm",
            timestamp: raw.timestamp,
        },
        &Credentials {
            secret_id: DEMO_SECRET_ID,
            secret_key: DEMO_SECRET_KEY,
        },
    );
    let resp = reqwest::Client::new()
        .post(format!("{}/", emu.url()))
        .header("Content-Type", "application/json")
        .header("X-TC-Action", "DescribeKeyPairs")
        .header("X-TC-Version", "2017-03-12")
        .header("X-TC-Region", "ap-guangzhou")
        .header("X-TC-Timestamp", raw.timestamp.to_string())
        .header("Authorization", signature.authorization)
        .body(raw.sent_body.to_vec())
        .send()
        .await
        .expect("emulator answers");
    assert_eq!(resp.status(), 200, "Tencent errors are HTTP 200 too");
    assert!(
        resp.headers().contains_key("date"),
        "a Date header for clock-skew hints"
    );
    let bytes = resp.bytes().await.expect("reply body");
    serde_json::from_slice(&bytes).expect("JSON reply")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emulator_checks_host_and_body_as_received() {
    let emu = emulator(with_keys(8));
    let now = chrono::Utc::now().timestamp();
    let code = |reply: &serde_json::Value| {
        reply["Response"]["Error"]["Code"]
            .as_str()
            .map(str::to_string)
    };
    let other_host = Raw {
        signed_host: Some("cvm.tencentcloudapi.com"),
        ..Raw::at(now)
    };
    assert_eq!(
        code(&raw_describe(&emu, other_host).await).as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    let tampered = Raw {
        sent_body: br#"{"Limit": 6}"#,
        ..Raw::at(now)
    };
    assert_eq!(
        code(&raw_describe(&emu, tampered).await).as_deref(),
        Some("AuthFailure.SignatureFailure")
    );
    let honest = raw_describe(&emu, Raw::at(now)).await;
    assert_eq!(code(&honest), None, "{honest}");
    assert_eq!(
        honest["Response"]["KeyPairSet"].as_array().map(Vec::len),
        Some(5)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_timestamp_is_signature_expire() {
    let emu = emulator(with_keys(8));
    let now = chrono::Utc::now().timestamp();
    let fresh = raw_describe(&emu, Raw::at(now)).await;
    assert_eq!(fresh["Response"]["TotalCount"], 8, "{fresh}");
    let stale = now - 600;
    let reply = raw_describe(&emu, Raw::at(stale)).await;
    let error = &reply["Response"]["Error"];
    assert_eq!(error["Code"], "AuthFailure.SignatureExpire", "{reply}");
    let message = error["Message"].as_str().unwrap_or_default();
    assert!(message.contains(&stale.to_string()), "{message}");
    assert!(reply["Response"]["RequestId"]
        .as_str()
        .is_some_and(|r| r.len() == 36));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_profiles_with_one_secret_id_share_the_limit() {
    let emu = emulator(with_keys(1000));
    let ctx = context();
    let a = provider(
        &profile("a", &emu, "ap-guangzhou", DEMO_SECRET_ID, DEMO_SECRET_KEY),
        &ctx,
    );
    let b = provider(
        &profile("b", &emu, "ap-shanghai", DEMO_SECRET_ID, DEMO_SECRET_KEY),
        &ctx,
    );
    let started = Instant::now();
    let query = ListQuery::default();
    let (ra, rb) = tokio::join!(a.list(&query), b.list(&query));
    let took = started.elapsed();
    assert_eq!(ra.expect("a").len(), 1000);
    assert_eq!(rb.expect("b").len(), 1000);
    assert_eq!(emu.state().tencent.requests(), 20);
    assert_eq!(
        emu.state().tencent.rate_limited(),
        0,
        "one budget for one SecretId"
    );
    // One budget of 10 starts per 1.053 s: the 11th of the 20 requests waits for the second
    // window.
    assert!(
        took >= Duration::from_millis(1000),
        "20 requests under one budget cannot fit one window: {took:?}"
    );
}

/// The control for the test above: with separate limiters (as two runs would have) the same
/// load does trip the server's limit, so the shared limiter is what keeps it away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn separate_limiters_would_trip_the_limit() {
    let emu = emulator(with_keys(1000));
    // Both still complete: RequestLimitExceeded is retried.
    let listed = walks_with_own_limiters(&emu, [DEMO_SECRET_ID, DEMO_SECRET_ID]).await;
    assert_eq!(listed, [1000, 1000]);
    assert!(
        emu.state().tencent.rate_limited() > 0,
        "19/s against a 10/s limit must be refused sometimes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_problems_are_config_errors() {
    let emu = emulator(with_keys(3));
    let ctx = context();
    let p = profile("tc", &emu, "xx-nowhere-1", DEMO_SECRET_ID, DEMO_SECRET_KEY);
    let e = expect_err(provider(&p, &ctx).list(&ListQuery::default()).await);
    assert_eq!(e.kind, Kind::Config);
    assert_eq!(e.place.code.as_deref(), Some("UnsupportedRegion"));
    let mut p = demo_profile(&emu);
    p.region = None;
    let e = match TencentProvider::new(&p, None, &ctx) {
        Ok(_) => panic!("a region is required"),
        Err(e) => e,
    };
    assert_eq!(e.kind, Kind::Config);
    assert!(e.hint.unwrap_or_default().contains("region"));
}

/// Wall time of listing N key pairs vs the rate floor, with and without network latency. Run
/// by hand: `cargo test --release --test tencent -- --ignored --nocapture measure`
#[ignore]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn measure_listing_time_against_the_rate_floor() {
    for latency_ms in [0u64, 50] {
        for n in [1000usize, 10_000] {
            let emu = Emulator::start(Config {
                tencent: with_keys(n),
                latency: Duration::from_millis(latency_ms),
                ..Default::default()
            });
            let ctx = context();
            let p = provider(&demo_profile(&emu), &ctx);
            let started = Instant::now();
            let keys = p.list(&ListQuery::default()).await.expect("list");
            let took = started.elapsed();
            let requests = n.div_ceil(100);
            // The first request leaves at t=0, so the floor is (requests - 1) intervals.
            println!(
                "latency {latency_ms} ms, N={n}: {} keys in {:.3} s; {} requests, {} refused; \
                 floor at 10/s {:.3} s, at 9.5/s {:.3} s",
                keys.len(),
                took.as_secs_f64(),
                emu.state().tencent.requests(),
                emu.state().tencent.rate_limited(),
                (requests - 1) as f64 / 10.0,
                (requests - 1) as f64 / 9.5
            );
            assert_eq!(keys.len(), n);
        }
    }
}

#[tokio::test]
async fn a_name_that_is_a_path_step_is_refused_before_any_request() {
    let emu = emulator(with_keys(3));
    let ctx = context();
    let tc = provider(&demo_profile(&emu), &ctx);
    for name in ["..", ".", ""] {
        let e = expect_err(tc.show(name, &ListQuery::default()).await);
        assert_eq!(e.kind, Kind::Usage, "{name:?}: {e}");
    }
    assert_eq!(emu.state().tencent.requests(), 0);
}
