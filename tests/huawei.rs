//! The Huawei KPS v3 adapter against the in-process emulator, which verifies every AK/SK
//! signature from the raw request it received (its verifier shares no code with keyctl's
//! signer).

use chrono::{TimeZone, Utc};
use keyctl::config::Profile;
use keyctl::error::{Error, Kind};
use keyctl::model::{KeyPair, KeyType, ProviderKind, Status};
use keyctl::provider::huawei::KpsProvider;
use keyctl::provider::{Context, ListQuery, Provider};
use keyctl::sign::huawei as signer;
use keyctl_emulator::faults::FaultConfig;
use keyctl_emulator::huawei::{
    HuaweiConfig, HuaweiKey, LastPageStyle, Misbehave, DEMO_ACCESS_KEY, DEMO_PROJECT_ID,
    DEMO_SECRET_KEY,
};
use keyctl_emulator::{Config, Emulator};

const REGION: &str = "cn-north-4";

fn start(huawei: HuaweiConfig) -> Emulator {
    Emulator::start(Config {
        huawei,
        ..Default::default()
    })
}

fn start_with_faults(huawei: HuaweiConfig, faults: FaultConfig) -> Emulator {
    Emulator::start(Config {
        huawei,
        faults,
        ..Default::default()
    })
}

fn secret(p: &mut Profile, key: &str, value: &str) {
    common::inline_secret(p, key, value);
}

/// A profile pointing at the emulator with its demo AK/SK and project.
fn profile(emu: &Emulator) -> Profile {
    let mut p = common::profile("hw", ProviderKind::new("huawei"));
    p.endpoint = Some(emu.url());
    p.region = Some(REGION.to_string());
    common::set(&mut p, "project_id", DEMO_PROJECT_ID);
    secret(&mut p, "access_key", DEMO_ACCESS_KEY);
    secret(&mut p, "secret_key", DEMO_SECRET_KEY);
    p
}

/// Fast retries so fault-injection tests take milliseconds.
fn ctx() -> Context {
    common::fast_context(6, 2, 10, None)
}

fn provider(p: &Profile) -> KpsProvider {
    KpsProvider::new(p, p.region.clone(), &ctx()).expect("provider")
}

fn paged(n: u32) -> ListQuery {
    ListQuery {
        page_size: Some(n),
        ..Default::default()
    }
}

fn names(keys: &[KeyPair]) -> Vec<String> {
    keys.iter().map(|k| k.name.clone()).collect()
}

fn expected_names() -> Vec<String> {
    let mut n: Vec<String> = HuaweiConfig::default()
        .keys
        .iter()
        .map(|k| k.name.clone())
        .collect();
    n.sort();
    n
}

async fn list_err(p: &Profile) -> Error {
    provider(p)
        .list(&ListQuery::default())
        .await
        .expect_err("list should fail")
}

#[tokio::test]
async fn lists_every_page_with_each_last_page_style() {
    let total = expected_names().len();
    assert_eq!(total, 27, "the demo set this test is written for");
    let styles = [
        LastPageStyle::Omitted,
        LastPageStyle::Null,
        LastPageStyle::Empty,
        LastPageStyle::RepeatLast,
    ];
    for style in styles {
        // 27 keys by 10: the last page is short. By 9: the last page is full, and only the
        // RepeatLast style needs one more (empty) page to learn that it was the last.
        for (page, expected_requests) in [
            (10, 3),
            (
                9,
                if style == LastPageStyle::RepeatLast {
                    4
                } else {
                    3
                },
            ),
        ] {
            let emu = start(HuaweiConfig {
                last_page_style: style,
                ..Default::default()
            });
            let keys = provider(&profile(&emu))
                .list(&paged(page))
                .await
                .expect("list");
            assert_eq!(names(&keys), expected_names(), "{style:?} by {page}");
            assert_eq!(
                emu.state().huawei.kps_requests(),
                expected_requests,
                "{style:?} by {page}"
            );
        }
    }
}

#[tokio::test]
async fn default_page_is_one_request() {
    let emu = start(HuaweiConfig::default());
    let keys = provider(&profile(&emu))
        .list(&ListQuery::default())
        .await
        .expect("list");
    assert_eq!(keys.len(), 27);
    assert_eq!(emu.state().huawei.kps_requests(), 1);
    assert!(keys
        .iter()
        .all(|k| k.project_id.as_deref() == Some(DEMO_PROJECT_ID)));
    assert!(keys
        .iter()
        .all(|k| k.region.as_deref() == Some(REGION) && k.profile == "hw"));
}

#[tokio::test]
async fn names_with_spaces_and_non_ascii_list_and_show() {
    let emu = start(HuaweiConfig::default());
    let kps = provider(&profile(&emu));
    // Page by 1 so both odd names travel as markers too.
    let keys = kps.list(&paged(1)).await.expect("list");
    let listed = names(&keys);
    assert!(
        listed.contains(&"hw key with spaces".to_string())
            && listed.contains(&"ключ-测试".to_string())
    );
    assert_eq!(listed.len(), 27);
    for name in ["hw key with spaces", "ключ-测试"] {
        let kp = kps.show(name, &ListQuery::default()).await.expect("show");
        assert_eq!(kp.name, name);
        assert_eq!(
            kp.description.as_deref(),
            Some(format!("seeded: {name}").as_str())
        );
        assert!(kp
            .public_key
            .as_deref()
            .is_some_and(|k| k.starts_with("ssh-ed25519 ")));
    }
}

#[tokio::test]
async fn show_maps_detail_fields() {
    let emu = start(HuaweiConfig::default());
    let kps = provider(&profile(&emu));
    // hw-00005 is the fifth generated key: domain scope, hosted private key.
    let kp = kps
        .show("hw-00005", &ListQuery::default())
        .await
        .expect("show");
    assert_eq!(kp.provider, ProviderKind::new("huawei"));
    assert_eq!(kp.id.as_deref(), Some("1004"));
    assert_eq!(
        kp.created_at,
        Utc.with_ymd_and_hms(2024, 1, 1, 4, 0, 0).single()
    );
    assert_eq!(kp.key_type, Some(KeyType::Ssh));
    assert_eq!(kp.scope.as_deref(), Some("domain"));
    assert_eq!(kp.key_protection, Some(true));
    assert_eq!(kp.status, Some(Status::Active));
    assert_eq!(kp.status_code.as_deref(), Some("0"));
    assert_eq!(kp.status_reason.as_deref(), Some("normal"));
    assert_eq!(kp.description.as_deref(), Some("hosted private key"));
    assert_eq!(
        kp.user_id.as_deref(),
        Some(keyctl_emulator::huawei::DEMO_USER_ID)
    );
    assert_eq!(kp.project_id.as_deref(), Some(DEMO_PROJECT_ID));
    assert_eq!(
        kp.extra.get("key_id").and_then(|v| v.as_str()),
        Some("5e5c2b57-1d0d-4a4e-9d8b-6f0c1a2b3c4d")
    );
    assert!(kp.extra.contains_key("update_time") && kp.extra.contains_key("algorithm"));
    let fp = kp.provider_fingerprint.as_deref().expect("fingerprint");
    assert_eq!(
        fp.len(),
        47,
        "MD5 colon-hex as the emulator sends it verbatim: {fp}"
    );

    // Computed locally from the key blob (keys module), and consistent with the cloud's MD5.
    assert_eq!(kp.algorithm.as_deref(), Some("ssh-rsa"));
    assert_eq!(kp.bits, Some(3072));
    assert_eq!(kp.comment.as_deref(), Some("hw-00005@emulator"));
    assert_eq!(kp.fingerprint_md5, Some(format!("MD5:{fp}")));
    assert!(kp
        .fingerprint_sha256
        .as_deref()
        .is_some_and(|f| f.starts_with("SHA256:")));

    // frozen_state comes as an integer in the detail...
    let frozen = kps
        .show("hw-00003", &ListQuery::default())
        .await
        .expect("show");
    assert_eq!(frozen.status, Some(Status::Frozen));
    assert_eq!(frozen.status_code.as_deref(), Some("1"));
    assert_eq!(frozen.status_reason.as_deref(), Some("ordinary freeze"));
    let unverified = kps
        .show("hw-00008", &ListQuery::default())
        .await
        .expect("show");
    assert_eq!(unverified.status_code.as_deref(), Some("10"));
    assert_eq!(
        unverified.status_reason.as_deref(),
        Some("police freeze and not real-name verified")
    );

    // ...and as a string in the list, which has no id, user or time.
    let listed = kps.list(&ListQuery::default()).await.expect("list");
    let item = listed
        .iter()
        .find(|k| k.name == "hw-00003")
        .expect("listed");
    assert_eq!(
        (item.status, item.status_code.as_deref()),
        (Some(Status::Frozen), Some("1"))
    );
    assert_eq!(
        (item.id.as_ref(), item.created_at, item.user_id.as_ref()),
        (None, None, None)
    );
    assert_eq!(item.provider_fingerprint, frozen.provider_fingerprint);
}

#[tokio::test]
async fn show_missing_is_not_found() {
    let emu = start(HuaweiConfig::default());
    let e = provider(&profile(&emu))
        .show("no such key", &ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::NotFound, "{e}");
    assert!(
        e.message
            .contains("no key pair named no such key in profile hw"),
        "{e}"
    );
    assert_eq!(e.place.status, Some(404));
    assert_eq!(
        e.place.code.as_deref(),
        Some(keyctl_emulator::huawei::NOT_FOUND_CODE)
    );
    assert!(e.place.request_id.is_some());
    assert_eq!(e.exit_code(), 5);
}

#[tokio::test]
async fn project_id_is_resolved_once_through_iam() {
    let emu = start(HuaweiConfig::default());
    let mut p = profile(&emu);
    common::set_opt(&mut p, "project_id", None);
    let kps = provider(&p);
    let keys = kps.list(&ListQuery::default()).await.expect("list");
    assert_eq!(keys.len(), 27);
    assert!(keys
        .iter()
        .all(|k| k.project_id.as_deref() == Some(DEMO_PROJECT_ID)));
    kps.show("hw-00001", &ListQuery::default())
        .await
        .expect("show");
    assert_eq!(emu.state().huawei.iam_requests(), 1);

    // A region IAM has no project for is a configuration problem, not a crash.
    p.region = Some("eu-west-0".to_string());
    let e = list_err(&p).await;
    assert_eq!(e.kind, Kind::Config, "{e}");
    assert!(
        e.message.contains("eu-west-0")
            && e.hint.as_deref().is_some_and(|h| h.contains("project_id")),
        "{e}"
    );
    assert!(e.region_unavailable, "--all-regions skips such a region");
}

#[tokio::test]
async fn a_configured_project_id_is_the_home_region_s_only() {
    let emu = start(HuaweiConfig::default());
    let p = profile(&emu);
    // The profile's own region: its project_id, no IAM lookup.
    assert_eq!(
        provider(&p)
            .list(&ListQuery::default())
            .await
            .unwrap()
            .len(),
        27
    );
    assert_eq!(emu.state().huawei.iam_requests(), 0);
    // Another region (regions = […], --region, --all-regions) has its own project: IAM is
    // asked for it, and here knows none.
    let elsewhere = KpsProvider::new(&p, Some("ap-southeast-1".into()), &ctx()).unwrap();
    let e = elsewhere.list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(emu.state().huawei.iam_requests(), 1);
    assert!(
        e.message.contains("ap-southeast-1") && e.region_unavailable,
        "{e}"
    );
}

#[tokio::test]
async fn temporary_credentials_send_and_sign_the_security_token() {
    let token = "emulator-temporary-security-token-0001";
    let emu = start(HuaweiConfig {
        security_token: Some(token.to_string()),
        ..Default::default()
    });
    let mut p = profile(&emu);
    // Without the token the emulator refuses the temporary AK.
    let e = list_err(&p).await;
    assert_eq!(e.kind, Kind::Auth, "{e}");
    secret(&mut p, "security_token", token);
    let keys = provider(&p)
        .list(&paged(10))
        .await
        .expect("list with token");
    assert_eq!(keys.len(), 27);
}

#[tokio::test]
async fn auth_token_mode() {
    let token = "MIIemulatorIAMtokenXXXXXXXXXXXXXXXXXXXX";
    let emu = start(HuaweiConfig {
        auth_token: Some(token.to_string()),
        ..Default::default()
    });
    let mut p = profile(&emu);
    p.edit(|s: &mut keyctl::provider::huawei::Settings| {
        s.access_key = None;
        s.secret_key = None;
    })
    .unwrap();
    secret(&mut p, "auth_token", token);
    let kps = provider(&p);
    assert_eq!(kps.list(&paged(5)).await.expect("list").len(), 27);
    assert_eq!(
        kps.show("ключ-测试", &ListQuery::default())
            .await
            .expect("show")
            .name,
        "ключ-测试"
    );

    p.edit(|s: &mut keyctl::provider::huawei::Settings| {
        s.access_key = None;
        s.secret_key = None;
    })
    .unwrap();
    secret(&mut p, "auth_token", "MIIsomeotherexpiredtokenYYYYYYYYYYY");
    let e = list_err(&p).await;
    assert_eq!(e.kind, Kind::Auth);
    assert!(
        e.hint.as_deref().is_some_and(|h| h.contains("auth_token")),
        "{e:?}"
    );
}

#[tokio::test]
async fn wrong_secret_key_is_an_auth_error_with_a_hint() {
    let emu = start(HuaweiConfig::default());
    let mut p = profile(&emu);
    let wrong = "ThisIsNotTheRightSecretKey00000000000000";
    secret(&mut p, "secret_key", wrong);
    let e = list_err(&p).await;
    assert_eq!(e.kind, Kind::Auth, "{e}");
    assert_eq!(e.exit_code(), 4);
    assert_eq!(e.place.status, Some(401));
    assert_eq!(e.place.code.as_deref(), Some("APIGW.0301"));
    assert!(e.place.request_id.is_some());
    assert_eq!(
        e.attempts,
        Some(1),
        "authentication failures are not retried"
    );
    let hint = e.hint.clone().unwrap_or_default();
    assert!(
        hint.contains("secret_key") && hint.contains("project_id"),
        "{hint}"
    );
    let shown = format!("{e} {hint} {e:?}");
    assert!(
        !shown.contains(wrong) && !shown.contains(DEMO_ACCESS_KEY),
        "{shown}"
    );
    assert!(shown.contains("verify aksk signature fail"), "{shown}");
}

#[tokio::test]
async fn wrong_project_is_refused() {
    let emu = start(HuaweiConfig::default());
    let mut p = profile(&emu);
    common::set(&mut p, "project_id", "00000000000000000000000000000000");
    let e = list_err(&p).await;
    assert_eq!((e.kind, e.place.status), (Kind::Auth, Some(403)), "{e}");
}

/// A request signed with keyctl's signer at a chosen time, sent raw: `signed` headers go into
/// the signature (plus X-Sdk-Date, and Host when `sign_host`), `unsigned` ones are only sent.
struct Raw<'a> {
    at: chrono::DateTime<Utc>,
    sign_host: bool,
    signed: &'a [(&'a str, &'a str)],
    unsigned: &'a [(&'a str, &'a str)],
}

impl Default for Raw<'_> {
    fn default() -> Self {
        Raw {
            at: Utc::now(),
            sign_host: true,
            signed: &[],
            unsigned: &[],
        }
    }
}

async fn raw_get(emu: &Emulator, path_and_query: &str, raw: Raw<'_>) -> (u16, serde_json::Value) {
    let url = url::Url::parse(&format!("{}{path_and_query}", emu.url())).unwrap();
    let host = signer::host_header(&url);
    let mut headers = vec![
        ("Content-Type".to_string(), "application/json".to_string()),
        ("X-Sdk-Date".to_string(), signer::sdk_date(raw.at)),
    ];
    headers.extend(
        raw.signed
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string())),
    );
    if raw.sign_host {
        headers.push(("Host".to_string(), host.clone()));
    }
    let creds = signer::Credentials {
        access_key: DEMO_ACCESS_KEY,
        secret_key: DEMO_SECRET_KEY,
    };
    let sig = signer::sign("GET", &url, &headers, b"", &creds);
    let mut req = reqwest::Client::new()
        .get(url.clone())
        .header("Authorization", sig.authorization)
        .header("Host", host);
    for (k, v) in headers.iter().filter(|(k, _)| k != "Host") {
        req = req.header(k, v);
    }
    for (k, v) in raw.unsigned {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    let body = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, body)
}

#[tokio::test]
async fn emulator_requires_a_signed_security_token_when_configured() {
    let token = "emulator-temporary-security-token-0002";
    let emu = start(HuaweiConfig {
        security_token: Some(token.to_string()),
        ..Default::default()
    });
    let path = format!("/v3/{DEMO_PROJECT_ID}/keypairs?limit=2");
    let signed = [("X-Security-Token", token)];
    let (status, _) = raw_get(
        &emu,
        &path,
        Raw {
            signed: &signed,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 200, "token sent and signed");
    let (status, body) = raw_get(
        &emu,
        &path,
        Raw {
            unsigned: &signed,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 401, "token sent but not signed: {body}");
    let wrong = [("X-Security-Token", "some-other-token-value")];
    let (status, _) = raw_get(
        &emu,
        &path,
        Raw {
            signed: &wrong,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 401, "wrong token");
    // A header sent but not signed may change; a signed one may not.
    let (status, _) = raw_get(
        &emu,
        &path,
        Raw {
            signed: &signed,
            unsigned: &[("X-Extra", "free")],
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn emulator_rejects_stale_dates_and_unsigned_host() {
    let emu = start(HuaweiConfig::default());
    let path = format!("/v3/{DEMO_PROJECT_ID}/keypairs?limit=2");
    let (status, _) = raw_get(&emu, &path, Raw::default()).await;
    assert_eq!(status, 200, "a fresh, complete signature is accepted");

    let (status, body) = raw_get(
        &emu,
        &path,
        Raw {
            at: Utc::now() - chrono::Duration::minutes(20),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(body["error_code"], "APIGW.0301");
    assert!(
        body["error_msg"]
            .as_str()
            .is_some_and(|m| m.contains("signature expired")),
        "{body}"
    );
    assert!(body["request_id"].is_string());

    let (status, _) = raw_get(
        &emu,
        &path,
        Raw {
            at: Utc::now() - chrono::Duration::minutes(10),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 200, "10 minutes of skew is within Huawei's 15");

    let (status, body) = raw_get(
        &emu,
        &path,
        Raw {
            sign_host: false,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(status, 401, "host must be signed: {body}");
    assert_eq!(
        body["error_msg"],
        "Incorrect IAM authentication information: verify aksk signature fail"
    );
}

#[tokio::test]
async fn throttling_and_server_errors_are_retried_to_completion() {
    let faults = FaultConfig {
        fail_first: 2,
        throttle_rate: 0.3,
        error_rate: 0.1,
        seed: 7,
        ..Default::default()
    };
    let emu = start_with_faults(HuaweiConfig::default(), faults);
    let keys = provider(&profile(&emu))
        .list(&paged(3))
        .await
        .expect("list despite faults");
    assert_eq!(names(&keys), expected_names());
    let (served, injected) = emu.state().faults.counts();
    assert!(
        injected >= 3,
        "faults were injected: {served} served, {injected} injected"
    );
    // The dice are rolled only after a request's signature verified, so every retry was
    // re-signed acceptably; 9 pages of 3 were answered.
    assert_eq!(emu.state().huawei.kps_requests(), 9);
    assert_eq!(served, 9 + injected, "every attempt passed authentication");
}

#[tokio::test]
async fn endless_throttling_gives_up_as_throttled() {
    let faults = FaultConfig {
        throttle_rate: 1.0,
        ..Default::default()
    };
    let emu = start_with_faults(HuaweiConfig::default(), faults);
    let e = list_err(&profile(&emu)).await;
    assert_eq!(e.kind, Kind::Throttled, "{e}");
    assert_eq!(e.place.code.as_deref(), Some("APIGW.0308"));
    assert_eq!(e.place.status, Some(429));
    assert_eq!(e.attempts, Some(6));
}

#[tokio::test]
async fn unparseable_reply_is_a_protocol_error_quoting_status_and_body() {
    let emu = start(HuaweiConfig {
        misbehave: Misbehave::HtmlBody,
        ..Default::default()
    });
    let e = list_err(&profile(&emu)).await;
    assert_eq!(e.kind, Kind::Protocol, "{e}");
    assert!(
        e.message.contains("HTTP 200") && e.message.contains("<html>"),
        "{e}"
    );
}

#[tokio::test]
async fn repeated_marker_stops_instead_of_looping() {
    let emu = start(HuaweiConfig {
        misbehave: Misbehave::StuckMarker,
        ..Default::default()
    });
    let e = provider(&profile(&emu)).list(&paged(5)).await.unwrap_err();
    assert_eq!(e.kind, Kind::Protocol, "{e}");
    assert!(e.message.contains("twice"), "{e}");
    assert_eq!(emu.state().huawei.kps_requests(), 2);
}

#[test]
fn configuration_errors_come_before_any_request() {
    let mut p = common::profile("hw", ProviderKind::new("huawei"));
    secret(&mut p, "access_key", DEMO_ACCESS_KEY);
    secret(&mut p, "secret_key", DEMO_SECRET_KEY);
    let e = KpsProvider::new(&p, None, &ctx())
        .err()
        .expect("no region, no endpoint");
    assert_eq!(e.kind, Kind::Config);
    assert!(e.hint.as_deref().is_some_and(|h| h.contains("region")));

    // No credentials at all.
    let mut bare = common::profile("hw", ProviderKind::new("huawei"));
    common::set(&mut bare, "project_id", DEMO_PROJECT_ID);
    let e = KpsProvider::new(&bare, Some(REGION.into()), &ctx())
        .err()
        .expect("no credentials");
    assert_eq!(e.kind, Kind::Config);
    assert!(e.message.contains("access_key"), "{e}");

    // An AK without its SK.
    let mut half = bare.clone();
    secret(&mut half, "access_key", DEMO_ACCESS_KEY);
    let e = KpsProvider::new(&half, Some(REGION.into()), &ctx())
        .err()
        .expect("no secret_key");
    assert!(e.message.contains("secret_key"), "{e}");
}

#[tokio::test]
async fn ten_thousand_keys_in_ten_pages() {
    let keys: Vec<HuaweiKey> = keyctl_emulator::keys::generate("big", 10_000, 9)
        .iter()
        .enumerate()
        .map(|(i, s)| HuaweiKey::new(&s.name, &s.public_key, i as i64))
        .collect();
    let emu = start(HuaweiConfig {
        keys,
        ..Default::default()
    });
    let started = std::time::Instant::now();
    let listed = provider(&profile(&emu))
        .list(&ListQuery::default())
        .await
        .expect("list");
    let took = started.elapsed();
    assert_eq!(listed.len(), 10_000);
    assert_eq!(listed.last().map(|k| k.name.as_str()), Some("big-10000"));
    // 10 full pages, and the empty 11th is not needed: page 10 has no next_marker.
    assert_eq!(emu.state().huawei.kps_requests(), 10);
    eprintln!("listed 10,000 Huawei key pairs in {} ms", took.as_millis());
}

mod common;

mod binary {
    //! The keyctl binary against the emulator: exit codes and what the operator reads.

    use super::common;
    use super::*;

    fn config(emu: &Emulator) -> String {
        format!(
            "[profiles.hw]\nprovider = \"huawei\"\nregion = \"{REGION}\"\nendpoint = \"{}\"\n\
             project_id = \"{DEMO_PROJECT_ID}\"\naccess_key_env = \"HW_AK\"\nsecret_key_env = \"HW_SK\"\n",
            emu.url()
        )
    }

    fn run(emu: &Emulator, secret_key: &str, args: &[&str]) -> std::process::Output {
        let sandbox = common::Sandbox::new();
        sandbox.write_config(&config(emu));
        sandbox
            .cmd()
            .env("HW_AK", DEMO_ACCESS_KEY)
            .env("HW_SK", secret_key)
            .args(args)
            .output()
            .expect("run keyctl")
    }

    #[test]
    fn show_and_list_through_the_cli() {
        let emu = start(HuaweiConfig::default());
        let out = run(
            &emu,
            DEMO_SECRET_KEY,
            &["show", "hw key with spaces", "-o", "json"],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let kp = if v.is_array() { v[0].clone() } else { v };
        assert_eq!(kp["name"], "hw key with spaces");
        assert_eq!(kp["provider"], "huawei");

        let out = run(&emu, DEMO_SECRET_KEY, &["list", "-o", "json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(v.as_array().map(Vec::len), Some(27));
    }

    #[test]
    fn cli_exit_codes_for_missing_key_and_wrong_secret() {
        let emu = start(HuaweiConfig::default());
        let out = run(&emu, DEMO_SECRET_KEY, &["show", "nope"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{stderr}");
        assert!(
            stderr.contains("nope") && stderr.contains("hint:"),
            "{stderr}"
        );

        let wrong = "WrongWrongWrongWrongWrongWrongWrongWrong";
        let out = run(&emu, wrong, &["list"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert!(
            stderr.contains("APIGW.0301") && stderr.contains("hint:"),
            "{stderr}"
        );
        assert!(!stderr.contains(wrong), "{stderr}");
    }
}

/// The walk requests page k+1 while converting page k: a later page that fails a few times
/// still leaves every page complete and in order, and one that keeps failing fails the listing
/// after the pages before it, without a request past it.
#[tokio::test]
async fn a_later_page_failing_is_retried_or_fails_the_pipelined_walk() {
    // Requests 0 and 1 are pages 1 and 2; page 3 (request 2) fails twice, then succeeds.
    let faults = FaultConfig {
        fail_range: 2..4,
        ..Default::default()
    };
    let emu = start_with_faults(HuaweiConfig::default(), faults);
    let keys = provider(&profile(&emu))
        .list(&paged(3))
        .await
        .expect("page 3 succeeds on its third attempt");
    assert_eq!(names(&keys), expected_names());
    assert_eq!(emu.state().faults.counts(), (9 + 2, 2));
    assert_eq!(emu.state().huawei.kps_requests(), 9);

    let faults = FaultConfig {
        fail_range: 2..u64::MAX,
        ..Default::default()
    };
    let emu = start_with_faults(HuaweiConfig::default(), faults);
    let e = provider(&profile(&emu))
        .list(&paged(3))
        .await
        .expect_err("page 3 never succeeds");
    assert_eq!(e.kind, Kind::Server, "{e}");
    assert_eq!(e.attempts, Some(6));
    // Pages 1 and 2 once, page 3 six times, nothing after: its marker was never known.
    assert_eq!(emu.state().faults.counts(), (2 + 6, 6));
}

#[tokio::test]
async fn a_name_never_changes_the_request_path() {
    let emu = start(HuaweiConfig::default());
    let kps = provider(&profile(&emu));
    for name in ["..", ".", ""] {
        let e = kps.show(name, &ListQuery::default()).await.unwrap_err();
        assert_eq!(e.kind, Kind::Usage, "{name:?}: {e}");
    }
    assert_eq!(emu.state().huawei.kps_requests(), 0);
    // A dot inside a name is an ordinary character.
    let e = kps.show("a..b", &ListQuery::default()).await.unwrap_err();
    assert_eq!(e.kind, Kind::NotFound, "{e}");
}
