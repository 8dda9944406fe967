//! The Nova adapter end to end against a REAL Keystone + Nova API on loopback: the harness in
//! `openstack/` (`openstack/test-real.sh` sets it up, starts it, seeds it with
//! `seed.sh 1005` and runs this file).
//!
//! Settings come from the environment with the harness defaults (`openstack/common.sh`):
//! `KEYCTL_OS_AUTH_URL` (http://127.0.0.1:15357/v3), `KEYCTL_OS_NOVA_URL`
//! (http://127.0.0.1:18774/v2.1), `OSH_ADMIN_USER`/`OSH_ADMIN_PASSWORD`/`OSH_ADMIN_PROJECT`,
//! `OSH_USER2`/`OSH_USER2_PASSWORD`, `OSH_REGION`.
//!
//! When the servers are not reachable the tests FAIL if `CI` or `KEYCTL_REAL_OPENSTACK` is set
//! (CI and scripts/test-all.sh must run them), and
//! otherwise print a loud SKIPPED line and pass.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use keyctl::config::Profile;
use keyctl::error::Kind;
use keyctl::model::{KeyPair, KeyType, ProviderKind};
use keyctl::provider::openstack::NovaProvider;
use keyctl::provider::{Context, ListQuery, Provider};
use serde_json::{json, Value};

struct Real {
    auth_url: String,
    nova_url: String,
    region: String,
    admin: (String, String),
    project: String,
    user2: (String, String),
}

fn env_or(k: &str, default: &str) -> String {
    std::env::var(k)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_string())
}

/// The harness, or `None` (after a loud SKIPPED line) when it is not running outside CI.
fn real() -> Option<Real> {
    let r = Real {
        auth_url: env_or("KEYCTL_OS_AUTH_URL", "http://127.0.0.1:15357/v3"),
        nova_url: env_or("KEYCTL_OS_NOVA_URL", "http://127.0.0.1:18774/v2.1"),
        region: env_or("OSH_REGION", "RegionOne"),
        admin: (
            env_or("OSH_ADMIN_USER", "admin"),
            env_or("OSH_ADMIN_PASSWORD", "keyctl-admin-secret"),
        ),
        project: env_or("OSH_ADMIN_PROJECT", "admin"),
        user2: (
            env_or("OSH_USER2", "keyctl-user2"),
            env_or("OSH_USER2_PASSWORD", "keyctl-user2-secret"),
        ),
    };
    let up = [&r.auth_url, &r.nova_url].iter().all(|u| reachable(u));
    if up {
        return Some(r);
    }
    // CI, and scripts/test-all.sh (which starts the harness), must really run these.
    let required =
        std::env::var_os("CI").is_some() || std::env::var_os("KEYCTL_REAL_OPENSTACK").is_some();
    if required {
        panic!(
            "real OpenStack not reachable at {} / {} and CI is set: run openstack/test-real.sh",
            r.auth_url, r.nova_url
        );
    }
    eprintln!("\n*** SKIPPED: real OpenStack not running (run openstack/start.sh && openstack/seed.sh 1005, or openstack/test-real.sh) ***\n");
    None
}

fn reachable(url: &str) -> bool {
    let Ok(u) = url::Url::parse(url) else {
        return false;
    };
    let Some(addr) = u
        .socket_addrs(|| None)
        .ok()
        .and_then(|a| a.into_iter().next())
    else {
        return false;
    };
    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

fn ctx(cache: Option<&std::path::Path>) -> Context {
    common::fast_context(6, 200, 8000, cache)
}

fn secret(p: &mut Profile, key: &str, value: &str) {
    common::inline_secret(p, key, value);
}

fn password_profile(r: &Real, user: &(String, String)) -> Profile {
    let mut p = common::profile("real", ProviderKind::new("openstack"));
    common::set(&mut p, "auth_url", &r.auth_url);
    common::set(&mut p, "username", &user.0);
    common::set(&mut p, "user_domain_name", "Default");
    common::set(&mut p, "project_name", &r.project);
    common::set(&mut p, "project_domain_name", "Default");
    p.region = Some(r.region.clone());
    secret(&mut p, "password", &user.1);
    p
}

fn provider(p: &Profile) -> NovaProvider {
    NovaProvider::openstack(p, p.region.clone(), &ctx(None)).expect("provider")
}

fn names(keys: &[KeyPair]) -> Vec<String> {
    keys.iter().map(|k| k.name.clone()).collect()
}

/// A token and the token body, straight from Keystone (independent of keyctl's code).
async fn token(r: &Real, user: &(String, String)) -> (String, Value) {
    let body = json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user.0, "domain": {"name": "Default"}, "password": user.1}}},
        "scope": {"project": {"name": r.project, "domain": {"name": "Default"}}}}});
    let resp = client()
        .post(format!("{}/auth/tokens", r.auth_url))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("keystone");
    assert_eq!(resp.status().as_u16(), 201, "keystone token for {}", user.0);
    let t = resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string();
    (t, body_json(resp).await)
}

async fn body_json(resp: reqwest::Response) -> Value {
    serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap()
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Every name the admin owns, by one raw unpaged request at 2.10 (Nova does not cap below 2.35).
async fn raw_names(r: &Real, tok: &str, user_id: Option<&str>) -> BTreeSet<String> {
    let mut url = format!("{}/os-keypairs", r.nova_url);
    if let Some(u) = user_id {
        url.push_str(&format!("?user_id={u}"));
    }
    let v: Value = client()
        .get(url)
        .header("X-Auth-Token", tok)
        .header("OpenStack-API-Version", "compute 2.10")
        .send()
        .await
        .map(body_json)
        .unwrap()
        .await;
    v["keypairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["keypair"]["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn real_password_auth_lists_more_than_one_page() {
    let Some(r) = real() else { return };
    let (tok, _) = token(&r, &r.admin).await;
    let expected = raw_names(&r, &tok, None).await;
    assert!(
        expected.len() > 1000,
        "seed the harness with openstack/seed.sh 1005 (has {})",
        expected.len()
    );
    let keys = provider(&password_profile(&r, &r.admin))
        .list(&ListQuery::default())
        .await
        .unwrap();
    let got: BTreeSet<String> = names(&keys).into_iter().collect();
    assert_eq!(got.len(), keys.len(), "no duplicates across pages");
    assert_eq!(got, expected);
    // Nova's order (byte order of names) survives paging.
    let listed = names(&keys);
    let mut sorted = listed.clone();
    sorted.sort();
    assert_eq!(listed, sorted);
    assert!(keys.iter().all(
        |k| k.region.as_deref() == Some(r.region.as_str()) && k.provider_fingerprint.is_some()
    ));
    // The real Nova's MD5 fingerprints equal keyctl's own, for every ssh key (ed25519, RSA, ECDSA).
    let ssh: Vec<&KeyPair> = keys
        .iter()
        .filter(|k| k.key_type == Some(KeyType::Ssh))
        .collect();
    assert!(ssh.len() > 1000);
    for k in ssh {
        let ours = k
            .fingerprint_md5
            .as_deref()
            .and_then(|f| f.strip_prefix("MD5:"));
        assert_eq!(ours, k.provider_fingerprint.as_deref(), "{}", k.name);
        assert!(
            k.algorithm.is_some() && k.fingerprint_sha256.is_some(),
            "{}",
            k.name
        );
    }
    // Smaller pages give the same set.
    let q = ListQuery {
        page_size: Some(400),
        ..Default::default()
    };
    let small = provider(&password_profile(&r, &r.admin))
        .list(&q)
        .await
        .unwrap();
    assert_eq!(names(&small), listed);
}

#[tokio::test]
async fn real_project_style_endpoint() {
    let Some(r) = real() else { return };
    let (tok, body) = token(&r, &r.admin).await;
    let project_id = body["token"]["project"]["id"].as_str().unwrap().to_string();
    let mut p = password_profile(&r, &r.admin);
    p.endpoint = Some(format!("{}/{project_id}", r.nova_url));
    let keys = provider(&p).list(&ListQuery::default()).await.unwrap();
    assert_eq!(
        names(&keys).into_iter().collect::<BTreeSet<_>>(),
        raw_names(&r, &tok, None).await
    );
    let kp = provider(&p)
        .show("kc key with spaces", &ListQuery::default())
        .await
        .unwrap();
    assert_eq!(kp.name, "kc key with spaces");
}

#[tokio::test]
async fn real_catalog_regions_for_all_regions() {
    let Some(r) = real() else { return };
    // The regions of the catalog's public compute endpoints, read from Keystone's own reply.
    let (_, body) = token(&r, &r.admin).await;
    let mut expected: Vec<String> = Vec::new();
    for service in body["token"]["catalog"].as_array().unwrap() {
        if service["type"] != "compute" {
            continue;
        }
        for e in service["endpoints"].as_array().unwrap() {
            let region = e["region_id"].as_str().unwrap().to_string();
            if e["interface"] == "public" && !expected.contains(&region) {
                expected.push(region);
            }
        }
    }
    assert!(expected.contains(&r.region), "{expected:?}");
    let p = password_profile(&r, &r.admin);
    assert_eq!(provider(&p).regions().await.unwrap(), expected);
    // With `endpoint` standing in for the catalog there is nothing to discover.
    let mut direct = p.clone();
    direct.endpoint = Some(r.nova_url.clone());
    assert!(provider(&direct).regions().await.unwrap().is_empty());
}

#[tokio::test]
async fn real_application_credential() {
    let Some(r) = real() else { return };
    let (tok, body) = token(&r, &r.admin).await;
    let user_id = body["token"]["user"]["id"].as_str().unwrap().to_string();
    let name = format!("keyctl-test-{}", std::process::id());
    let secret_value = format!("keyctl-appcred-{}-secret", std::process::id());
    let resp = client()
        .post(format!(
            "{}/users/{user_id}/application_credentials",
            r.auth_url
        ))
        .header("X-Auth-Token", &tok)
        .header("content-type", "application/json")
        .body(json!({"application_credential": {"name": name, "secret": secret_value}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let created: Value = body_json(resp).await;
    let id = created["application_credential"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut by_id = common::profile("real-ac", ProviderKind::new("openstack"));
    common::set(&mut by_id, "auth_url", &r.auth_url);
    common::set(&mut by_id, "application_credential_id", &id);
    secret(&mut by_id, "application_credential_secret", &secret_value);
    let result_id = provider(&by_id).list(&ListQuery::default()).await;

    let mut by_name = common::profile("real-ac", ProviderKind::new("openstack"));
    common::set(&mut by_name, "auth_url", &r.auth_url);
    common::set(&mut by_name, "application_credential_name", &name);
    common::set(&mut by_name, "username", &r.admin.0);
    common::set(&mut by_name, "user_domain_name", "Default");
    secret(&mut by_name, "application_credential_secret", &secret_value);
    let result_name = provider(&by_name)
        .show("kc-x509-cert", &ListQuery::default())
        .await;

    let _ = client()
        .delete(format!(
            "{}/users/{user_id}/application_credentials/{id}",
            r.auth_url
        ))
        .header("X-Auth-Token", &tok)
        .send()
        .await;
    assert!(result_id.unwrap().len() > 1000);
    assert_eq!(result_name.unwrap().key_type, Some(KeyType::X509));
}

#[tokio::test]
async fn real_show_x509_and_escaped_names() {
    let Some(r) = real() else { return };
    let p = provider(&password_profile(&r, &r.admin));
    let x = p.show("kc-x509-cert", &ListQuery::default()).await.unwrap();
    assert_eq!(x.key_type, Some(KeyType::X509));
    // SHA-1 of the DER: 20 bytes as colon-hex.
    assert_eq!(x.provider_fingerprint.as_deref().unwrap().len(), 59);
    assert!(x
        .public_key
        .as_deref()
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    for name in ["kc key with spaces", "kc.user@example", "kc-00004"] {
        let kp = p.show(name, &ListQuery::default()).await.unwrap();
        assert_eq!(kp.name, name);
        assert!(kp.id.as_deref().unwrap().parse::<u64>().is_ok());
        assert!(kp.created_at.is_some());
        assert!(kp.user_id.is_some());
        assert_eq!(
            kp.provider_fingerprint.as_deref().unwrap().len(),
            47,
            "MD5 colon-hex"
        );
    }
}

#[tokio::test]
async fn real_all_users_of_the_project() {
    let Some(r) = real() else { return };
    let (tok, body) = token(&r, &r.admin).await;
    let project_id = body["token"]["project"]["id"].as_str().unwrap().to_string();
    // Who has a role in the project, and what each owns, straight from Keystone and Nova.
    let assignments = client()
        .get(format!(
            "{}/role_assignments?scope.project.id={project_id}&effective",
            r.auth_url
        ))
        .header("X-Auth-Token", &tok)
        .send()
        .await
        .unwrap();
    assert_eq!(assignments.status().as_u16(), 200);
    let users: BTreeSet<String> = body_json(assignments).await["role_assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["user"]["id"].as_str().map(str::to_string))
        .collect();
    assert!(users.len() >= 2, "the admin and keyctl-user2: {users:?}");
    let mut expected = BTreeSet::new();
    for u in &users {
        for name in raw_names(&r, &tok, Some(u)).await {
            expected.insert((name, u.clone()));
        }
    }

    let q = ListQuery {
        all_users: true,
        ..Default::default()
    };
    let keys = provider(&password_profile(&r, &r.admin))
        .list(&q)
        .await
        .unwrap();
    let got: BTreeSet<(String, String)> = keys
        .iter()
        .map(|k| (k.name.clone(), k.user_id.clone().unwrap()))
        .collect();
    assert_eq!(keys.len(), got.len(), "no key pair twice");
    assert_eq!(got, expected);

    // keyctl-user2 is a member: Keystone's policy refuses it the project's assignments.
    let e = provider(&password_profile(&r, &r.user2))
        .list(&q)
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::Auth, "{e:?}");
    assert_eq!(e.place.status, Some(403));
}

#[tokio::test]
async fn real_user_id_admin_and_member() {
    let Some(r) = real() else { return };
    let (_, body) = token(&r, &r.user2).await;
    let u2 = body["token"]["user"]["id"].as_str().unwrap().to_string();
    let admin_id = {
        let (_, b) = token(&r, &r.admin).await;
        b["token"]["user"]["id"].as_str().unwrap().to_string()
    };
    let q = ListQuery {
        user_id: Some(u2.clone()),
        ..Default::default()
    };
    let keys = provider(&password_profile(&r, &r.admin))
        .list(&q)
        .await
        .unwrap();
    assert_eq!(names(&keys), ["kc-00003", "u2-made-by-admin"]);
    assert!(keys
        .iter()
        .all(|k| k.user_id.as_deref() == Some(u2.as_str())));
    // Same name, different key than the admin's kc-00003.
    let theirs = provider(&password_profile(&r, &r.admin))
        .show("kc-00003", &q)
        .await
        .unwrap();
    let mine = provider(&password_profile(&r, &r.admin))
        .show("kc-00003", &ListQuery::default())
        .await
        .unwrap();
    assert_ne!(theirs.public_key, mine.public_key);
    assert_eq!(theirs.user_id.as_deref(), Some(u2.as_str()));
    // A member may not list someone else's.
    let q = ListQuery {
        user_id: Some(admin_id),
        ..Default::default()
    };
    let e = provider(&password_profile(&r, &r.user2))
        .list(&q)
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.place.status), (Kind::Auth, Some(403)), "{e}");
    assert!(e.hint.unwrap().contains("admin"));
    // Her own list is her two keys.
    let own = provider(&password_profile(&r, &r.user2))
        .list(&ListQuery::default())
        .await
        .unwrap();
    assert_eq!(own.len(), 2);
}

#[tokio::test]
async fn real_errors() {
    let Some(r) = real() else { return };
    let e = provider(&password_profile(&r, &r.admin))
        .show("no-such-key", &ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::NotFound);
    assert!(
        e.place
            .request_id
            .as_deref()
            .unwrap_or("")
            .starts_with("req-"),
        "{e}"
    );
    let bad = (r.admin.0.clone(), "not-the-password".to_string());
    let e = provider(&password_profile(&r, &bad))
        .list(&ListQuery::default())
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.place.status), (Kind::Auth, Some(401)), "{e}");
    assert!(!e.to_string().contains("not-the-password"));
    let mut p = password_profile(&r, &r.admin);
    p.region = Some("NoSuchRegion".into());
    let e = provider(&p).list(&ListQuery::default()).await.unwrap_err();
    assert_eq!(e.kind, Kind::Config);
    assert!(e.message.contains(&r.region), "{e}");
}

#[cfg(unix)]
#[tokio::test]
async fn real_token_cache_and_reauth_on_401() {
    let Some(r) = real() else { return };
    let dir = tempfile::tempdir().unwrap();
    let p = password_profile(&r, &r.admin);
    let run = |d: std::path::PathBuf| {
        let p = p.clone();
        async move {
            NovaProvider::openstack(&p, p.region.clone(), &ctx(Some(&d)))
                .unwrap()
                .show("kc-00004", &ListQuery::default())
                .await
        }
    };
    run(dir.path().to_path_buf()).await.unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("openstack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    let cached: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    let cached_token = cached["token"].as_str().unwrap().to_string();
    assert_eq!(
        cached["max_microversions"]
            .as_object()
            .unwrap()
            .values()
            .next()
            .unwrap(),
        "2.104"
    );
    // Warm: the cached token is used as is.
    run(dir.path().to_path_buf()).await.unwrap();
    let again: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_eq!(again["token"], cached_token.as_str());
    // A token Nova refuses (keystonemiddleware caches validations for minutes, so a revocation
    // would not show at once; a corrupted token does): 401, one re-auth, success.
    let mut broken = again.clone();
    broken["token"] = json!(format!("{cached_token}x"));
    std::fs::write(&files[0], broken.to_string()).unwrap();
    run(dir.path().to_path_buf()).await.unwrap();
    let renewed: Value = serde_json::from_slice(&std::fs::read(&files[0]).unwrap()).unwrap();
    assert_ne!(renewed["token"], cached_token.as_str());
    assert_ne!(renewed["token"], broken["token"]);
}
