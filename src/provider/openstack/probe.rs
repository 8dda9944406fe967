//! Nova's and Keystone's reply readers as plain functions of a reply, for the property tests
//! (tests/properties.rs) and the fuzz targets (fuzz/): each runs what a real reply meets once
//! the HTTP layer hands it over, with a provider that never sends anything. Not an API.
//! Keystone's token reply, catalog and role assignments are read by public functions of
//! [`super::keystone`] already.

use std::sync::{Arc, OnceLock};

use serde_json::Value;
use url::Url;

use super::errors::{keystone_error, nova_error, role_assignments_error, Action};
use super::keystone::{AuthMethod, DomainRef, ProjectRef, UserRef};
use super::list::{snippet, Pages};
use super::microversion::parse_version_doc;
use super::*;

/// The compute base every reply is read for.
const COMPUTE: &str = "https://nova.example/v2.1";

/// What the replies are read as: Huawei ECS (AK/SK) or OpenStack (Keystone), and at which
/// microversion (from 2.35 a list is paged).
#[derive(Debug, Clone, Copy)]
pub struct Reading {
    pub ecs: bool,
    pub microversion: Microversion,
}

/// One provider of each kind for every call: building an HTTP client costs far more than a read.
fn provider(ecs: bool) -> &'static NovaProvider {
    static ECS: OnceLock<NovaProvider> = OnceLock::new();
    static KEYSTONE: OnceLock<NovaProvider> = OnceLock::new();
    let build = |ecs: bool| {
        let http =
            Http::new(crate::http::HttpOptions::default()).expect("an HTTP client, no settings");
        let compute = Url::parse(COMPUTE).expect("a URL");
        if ecs {
            let keys = AkSk {
                access_key: Secret::new("PROBEAK0000000000001"),
                secret_key: Secret::new("probe-secret-key"),
                security_token: None,
                project_id: "0b7ea2f4c0d24a1e9a6a2f6e8d3c1b5a".into(),
            };
            let kind = crate::provider::huawei_ecs::KIND;
            let region = Some("cn-north-4".to_string());
            return NovaProvider::signed("ecs", kind, http, compute, region, keys);
        }
        NovaProvider {
            profile: "os".into(),
            kind: KIND,
            http,
            auth: Auth::Keystone {
                auth_url: None,
                method: None,
                direct: Some(Secret::new("probe-token")),
                interface: "public".into(),
                cache: None,
                allow_http_catalog: false,
            },
            region: Some("RegionOne".into()),
            endpoint: Some(compute),
            session: tokio::sync::Mutex::new(None),
            reauthenticated: AtomicBool::new(false),
        }
    };
    if ecs {
        ECS.get_or_init(|| build(true))
    } else {
        KEYSTONE.get_or_init(|| build(false))
    }
}

fn session(nova: &NovaProvider) -> Arc<Session> {
    let compute = Url::parse(COMPUTE).expect("a URL");
    let user = Some("probe-user".to_string());
    Arc::new(nova.new_session(None, compute, None, user, None, None))
}

/// A list reply as the walk reads it: its key pairs, each converted, and the marker of the
/// next page (for `owner`'s key pairs when given, as `--user` asks).
pub fn list_page(
    resp: &HttpResponse,
    reading: Reading,
    owner: Option<&str>,
) -> Result<(Vec<KeyPair>, Option<String>)> {
    let nova = provider(reading.ecs);
    let pages = Pages {
        nova,
        mv: reading.microversion,
        owner,
    };
    let page = (resp.clone(), session(nova));
    let (items, next) = pages.read(&page)?;
    let keys = items
        .iter()
        .map(|item| pages.convert(&page, item))
        .collect::<Result<_>>()?;
    Ok((keys, next))
}

/// A show reply, as `show` reads it.
pub fn detail(resp: &HttpResponse, ecs: bool, user: Option<&str>) -> Result<KeyPair> {
    let nova = provider(ecs);
    let body: Value = resp.json().map_err(|e| nova.place(e))?;
    let kp = body.get("keypair").ok_or_else(|| {
        nova.place(Error::protocol(format!(
            "Nova's show reply has no `keypair` object: {}",
            snippet(&body)
        )))
    })?;
    nova.value_to_keypair(&session(nova), kp, user)
}

/// The compute version document's maximum microversion (`None`: none the reply names).
pub fn version_document(resp: &HttpResponse) -> Option<Microversion> {
    parse_version_doc(resp)
}

/// The errors a failed reply makes: Nova's for a list, a show of `name` (both also for
/// `user`) and a version document, with and without a microversion, as ECS and as OpenStack;
/// then Keystone's for each auth method, and a refused role assignment list.
pub fn errors(resp: &HttpResponse, name: &str, user: &str) -> Vec<Error> {
    let actions = [
        Action::List { user_id: None },
        Action::List {
            user_id: Some(user),
        },
        Action::Show {
            name,
            user_id: None,
        },
        Action::Show {
            name,
            user_id: Some(user),
        },
        Action::Versions,
    ];
    let mut out = Vec::new();
    for action in actions {
        for mv in [None, Some(Microversion(2, 35))] {
            for ecs in [false, true] {
                out.push(nova_error(resp, action, mv, ecs));
            }
        }
    }
    let domain = DomainRef::Name("Default".into());
    let project = ProjectRef::Name {
        name: "demo".into(),
        domain: domain.clone(),
    };
    let methods = [
        AuthMethod::Password {
            user: UserRef::Name {
                name: user.into(),
                domain,
            },
            password: Secret::new("probe-password"),
            project: project.clone(),
        },
        AuthMethod::AppCredential {
            id: Some("probe-credential".into()),
            name: None,
            user: None,
            secret: Secret::new("probe-secret"),
        },
        AuthMethod::Token {
            token: Secret::new("probe-token"),
            project,
        },
    ];
    for method in &methods {
        out.push(keystone_error(resp, method, "https://keystone.example/v3"));
    }
    out.push(role_assignments_error(resp));
    out
}
