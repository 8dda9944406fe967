//! The Nova adapter (openstack and huawei-ecs profiles) against the in-process emulator's
//! Keystone + Nova, which checks tokens, microversions and paging the way the real services do
//! and verifies ECS AK/SK signatures from the raw request (sharing no code with keyctl's signer).

mod common;

use std::time::Duration;

use keyctl::config::Profile;
use keyctl::error::Kind;
use keyctl::model::{KeyType, ProviderKind};
use keyctl::provider::openstack::NovaProvider;
use keyctl::provider::{Context, ListQuery, Provider};
use keyctl_emulator::faults::FaultConfig;
use keyctl_emulator::huawei::{DEMO_ACCESS_KEY, DEMO_PROJECT_ID, DEMO_SECRET_KEY};
use keyctl_emulator::nova::{self as emu_nova, NovaConfig, UrlStyle};
use keyctl_emulator::{Config, Emulator};

fn start(nova: NovaConfig) -> Emulator {
    Emulator::start(Config {
        nova,
        ..Default::default()
    })
}

fn ctx(cache: Option<&std::path::Path>) -> Context {
    common::fast_context(5, 2, 10, cache)
}

fn secret(p: &mut Profile, key: &str, value: &str) {
    common::inline_secret(p, key, value);
}

/// The admin by user name + domain name, project by name + domain name.
fn admin_profile(emu: &Emulator) -> Profile {
    let mut p = common::profile("os", ProviderKind::new("openstack"));
    common::set(&mut p, "auth_url", format!("{}/v3", emu.url()));
    common::set(&mut p, "username", emu_nova::ADMIN_NAME);
    common::set(&mut p, "user_domain_name", emu_nova::DOMAIN_NAME);
    common::set(&mut p, "project_name", emu_nova::PROJECT_NAME);
    common::set(&mut p, "project_domain_name", emu_nova::DOMAIN_NAME);
    secret(&mut p, "password", emu_nova::ADMIN_PASSWORD);
    p
}

fn member_profile(emu: &Emulator) -> Profile {
    let mut p = admin_profile(emu);
    common::set(&mut p, "username", emu_nova::MEMBER_NAME);
    secret(&mut p, "password", emu_nova::MEMBER_PASSWORD);
    p
}

fn provider(p: &Profile) -> NovaProvider {
    NovaProvider::openstack(p, p.region.clone(), &ctx(None)).expect("provider")
}

fn all() -> ListQuery {
    ListQuery::default()
}

fn paged(n: u32) -> ListQuery {
    ListQuery {
        page_size: Some(n),
        ..Default::default()
    }
}

fn list_requests(emu: &Emulator) -> Vec<emu_nova::Seen> {
    emu.state()
        .nova
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with("/os-keypairs"))
        .collect()
}

fn names(keys: &[keyctl::model::KeyPair]) -> Vec<String> {
    keys.iter().map(|k| k.name.clone()).collect()
}

#[tokio::test]
async fn password_by_name_lists_everything_in_nova_order() {
    let emu = start(NovaConfig::default());
    let keys = provider(&admin_profile(&emu)).list(&all()).await.unwrap();
    let expected: Vec<String> = {
        let mut v: Vec<String> = emu_nova::default_admin_keys(25)
            .into_iter()
            .map(|k| k.name)
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(&keys), expected);
    assert_eq!(keys.len(), 28);
    let k = keys.iter().find(|k| k.name == "os-00001").unwrap();
    let seed = &emu_nova::default_admin_keys(25)[0];
    assert_eq!(k.public_key.as_deref(), Some(seed.public_key.as_str()));
    assert_eq!(
        k.provider_fingerprint.as_deref(),
        Some(emu_nova::ssh_fingerprint(&seed.public_key).as_str())
    );
    assert_eq!(k.key_type, Some(KeyType::Ssh));
    // Nova's MD5 fingerprint and keyctl's own, computed from the blob, agree for every ssh key.
    for k in keys.iter().filter(|k| k.key_type == Some(KeyType::Ssh)) {
        let ours = k.fingerprint_md5.as_deref().unwrap();
        assert_eq!(
            ours.strip_prefix("MD5:"),
            k.provider_fingerprint.as_deref(),
            "{}",
            k.name
        );
    }
    assert_eq!(k.region.as_deref(), Some("RegionOne"));
    assert_eq!(k.user_id.as_deref(), Some(emu_nova::ADMIN_ID));
    assert_eq!(k.provider, ProviderKind::new("openstack"));
    // One token and one list request at 2.35 (everything fits in a page); no version document,
    // since the server took 2.35.
    assert_eq!(emu.state().nova.tokens_issued(), 1);
    assert!(version_documents(&emu).is_empty());
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 1);
    assert_eq!(lists[0].microversion.as_deref(), Some("2.35"));
    assert_eq!(lists[0].query.as_deref(), Some("limit=1000"));
    assert_eq!(lists[0].auth, "token");
}

#[tokio::test]
async fn password_by_ids() {
    let emu = start(NovaConfig::default());
    let mut p = common::profile("os", ProviderKind::new("openstack"));
    common::set(&mut p, "auth_url", emu.url()); // no /v3: the adapter adds it, as keystoneauth does
    common::set(&mut p, "user_id", emu_nova::ADMIN_ID);
    common::set(&mut p, "project_id", emu_nova::PROJECT_ID);
    secret(&mut p, "password", emu_nova::ADMIN_PASSWORD);
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 28);
}

#[tokio::test]
async fn application_credential_by_id_and_by_name() {
    let emu = start(NovaConfig::default());
    let mut p = common::profile("os", ProviderKind::new("openstack"));
    common::set(&mut p, "auth_url", format!("{}/v3", emu.url()));
    common::set(&mut p, "application_credential_id", emu_nova::APP_CRED_ID);
    // A project in the profile must not turn into a scope: Keystone would refuse it.
    common::set(&mut p, "project_name", emu_nova::PROJECT_NAME);
    secret(
        &mut p,
        "application_credential_secret",
        emu_nova::APP_CRED_SECRET,
    );
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 28);

    let mut p = common::profile("os", ProviderKind::new("openstack"));
    common::set(&mut p, "auth_url", format!("{}/v3", emu.url()));
    common::set(
        &mut p,
        "application_credential_name",
        emu_nova::APP_CRED_NAME,
    );
    common::set(&mut p, "username", emu_nova::ADMIN_NAME);
    common::set(&mut p, "user_domain_name", emu_nova::DOMAIN_NAME);
    secret(
        &mut p,
        "application_credential_secret",
        emu_nova::APP_CRED_SECRET,
    );
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 28);

    secret(&mut p, "application_credential_secret", "wrong-app-secret");
    let e = provider(&p).list(&all()).await.unwrap_err();
    assert_eq!(e.kind, Kind::Auth);
    assert!(e.hint.unwrap().contains("application_credential"));
}

/// A token issued out of band (as `openstack token issue` would).
async fn issue_token(emu: &Emulator) -> String {
    let body = serde_json::json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "id": emu_nova::ADMIN_ID, "password": emu_nova::ADMIN_PASSWORD}}},
        "scope": {"project": {"id": emu_nova::PROJECT_ID}}}});
    let resp = reqwest::Client::new()
        .post(format!("{}/v3/auth/tokens", emu.url()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    resp.headers()["x-subject-token"]
        .to_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn pre_issued_token_rescoped_or_used_directly() {
    let emu = start(NovaConfig::default());
    let token = issue_token(&emu).await;
    // Rescoped through Keystone (token method + project scope).
    let mut p = common::profile("os", ProviderKind::new("openstack"));
    common::set(&mut p, "auth_url", format!("{}/v3", emu.url()));
    common::set(&mut p, "project_id", emu_nova::PROJECT_ID);
    secret(&mut p, "token", &token);
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 28);
    assert_eq!(emu.state().nova.tokens_issued(), 2);
    // Used as is against `endpoint`: Keystone is not asked again.
    let mut p = common::profile("os", ProviderKind::new("openstack"));
    p.endpoint = Some(emu.url());
    secret(&mut p, "token", &token);
    let kp = provider(&p).show("key with spaces", &all()).await.unwrap();
    assert_eq!(kp.name, "key with spaces");
    assert_eq!(emu.state().nova.tokens_issued(), 2);
    // Neither endpoint nor auth_url: a config error, before any request.
    let mut p = common::profile("os", ProviderKind::new("openstack"));
    secret(&mut p, "token", &token);
    let e = NovaProvider::openstack(&p, None, &ctx(None)).err().unwrap();
    assert_eq!(e.kind, Kind::Config);
}

#[tokio::test]
async fn catalog_url_with_project_id() {
    let emu = start(NovaConfig {
        url_style: UrlStyle::Project,
        ..Default::default()
    });
    let keys = provider(&admin_profile(&emu))
        .list(&paged(10))
        .await
        .unwrap();
    assert_eq!(keys.len(), 28);
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 3);
    assert!(lists
        .iter()
        .all(|s| s.path == format!("/v2.1/{}/os-keypairs", emu_nova::PROJECT_ID)));
    let kp = provider(&admin_profile(&emu))
        .show("kc.user@example", &all())
        .await
        .unwrap();
    assert_eq!(kp.name, "kc.user@example");
    let show = emu.state().nova.seen().into_iter().last().unwrap();
    assert_eq!(
        show.path,
        format!(
            "/v2.1/{}/os-keypairs/kc.user%40example",
            emu_nova::PROJECT_ID
        )
    );
}

#[tokio::test]
async fn endpoint_override_plain_and_with_project() {
    let emu = start(NovaConfig::default());
    let mut p = admin_profile(&emu);
    p.endpoint = Some(emu.url());
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 28);
    assert_eq!(
        list_requests(&emu).last().unwrap().path,
        "/v2.1/os-keypairs"
    );
    p.endpoint = Some(format!("{}/v2.1/{}", emu.url(), emu_nova::PROJECT_ID));
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 28);
    assert_eq!(
        list_requests(&emu).last().unwrap().path,
        format!("/v2.1/{}/os-keypairs", emu_nova::PROJECT_ID)
    );
    // A project id in the endpoint that is not the token's: Nova's 400, as a config error.
    p.endpoint = Some(format!("{}/v2.1/0000aaaa", emu.url()));
    let e = provider(&p).list(&all()).await.unwrap_err();
    assert_eq!(e.kind, Kind::Config, "{e}");
}

#[tokio::test]
async fn paging_follows_links_and_stops_after_an_exactly_full_last_page() {
    // 27 + 3 special = 30 keys: pages of 10 are all full, so the 4th request returns nothing.
    let emu = start(NovaConfig {
        admin_keys: emu_nova::default_admin_keys(27),
        ..Default::default()
    });
    let keys = provider(&admin_profile(&emu))
        .list(&paged(10))
        .await
        .unwrap();
    assert_eq!(keys.len(), 30);
    let mut sorted = names(&keys);
    sorted.sort();
    assert_eq!(names(&keys), sorted);
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 4);
    assert_eq!(lists[0].query.as_deref(), Some("limit=10"));
    // The marker is the last name of the previous page, percent-encoded.
    let marker = &names(&keys)[9];
    assert_eq!(
        lists[1].query.as_deref(),
        Some(format!("limit=10&marker={marker}").as_str())
    );
    assert!(lists
        .iter()
        .all(|s| s.microversion.as_deref() == Some("2.35")));
}

#[tokio::test]
async fn server_page_cap_below_the_page_size() {
    // The server caps pages at max_limit = 7 whatever limit says; the adapter follows links.
    let emu = start(NovaConfig {
        max_limit: 7,
        ..Default::default()
    });
    let keys = provider(&admin_profile(&emu)).list(&all()).await.unwrap();
    assert_eq!(keys.len(), 28);
    // 28 = 4 full pages of 7, each with a next link; the 5th request comes back empty.
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 5);
    assert!(lists
        .iter()
        .all(|s| s.query.as_deref().unwrap_or("").starts_with("limit=1000")));
    // Markers with a space and with `@` were sent encoded and understood.
    let mut names = names(&keys);
    names.dedup();
    assert_eq!(names.len(), 28);
}

#[tokio::test]
async fn repeated_marker_is_a_protocol_error_not_a_loop() {
    let emu = start(NovaConfig {
        ignore_marker: true,
        ..Default::default()
    });
    let e = provider(&admin_profile(&emu))
        .list(&paged(5))
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::Protocol);
    assert!(e.message.contains("repeated"), "{e}");
    assert_eq!(list_requests(&emu).len(), 2);
}

#[tokio::test]
async fn old_clouds_are_listed_unpaged() {
    let emu = start(NovaConfig {
        max_microversion: (2, 1),
        ..Default::default()
    });
    let p = admin_profile(&emu);
    let keys = provider(&p).list(&paged(5)).await.unwrap();
    assert_eq!(keys.len(), 28);
    // The guess at 2.35 is refused (406), the version document says 2.1, and the whole list
    // comes in one unpaged request.
    assert_eq!(version_documents(&emu), ["/v2.1/"]);
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0].microversion, None, "refused: 2.35 > 2.1");
    assert_eq!(lists[1].query, None);
    assert_eq!(lists[1].microversion.as_deref(), Some("2.1"));
    // No `type` below 2.2: ssh keys are recognised by parsing them, the x509 entry by its PEM.
    for k in &keys {
        let want = if k.name == "x509-cert" {
            KeyType::X509
        } else {
            KeyType::Ssh
        };
        assert_eq!(k.key_type, Some(want), "{}", k.name);
    }
    let q = ListQuery {
        user_id: Some(emu_nova::MEMBER_ID.into()),
        ..Default::default()
    };
    let e = provider(&p).list(&q).await.unwrap_err();
    assert_eq!(e.kind, Kind::Usage);

    let emu = start(NovaConfig {
        max_microversion: (2, 10),
        ..Default::default()
    });
    let p = admin_profile(&emu);
    let keys = provider(&p).list(&q).await.unwrap();
    assert_eq!(keys.len(), 2);
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 2, "the refused guess at 2.35, then 2.10");
    assert_eq!(lists[1].microversion.as_deref(), Some("2.10"));
    assert_eq!(
        lists[1].query.as_deref(),
        Some(format!("user_id={}", emu_nova::MEMBER_ID).as_str())
    );
    let x = provider(&p).show("x509-cert", &all()).await.unwrap();
    assert_eq!(x.key_type, Some(KeyType::X509));
}

#[tokio::test]
async fn user_id_needs_admin() {
    let emu = start(NovaConfig::default());
    let q = ListQuery {
        user_id: Some(emu_nova::MEMBER_ID.into()),
        ..Default::default()
    };
    let keys = provider(&admin_profile(&emu)).list(&q).await.unwrap();
    assert_eq!(names(&keys), ["os-00003", "u2-00001"]);
    assert!(keys
        .iter()
        .all(|k| k.user_id.as_deref() == Some(emu_nova::MEMBER_ID)));
    let kp = provider(&admin_profile(&emu))
        .show("os-00003", &q)
        .await
        .unwrap();
    assert_eq!(kp.user_id.as_deref(), Some(emu_nova::MEMBER_ID));
    assert_ne!(
        kp.public_key,
        provider(&admin_profile(&emu))
            .show("os-00003", &all())
            .await
            .unwrap()
            .public_key
    );

    let q = ListQuery {
        user_id: Some(emu_nova::ADMIN_ID.into()),
        ..Default::default()
    };
    let e = provider(&member_profile(&emu)).list(&q).await.unwrap_err();
    assert_eq!(e.kind, Kind::Auth);
    assert_eq!(e.place.status, Some(403));
    assert!(e.hint.as_deref().unwrap_or("").contains("admin"));
    // The member's own list is hers only.
    assert_eq!(
        provider(&member_profile(&emu))
            .list(&all())
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn all_users_lists_every_user_in_the_project_as_admin_only() {
    let emu = start(NovaConfig::default());
    let every = ListQuery {
        all_users: true,
        page_size: Some(7),
        ..Default::default()
    };
    let keys = provider(&admin_profile(&emu)).list(&every).await.unwrap();
    let admin_keys = provider(&admin_profile(&emu)).list(&all()).await.unwrap();
    let member = ListQuery {
        user_id: Some(emu_nova::MEMBER_ID.into()),
        ..Default::default()
    };
    let member_keys = provider(&admin_profile(&emu)).list(&member).await.unwrap();
    assert_eq!(keys.len(), admin_keys.len() + member_keys.len());
    // Both users own an `os-00003`: sorted by name, then user id, each with its owner.
    let pairs: Vec<(String, String)> = keys
        .iter()
        .map(|k| (k.name.clone(), k.user_id.clone().unwrap()))
        .collect();
    let mut sorted = pairs.clone();
    sorted.sort();
    assert_eq!(pairs, sorted);
    for (name, owner) in [
        ("os-00003", emu_nova::ADMIN_ID),
        ("os-00003", emu_nova::MEMBER_ID),
        ("u2-00001", emu_nova::MEMBER_ID),
    ] {
        assert!(
            pairs.contains(&(name.to_string(), owner.to_string())),
            "{name} of {owner} missing"
        );
    }
    // Keystone was asked once, for the token's project.
    let asked: Vec<_> = emu
        .state()
        .nova
        .seen()
        .into_iter()
        .filter(|s| s.path.ends_with("/role_assignments"))
        .collect();
    assert_eq!(asked.len(), 1, "{asked:?}");

    // A member may not list who is in the project: an auth error that says what to do.
    let e = provider(&member_profile(&emu))
        .list(&every)
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::Auth);
    assert_eq!(e.place.status, Some(403));
    assert!(
        e.message.contains("identity:list_role_assignments"),
        "{}",
        e.message
    );
    assert!(e.hint.as_deref().unwrap_or("").contains("--user"));
}

#[tokio::test]
async fn all_users_with_a_revoked_cached_token_authenticates_once_more() {
    let emu = start(NovaConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let p = admin_profile(&emu);
    let every = ListQuery {
        all_users: true,
        ..Default::default()
    };
    let provider = || NovaProvider::openstack(&p, None, &ctx(Some(dir.path()))).unwrap();
    let first = provider().list(&every).await.unwrap();
    assert_eq!(emu.state().nova.tokens_issued(), 1);
    // Keystone refuses the cached token for the role assignments; the adapter drops it,
    // authenticates once and carries on.
    emu.state().nova.revoke_all_tokens();
    let again = provider().list(&every).await.unwrap();
    assert_eq!(names(&again), names(&first));
    assert_eq!(emu.state().nova.tokens_issued(), 2);
}

#[tokio::test]
async fn show_maps_every_field_and_escapes_names() {
    let emu = start(NovaConfig::default());
    let p = provider(&admin_profile(&emu));
    for name in ["key with spaces", "kc.user@example", "os-00007"] {
        let kp = p.show(name, &all()).await.unwrap();
        assert_eq!(kp.name, name);
        assert!(kp.id.as_deref().unwrap().parse::<i64>().is_ok());
        assert_eq!(kp.user_id.as_deref(), Some(emu_nova::ADMIN_ID));
        assert!(kp.created_at.is_some());
        assert_eq!(kp.key_type, Some(KeyType::Ssh));
        assert!(kp.extra.is_empty(), "{:?}", kp.extra); // deleted=false, nulls: nothing to keep
    }
    let paths: Vec<String> = emu
        .state()
        .nova
        .seen()
        .into_iter()
        .map(|s| s.path)
        .collect();
    assert!(paths.contains(&"/v2.1/os-keypairs/key%20with%20spaces".to_string()));
    assert!(paths.contains(&"/v2.1/os-keypairs/kc.user%40example".to_string()));
    let x = p.show("x509-cert", &all()).await.unwrap();
    assert_eq!(x.key_type, Some(KeyType::X509));
    assert_eq!(
        x.provider_fingerprint.as_deref(),
        Some(emu_nova::x509_fingerprint(emu_nova::X509_CERT).as_str())
    );
    assert!(x.fingerprint_sha256.is_none() && x.algorithm.is_none());
    assert!(x
        .public_key
        .unwrap()
        .starts_with("-----BEGIN CERTIFICATE-----"));
    // The show reply is read at 2.2 (type), not higher than needed.
    let last = emu.state().nova.seen().into_iter().last().unwrap();
    assert_eq!(last.microversion.as_deref(), Some("2.2"));
}

#[tokio::test]
async fn missing_key_is_not_found_with_request_id() {
    let emu = start(NovaConfig::default());
    let e = provider(&admin_profile(&emu))
        .show("no-such-key", &all())
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::NotFound);
    assert_eq!(e.place.status, Some(404));
    assert_eq!(e.place.code.as_deref(), Some("itemNotFound"));
    assert!(e.place.request_id.as_deref().unwrap().starts_with("req-"));
    assert_eq!(e.place.profile.as_deref(), Some("os"));
}

#[tokio::test]
async fn bad_password_is_an_auth_error_without_the_password() {
    let emu = start(NovaConfig::default());
    let mut p = admin_profile(&emu);
    secret(&mut p, "password", "definitely-wrong-password");
    let e = provider(&p).list(&all()).await.unwrap_err();
    assert_eq!(e.kind, Kind::Auth);
    assert_eq!(e.place.status, Some(401));
    assert!(e.hint.as_deref().unwrap().contains("password"));
    let shown = format!("{e} {:?}", e);
    assert!(!shown.contains("definitely-wrong-password"));
    assert!(list_requests(&emu).is_empty());
}

#[tokio::test]
async fn region_missing_from_the_catalog_lists_the_ones_there() {
    let emu = start(NovaConfig {
        region: "RegionTwo".into(),
        ..Default::default()
    });
    let mut p = admin_profile(&emu);
    p.region = Some("RegionOne".into());
    let e = provider(&p).list(&all()).await.unwrap_err();
    assert_eq!(e.kind, Kind::Config);
    assert!(e.message.contains("RegionTwo"), "{e}");
    p.region = Some("RegionTwo".into());
    let keys = provider(&p).list(&all()).await.unwrap();
    assert_eq!(keys[0].region.as_deref(), Some("RegionTwo"));
    p.region = None;
    common::set(&mut p, "interface", "internalURL");
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 28);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let emu = Emulator::start(Config {
        faults: FaultConfig {
            fail_first: 3,
            ..Default::default()
        },
        ..Default::default()
    });
    assert_eq!(
        provider(&admin_profile(&emu))
            .list(&all())
            .await
            .unwrap()
            .len(),
        28
    );
    assert!(emu.state().faults.counts().1 == 3);
}

#[cfg(unix)]
#[tokio::test]
async fn token_cache_skips_keystone_and_reauthenticates_once_on_401() {
    use std::os::unix::fs::PermissionsExt;
    let emu = start(NovaConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let p = admin_profile(&emu);
    async fn list_with_cache(
        p: &Profile,
        dir: &std::path::Path,
    ) -> keyctl::error::Result<Vec<keyctl::model::KeyPair>> {
        NovaProvider::openstack(p, None, &ctx(Some(dir)))
            .unwrap()
            .list(&all())
            .await
    }
    let run = || list_with_cache(&p, dir.path());
    assert_eq!(run().await.unwrap().len(), 28);
    assert_eq!(emu.state().nova.tokens_issued(), 1);
    let files: Vec<_> = std::fs::read_dir(dir.path().join("openstack"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 1);
    assert_eq!(
        std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // Second run: no token issued, no version discovery (cached with the token).
    let versions_before = emu
        .state()
        .nova
        .seen()
        .iter()
        .filter(|s| s.path == "/v2.1/")
        .count();
    assert_eq!(run().await.unwrap().len(), 28);
    assert_eq!(emu.state().nova.tokens_issued(), 1);
    assert_eq!(
        emu.state()
            .nova
            .seen()
            .iter()
            .filter(|s| s.path == "/v2.1/")
            .count(),
        versions_before
    );
    // Revoked: Nova says 401, the adapter drops the cache, authenticates once, carries on.
    emu.state().nova.revoke_all_tokens();
    assert_eq!(run().await.unwrap().len(), 28);
    assert_eq!(emu.state().nova.tokens_issued(), 2);
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 4); // 2 good runs + the refused request + its retry
                                // token_cache = false: no file is read or written.
    let mut off = admin_profile(&emu);
    off.edit(|s: &mut keyctl::provider::openstack::Settings| s.token_cache = Some(false))
        .unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let prov = NovaProvider::openstack(&off, None, &ctx(Some(dir2.path()))).unwrap();
    prov.list(&all()).await.unwrap();
    assert!(!dir2.path().join("openstack").exists());
    assert_eq!(emu.state().nova.tokens_issued(), 3);
}

#[tokio::test]
async fn a_second_401_is_an_auth_error() {
    // The token dies after the first request: one re-auth, then Nova refuses again → Auth.
    let emu = start(NovaConfig {
        token_ttl: Duration::from_millis(0),
        ..Default::default()
    });
    let e = provider(&admin_profile(&emu))
        .list(&all())
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::Auth);
    assert_eq!(emu.state().nova.tokens_issued(), 2);
}

#[tokio::test]
async fn clouds_yaml_and_secure_yaml() {
    let emu = start(NovaConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let clouds = dir.path().join("clouds.yaml");
    let secure = dir.path().join("secure.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:\n  emu:\n    auth:\n      auth_url: {}/v3\n      username: {}\n      project_name: {}\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n    interface: public\n",
            emu.url(),
            emu_nova::ADMIN_NAME,
            emu_nova::PROJECT_NAME
        ),
    )
    .unwrap();
    std::fs::write(
        &secure,
        format!(
            "clouds:\n  emu:\n    auth:\n      password: {}\n",
            emu_nova::ADMIN_PASSWORD
        ),
    )
    .unwrap();
    let mut p = common::profile("c", ProviderKind::new("openstack"));
    common::set(&mut p, "cloud", "emu");
    common::set(&mut p, "clouds_file", clouds.display().to_string());
    common::set(&mut p, "secure_file", secure.display().to_string());
    let keys = provider(&p).list(&all()).await.unwrap();
    assert_eq!(keys.len(), 28);
    assert_eq!(keys[0].region.as_deref(), Some("RegionOne"));
    // The profile's own keys win over clouds.yaml.
    common::set(&mut p, "username", emu_nova::MEMBER_NAME);
    secret(&mut p, "password", emu_nova::MEMBER_PASSWORD);
    assert_eq!(provider(&p).list(&all()).await.unwrap().len(), 2);
    // An unknown cloud name: a config error naming the ones there are.
    common::set(&mut p, "cloud", "nope");
    let e = NovaProvider::openstack(&p, None, &ctx(None)).err().unwrap();
    assert_eq!(e.kind, Kind::Config);
    assert!(e.message.contains("emu"), "{e}");
}

fn ecs_profile(emu: &Emulator) -> Profile {
    let mut p = common::profile("ecs", ProviderKind::new("huawei-ecs"));
    p.endpoint = Some(emu.url());
    p.region = Some("cn-north-4".into());
    common::set(&mut p, "project_id", DEMO_PROJECT_ID);
    secret(&mut p, "access_key", DEMO_ACCESS_KEY);
    secret(&mut p, "secret_key", DEMO_SECRET_KEY);
    p
}

#[tokio::test]
async fn huawei_ecs_lists_and_shows_signed() {
    let emu = start(NovaConfig::default());
    let p = ecs_profile(&emu);
    let prov = keyctl::provider::huawei_ecs::adapter(&p, p.region.clone(), &ctx(None)).unwrap();
    let keys = prov.list(&paged(10)).await.unwrap();
    assert_eq!(keys.len(), 28);
    assert!(keys
        .iter()
        .all(|k| k.provider == ProviderKind::new("huawei-ecs")
            && k.project_id.as_deref() == Some(DEMO_PROJECT_ID)));
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 3);
    assert!(lists
        .iter()
        .all(|s| s.auth == "aksk" && s.path == format!("/v2.1/{DEMO_PROJECT_ID}/os-keypairs")));
    assert!(lists[1].query.as_deref().unwrap().contains("marker="));
    let kp = prov.show("key with spaces", &all()).await.unwrap();
    assert!(kp.description.is_some());
    assert!(kp.key_protection.is_some());
    assert_eq!(kp.region.as_deref(), Some("cn-north-4"));
    assert_eq!(emu.state().nova.tokens_issued(), 0);
    // No version document: ECS is asked for 2.35 straight away (list) and 2.2 (show).
    assert_eq!(version_documents(&emu), Vec::<String>::new());
    assert!(lists
        .iter()
        .all(|s| s.microversion.as_deref() == Some("2.35")));
    // A wrong secret key: the gateway's 401, an auth error.
    let mut bad = ecs_profile(&emu);
    secret(&mut bad, "secret_key", "not-the-secret-key");
    let prov = keyctl::provider::huawei_ecs::adapter(&bad, bad.region.clone(), &ctx(None)).unwrap();
    let e = prov.list(&all()).await.unwrap_err();
    assert_eq!(e.kind, Kind::Auth, "{e}");
    assert!(e.hint.unwrap().contains("secret_key"));
}

fn version_documents(emu: &Emulator) -> Vec<String> {
    emu.state()
        .nova
        .seen()
        .into_iter()
        .filter(|s| s.path.starts_with("/v2.1") && !s.path.contains("os-keypairs"))
        .map(|s| s.path)
        .collect()
}

#[tokio::test]
async fn huawei_ecs_below_2_35_falls_back_to_the_version_document_on_406() {
    let emu = start(NovaConfig {
        max_microversion: (2, 30),
        ..Default::default()
    });
    let p = ecs_profile(&emu);
    let prov = keyctl::provider::huawei_ecs::adapter(&p, p.region.clone(), &ctx(None)).unwrap();
    let keys = prov.list(&paged(10)).await.unwrap();
    assert_eq!(keys.len(), 28);
    // The refused guess, then the version document read the way ECS documents it (`GET /v2.1`,
    // no trailing slash), then one unpaged list at the server's maximum.
    assert_eq!(version_documents(&emu), ["/v2.1"]);
    let lists = list_requests(&emu);
    assert_eq!(lists.len(), 2);
    assert_eq!(lists[0].microversion, None, "refused: 2.35 > 2.30");
    assert_eq!(lists[1].microversion.as_deref(), Some("2.30"));
    assert_eq!(lists[1].query, None);
}

#[tokio::test]
async fn huawei_ecs_needs_a_region_or_endpoint_and_a_project() {
    let emu = start(NovaConfig::default());
    let mut p = ecs_profile(&emu);
    p.endpoint = None;
    let e = keyctl::provider::huawei_ecs::adapter(&p, None, &ctx(None))
        .err()
        .unwrap();
    assert_eq!(e.kind, Kind::Config);
    let mut p = ecs_profile(&emu);
    common::set_opt(&mut p, "project_id", None);
    let e = keyctl::provider::huawei_ecs::adapter(&p, p.region.clone(), &ctx(None))
        .err()
        .unwrap();
    assert_eq!(e.kind, Kind::Config);
    assert!(e.message.contains("project_id"));
}

#[tokio::test]
async fn one_cached_token_serves_profiles_with_and_without_endpoint() {
    let emu = start(NovaConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let mut with_endpoint = admin_profile(&emu);
    with_endpoint.endpoint = Some(emu.url());
    let plain = admin_profile(&emu);
    for p in [&with_endpoint, &plain, &with_endpoint] {
        let prov = NovaProvider::openstack(p, None, &ctx(Some(dir.path()))).unwrap();
        assert_eq!(prov.list(&all()).await.unwrap().len(), 28);
    }
    assert_eq!(emu.state().nova.tokens_issued(), 1);
}

#[tokio::test]
async fn unreadable_cacert_is_a_config_error() {
    let emu = start(NovaConfig::default());
    let mut p = admin_profile(&emu);
    p.cacert = Some("/nonexistent/keyctl-ca.pem".into());
    let e = NovaProvider::openstack(&p, None, &ctx(None)).err().unwrap();
    assert_eq!(e.kind, Kind::Config);
    assert!(e.message.contains("keyctl-ca.pem"));
}

#[tokio::test]
async fn huawei_ecs_temporary_keys_sign_the_security_token() {
    let huawei = keyctl_emulator::huawei::HuaweiConfig {
        security_token: Some("emulated-security-token".into()),
        ..Default::default()
    };
    let emu = Emulator::start(Config {
        huawei,
        ..Default::default()
    });
    let mut p = ecs_profile(&emu);
    let e = keyctl::provider::huawei_ecs::adapter(&p, p.region.clone(), &ctx(None))
        .unwrap()
        .list(&all())
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::Auth);
    secret(&mut p, "security_token", "emulated-security-token");
    let prov = keyctl::provider::huawei_ecs::adapter(&p, p.region.clone(), &ctx(None)).unwrap();
    assert_eq!(prov.list(&all()).await.unwrap().len(), 28);
    assert_eq!(
        prov.show("os-00002", &all()).await.unwrap().name,
        "os-00002"
    );
}

#[tokio::test]
async fn nova_server_errors_are_retried_with_a_fresh_signature() {
    // ECS has no Keystone, so the three injected 5xx all land on os-keypairs; every attempt
    // is rebuilt and signed again, and the verifier checks each one.
    let emu = Emulator::start(Config {
        faults: FaultConfig {
            fail_first: 3,
            ..Default::default()
        },
        ..Default::default()
    });
    let p = ecs_profile(&emu);
    let prov = keyctl::provider::huawei_ecs::adapter(&p, p.region.clone(), &ctx(None)).unwrap();
    assert_eq!(prov.list(&all()).await.unwrap().len(), 28);
    assert_eq!(emu.state().faults.counts().1, 3);
    assert_eq!(list_requests(&emu).len(), 4);
}

/// The walk requests page k+1 while converting page k: a later page that fails a few times
/// still leaves every page complete and in order, and one that keeps failing fails the listing
/// after the pages before it, without a request past it.
#[tokio::test]
async fn a_later_page_failing_is_retried_or_fails_the_pipelined_walk() {
    let list = |fail_range: std::ops::Range<u64>| async move {
        let emu = Emulator::start(Config {
            faults: FaultConfig {
                fail_range,
                ..Default::default()
            },
            ..Default::default()
        });
        // ECS: no Keystone and no version document, so request n is page n + 1's n-th attempt.
        let p = ecs_profile(&emu);
        let prov = keyctl::provider::huawei_ecs::adapter(&p, p.region.clone(), &ctx(None)).unwrap();
        let result = prov.list(&paged(5)).await;
        (result, emu)
    };
    let (keys, emu) = list(2..4).await;
    let keys = keys.expect("page 3 succeeds on its third attempt");
    let mut expected: Vec<String> = emu_nova::default_admin_keys(25)
        .into_iter()
        .map(|k| k.name)
        .collect();
    expected.sort();
    assert_eq!(names(&keys), expected);
    // 28 keys in pages of 5: six pages, page 3 tried three times.
    assert_eq!(emu.state().faults.counts(), (6 + 2, 2));

    let (e, emu) = list(2..u64::MAX).await;
    let e = e.expect_err("page 3 never succeeds");
    assert_eq!(e.kind, Kind::Server, "{e}");
    assert_eq!(e.attempts, Some(5));
    // Pages 1 and 2 once, page 3 five times, nothing after: its marker was never known.
    assert_eq!(emu.state().faults.counts(), (2 + 5, 5));
}

#[test]
fn an_ecs_profile_s_project_id_is_not_sent_to_another_region() {
    let emu = start(NovaConfig::default());
    let mut p = ecs_profile(&emu);
    // The real ECS hosts, named by region: nothing is sent, the constructor refuses.
    p.endpoint = None;
    p.region = Some("cn-north-4".into());
    assert!(
        keyctl::provider::huawei_ecs::adapter(&p, Some("cn-north-4".into()), &ctx(None)).is_ok()
    );
    let e = keyctl::provider::huawei_ecs::adapter(&p, Some("ap-southeast-1".into()), &ctx(None))
        .err()
        .expect("another region's project id");
    assert_eq!(e.kind, Kind::Config);
    assert!(
        e.message.contains("project_id is region cn-north-4's"),
        "{}",
        e.message
    );
    assert!(e
        .hint
        .unwrap_or_default()
        .contains("profile for ap-southeast-1"));
}

#[tokio::test]
async fn a_cached_token_serves_only_the_credentials_that_obtained_it() {
    let emu = start(NovaConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let good = admin_profile(&emu);
    let prov = NovaProvider::openstack(&good, None, &ctx(Some(dir.path()))).unwrap();
    assert_eq!(prov.list(&all()).await.unwrap().len(), 28);
    // The same auth_url, user and project with a wrong password: Keystone is asked, and says no.
    let mut wrong = admin_profile(&emu);
    secret(&mut wrong, "password", "not-the-admin-password");
    let e = NovaProvider::openstack(&wrong, None, &ctx(Some(dir.path())))
        .unwrap()
        .list(&all())
        .await
        .unwrap_err();
    assert_eq!(e.kind, Kind::Auth, "{e}");
    // The right password still uses its cached token.
    let again = NovaProvider::openstack(&good, None, &ctx(Some(dir.path()))).unwrap();
    assert_eq!(again.list(&all()).await.unwrap().len(), 28);
    assert_eq!(emu.state().nova.tokens_issued(), 1);
}

#[tokio::test]
async fn a_name_never_changes_the_request_path() {
    let emu = start(NovaConfig::default());
    for p in [admin_profile(&emu), ecs_profile(&emu)] {
        let prov = keyctl::provider::build(&p, p.region.as_deref(), &ctx(None)).unwrap();
        for name in ["..", ".", ""] {
            let e = prov.show(name, &all()).await.unwrap_err();
            assert_eq!(e.kind, Kind::Usage, "{} {name:?}: {e}", p.name);
        }
    }
    assert!(
        emu.state()
            .nova
            .seen()
            .iter()
            .all(|s| !s.path.contains("os-keypairs")),
        "no key pair request was sent"
    );
}
