//! Each cloud's reply readers and error judges, on replies shaped as the cloud's and bent.

use std::sync::Once;

use keyctl::error::{Error, Kind};
use keyctl::http::{HttpResponse, Verdict};
use keyctl::model::KeyPair;
use keyctl::provider::huawei::probe as kps;
use keyctl::provider::openstack::keystone;
use keyctl::provider::openstack::probe as nova;
use keyctl::provider::openstack::Microversion;
use keyctl::provider::tencent::probe as tencent;
use proptest::prelude::*;

use crate::gen::{self, any_json, array, number, obj, object, s, text, J};
use crate::{bounded, config};

/// Builds the providers the readers use (an HTTP client each) outside the time bound.
fn warm() {
    static WARM: Once = Once::new();
    WARM.call_once(|| {
        let empty = HttpResponse {
            status: 200,
            headers: Default::default(),
            body: Vec::new(),
        };
        let _ = kps::detail(&empty);
        let _ = nova::detail(&empty, true, None);
        let _ = nova::detail(&empty, false, None);
        let _ = tencent::page(&empty);
    });
}

/// What every key pair a reader accepts holds to: the key's own fingerprints are ssh-keygen's
/// spellings, and are there exactly when the algorithm read from the key is.
fn check_key_pair(kp: &KeyPair, profile: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(&kp.profile, profile);
    if let Some(fp) = &kp.fingerprint_sha256 {
        prop_assert!(fp.starts_with("SHA256:") && fp.len() == 50, "{}", fp);
    }
    if let Some(fp) = &kp.fingerprint_md5 {
        prop_assert!(fp.starts_with("MD5:") && fp.len() == 51, "{}", fp);
    }
    prop_assert_eq!(kp.fingerprint_sha256.is_some(), kp.algorithm.is_some());
    Ok(())
}

fn check_protocol(e: &Error) -> Result<(), TestCaseError> {
    prop_assert_eq!(e.kind, Kind::Protocol, "{}", e.message);
    prop_assert!(!e.message.is_empty());
    Ok(())
}

/// A judged reply: accepted only with a 2xx; a refusal carries the reply's status and a
/// message.
fn check_verdict(
    v: &Verdict,
    resp: &HttpResponse,
    body_decides: bool,
) -> Result<(), TestCaseError> {
    match v {
        Verdict::Accept => prop_assert!((200..300).contains(&resp.status)),
        Verdict::Retry { error, .. } | Verdict::Fail(error) => {
            prop_assert!(!error.message.is_empty());
            if !body_decides || !(200..300).contains(&resp.status) {
                prop_assert_eq!(error.place.status, Some(resp.status), "{}", error.message);
            }
        }
    }
    Ok(())
}

fn id() -> BoxedStrategy<J> {
    prop_oneof![
        "[0-9a-f]{32}".prop_map(J::Str),
        number().prop_map(J::Num),
        text().prop_map(J::Str)
    ]
    .boxed()
}

fn name() -> BoxedStrategy<J> {
    prop_oneof![3 => "[A-Za-z0-9_.-]{1,20}".prop_map(J::Str), 1 => text().prop_map(J::Str)].boxed()
}

fn boolean() -> BoxedStrategy<J> {
    any::<bool>().prop_map(J::Bool).boxed()
}

// ------------------------------------------------------------------------------------- KPS ----

fn kps_key_pair() -> BoxedStrategy<J> {
    let epoch = prop_oneof![
        (0i64..4_000_000_000).prop_map(|n| J::Num(n.to_string())),
        (0i64..4_000_000_000_000).prop_map(|n| J::Num(n.to_string())),
        number().prop_map(J::Num),
        number().prop_map(J::Str),
    ];
    let frozen = prop_oneof![
        (0u8..12).prop_map(|n| J::Num(n.to_string())),
        (0u8..12).prop_map(|n| J::Str(n.to_string())),
    ];
    object(vec![
        ("name", name()),
        ("id", id()),
        (
            "type",
            prop::sample::select(vec!["ssh", "x509", "SSH", ""])
                .prop_map(s)
                .boxed(),
        ),
        ("fingerprint", text().prop_map(J::Str).boxed()),
        ("public_key", gen::public_key()),
        ("create_time", epoch.boxed()),
        ("description", text().prop_map(J::Str).boxed()),
        ("user_id", id()),
        (
            "scope",
            prop::sample::select(vec!["user", "domain"])
                .prop_map(s)
                .boxed(),
        ),
        ("is_key_protection", boolean()),
        ("frozen_state", frozen.boxed()),
        ("key_id", id()),
        ("algorithm", text().prop_map(J::Str).boxed()),
        ("deleted", boolean()),
        ("private_key", text().prop_map(J::Str).boxed()),
    ])
}

fn wrapped(item: BoxedStrategy<J>) -> BoxedStrategy<J> {
    prop_oneof![
        6 => item.clone().prop_map(|kp| obj(vec![("keypair", kp)])),
        1 => item,
        1 => any_json(),
    ]
    .boxed()
}

fn kps_list() -> BoxedStrategy<J> {
    let marker = prop_oneof![name(), Just(J::Null), any_json()];
    object(vec![
        ("keypairs", array(wrapped(kps_key_pair()), 5)),
        ("page_info", object(vec![("next_marker", marker.boxed())])),
    ])
}

fn kps_error() -> BoxedStrategy<J> {
    let code = prop_oneof![
        prop::sample::select(vec![
            "APIGW.0308",
            "APIG.0308",
            "APIGW.0101",
            "APIGW.0301",
            "KPS.0001"
        ])
        .prop_map(s),
        text().prop_map(J::Str),
        number().prop_map(J::Num),
    ]
    .boxed();
    let flat = object(vec![
        ("error_code", code.clone()),
        ("error_msg", text().prop_map(J::Str).boxed()),
        ("request_id", text().prop_map(J::Str).boxed()),
    ]);
    let nested = object(vec![(
        "error",
        object(vec![
            ("code", code),
            ("message", text().prop_map(J::Str).boxed()),
        ]),
    )]);
    prop_oneof![flat, nested, any_json()].boxed()
}

const KPS_DEEP: &str =
    r#"{"keypairs":[{"keypair":{"name":"a","id":%}}],"page_info":{"next_marker":%}}"#;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn kps_list_pages(resp in gen::accepted(gen::body(kps_list(), KPS_DEEP))) {
        warm();
        let read = bounded("KPS list page", move || kps::list_page(&resp));
        match read {
            Ok((keys, next)) => {
                for kp in &keys {
                    check_key_pair(kp, "hw")?;
                    prop_assert_eq!(kp.project_id.as_deref(), Some(kps::PROJECT));
                }
                prop_assert!(next.is_none_or(|m| !m.is_empty()));
            }
            Err(e) => check_protocol(&e)?,
        }
    }

    #[test]
    fn kps_details(resp in gen::accepted(gen::body(
        wrapped(kps_key_pair()), r#"{"keypair":{"name":"a","scope":%}}"#,
    ))) {
        warm();
        match bounded("KPS detail", move || kps::detail(&resp)) {
            Ok(kp) => check_key_pair(&kp, "hw")?,
            Err(e) => check_protocol(&e)?,
        }
    }

    #[test]
    fn iam_project_lists(resp in gen::accepted(gen::body(
        object(vec![(
            "projects",
            array(object(vec![
                ("name", prop_oneof![Just(s(kps::REGION)), name()].boxed()),
                ("id", id()),
            ]), 4),
        )]),
        r#"{"projects":[{"name":"cn-north-4","id":%}]}"#,
    ))) {
        warm();
        match bounded("IAM project list", move || kps::projects(&resp)) {
            Ok(_) => {}
            Err(e) => check_protocol(&e)?,
        }
    }

    #[test]
    fn kps_error_bodies(resp in gen::reply(gen::body(kps_error(), r#"{"error":%}"#)), key in text()) {
        warm();
        let verdicts = bounded("KPS judge", {
            let resp = resp.clone();
            move || kps::judge(&resp, &key)
        });
        for v in &verdicts {
            check_verdict(v, &resp, false)?;
        }
    }
}

// ------------------------------------------------------------------------- Nova, Keystone ----

fn nova_key_pair() -> BoxedStrategy<J> {
    let time = prop_oneof![
        Just(s("2026-11-22T10:20:17.912316")),
        Just(s("2026-11-22 10:20:17")),
        Just(s("2026-11-22T10:20:17Z")),
        Just(s("+275760-09-13T00:00:00Z")),
        Just(s("9999-12-31T23:59:59.999999999999")),
        text().prop_map(J::Str),
    ];
    object(vec![
        ("name", name()),
        ("type", prop::sample::select(vec!["ssh", "x509", "SSH"]).prop_map(s).boxed()),
        ("public_key", prop_oneof![
            4 => gen::public_key(),
            1 => text().prop_map(|t| J::Str(format!("-----BEGIN CERTIFICATE-----\n{t}\n-----END CERTIFICATE-----"))),
        ].boxed()),
        ("fingerprint", text().prop_map(J::Str).boxed()),
        ("id", id()),
        ("user_id", id()),
        ("created_at", time.boxed()),
        ("description", text().prop_map(J::Str).boxed()),
        ("is_key_protection", boolean()),
        ("deleted", boolean()),
        ("updated_at", Just(J::Null).boxed()),
    ])
}

fn nova_list() -> BoxedStrategy<J> {
    let link = object(vec![
        ("href", text().prop_map(J::Str).boxed()),
        (
            "rel",
            prop_oneof![Just(s("next")), Just(s("self")), any_json()].boxed(),
        ),
    ]);
    object(vec![
        ("keypairs", array(wrapped(nova_key_pair()), 5)),
        ("keypairs_links", array(link, 3)),
    ])
}

fn microversion() -> BoxedStrategy<Microversion> {
    prop_oneof![
        Just(Microversion(2, 1)),
        Just(Microversion(2, 2)),
        Just(Microversion(2, 10)),
        Just(Microversion(2, 35)),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| Microversion(a, b)),
    ]
    .boxed()
}

fn nova_error() -> BoxedStrategy<J> {
    let message = prop_oneof![
        Just(s("Marker abc could not be found.")),
        Just(s("Version 2.35 is not supported by the API.")),
        Just(s("Malformed request URL: URL's project_id does not match")),
        text().prop_map(J::Str),
    ]
    .boxed();
    let fault = object(vec![
        ("message", message.clone()),
        ("code", number().prop_map(J::Num).boxed()),
    ]);
    let name = prop::sample::select(vec![
        "itemNotFound",
        "badRequest",
        "forbidden",
        "overLimit",
        "computeFault",
    ]);
    prop_oneof![
        (name, fault.clone()).prop_map(|(n, f)| obj(vec![(n, f)])),
        object(vec![(
            "error",
            object(vec![
                ("title", text().prop_map(J::Str).boxed()),
                ("message", message),
                ("code", number().prop_map(J::Num).boxed()),
            ])
        )]),
        object(vec![
            ("error_code", text().prop_map(J::Str).boxed()),
            ("error_msg", text().prop_map(J::Str).boxed()),
        ]),
        any_json(),
    ]
    .boxed()
}

fn endpoint() -> BoxedStrategy<J> {
    object(vec![
        (
            "interface",
            prop::sample::select(vec!["public", "publicURL", "internal", "admin", "PUBLIC"])
                .prop_map(s)
                .boxed(),
        ),
        (
            "region_id",
            prop::sample::select(vec!["R1", "R2", "RegionOne"])
                .prop_map(s)
                .boxed(),
        ),
        (
            "region",
            prop::sample::select(vec!["R1", "R2"]).prop_map(s).boxed(),
        ),
        (
            "url",
            prop_oneof![
                Just(s("https://nova.example/v2.1")),
                Just(s("http://nova.example:8774/v2.1/abc")),
                text().prop_map(J::Str),
            ]
            .boxed(),
        ),
    ])
}

fn token_reply() -> BoxedStrategy<J> {
    let service = object(vec![
        (
            "type",
            prop_oneof![3 => Just(s("compute")), 1 => text().prop_map(J::Str)].boxed(),
        ),
        ("endpoints", array(endpoint(), 4)),
    ]);
    let expires = prop_oneof![
        Just(s("2030-01-01T00:00:00.000000Z")),
        Just(s("+262143-12-31T23:59:59Z")),
        text().prop_map(J::Str),
    ];
    object(vec![(
        "token",
        object(vec![
            ("expires_at", expires.boxed()),
            ("user", object(vec![("id", id())])),
            ("project", object(vec![("id", id())])),
            ("catalog", array(service, 4)),
        ]),
    )])
}

fn role_assignments() -> BoxedStrategy<J> {
    let assignment = object(vec![
        ("user", object(vec![("id", id())])),
        ("role", object(vec![("id", id())])),
        ("scope", any_json()),
    ]);
    object(vec![
        ("role_assignments", array(assignment, 6)),
        ("truncated", boolean()),
    ])
}

const NOVA_DEEP: &str = r#"{"keypairs":[{"keypair":{"name":"a","x-cloud":%}}],"keypairs_links":[{"rel":"next","href":%}]}"#;

proptest! {
    #![proptest_config(config())]

    #[test]
    fn nova_list_pages(
        resp in gen::accepted(gen::body(nova_list(), NOVA_DEEP)),
        ecs in any::<bool>(),
        mv in microversion(),
        owner in proptest::option::of("[a-z0-9]{1,12}"),
    ) {
        warm();
        let reading = nova::Reading { ecs, microversion: mv };
        let read = bounded("Nova list page", move || nova::list_page(&resp, reading, owner.as_deref()));
        match read {
            Ok((keys, next)) => {
                for kp in &keys {
                    check_key_pair(kp, if ecs { "ecs" } else { "os" })?;
                }
                // Only a paged list names a next page, after one of its own key pairs.
                if let Some(next) = next {
                    prop_assert!(mv >= Microversion(2, 35));
                    prop_assert!(keys.iter().any(|k| k.name == next), "{}", next);
                }
            }
            Err(e) => check_protocol(&e)?,
        }
    }

    #[test]
    fn nova_details(
        resp in gen::accepted(gen::body(wrapped(nova_key_pair()), r#"{"keypair":{"name":"a","id":%}}"#)),
        ecs in any::<bool>(),
        user in proptest::option::of("[a-z0-9]{1,12}"),
    ) {
        warm();
        match bounded("Nova detail", move || nova::detail(&resp, ecs, user.as_deref())) {
            Ok(kp) => check_key_pair(&kp, if ecs { "ecs" } else { "os" })?,
            Err(e) => check_protocol(&e)?,
        }
    }

    #[test]
    fn nova_version_documents(resp in gen::accepted(gen::body(
        object(vec![("version", object(vec![
            ("version", prop_oneof![Just(s("2.95")), Just(s("")), Just(s("2.")), Just(s("99999.99999")), text().prop_map(J::Str)].boxed()),
            ("min_version", text().prop_map(J::Str).boxed()),
            ("id", Just(s("v2.1")).boxed()),
        ]))]),
        r#"{"version":{"version":"2.95","links":%}}"#,
    ))) {
        bounded("Nova version document", move || nova::version_document(&resp));
    }

    #[test]
    fn nova_and_keystone_error_bodies(
        resp in gen::reply(gen::body(nova_error(), r#"{"itemNotFound":{"message":%}}"#)),
        key in text(),
        user in text(),
    ) {
        warm();
        let status = resp.status;
        let errors = bounded("Nova/Keystone error", move || nova::errors(&resp, &key, &user));
        for e in &errors {
            prop_assert!(!e.message.is_empty());
            prop_assert_eq!(e.place.status, Some(status));
        }
    }

    #[test]
    fn keystone_token_replies(
        resp in gen::reply(gen::body(token_reply(), r#"{"token":{"catalog":%}}"#)),
        interface in prop::sample::select(vec!["public", "publicURL", "internal", "admin", ""]),
        region in proptest::option::of(prop_oneof![Just("R1".to_string()), Just("R2".to_string()), text()]),
    ) {
        let issued = bounded("Keystone token reply", move || keystone::parse_issued(&resp));
        let issued = match issued {
            Ok(issued) => issued,
            Err(e) => return check_protocol(&e),
        };
        prop_assert!(!issued.token.expose().is_empty());
        let endpoints = issued.compute_endpoints.clone();
        let chosen = bounded("catalog selection", {
            let (endpoints, region) = (endpoints.clone(), region.clone());
            move || keystone::select_compute(&endpoints, interface, region.as_deref())
        });
        match chosen {
            Ok((url, chosen_region)) => {
                // The URL of an endpoint of that interface (in that region, when one is asked).
                let want = keystone::normalize_interface(interface);
                let found = endpoints.iter().any(|e| {
                    e.get("url").and_then(|u| u.as_str()) == Some(url.as_str())
                        && e.get("interface").and_then(|i| i.as_str()).map(keystone::normalize_interface) == Some(want.clone())
                });
                prop_assert!(found, "{}", url);
                if let Some(r) = &region {
                    prop_assert_eq!(chosen_region.as_ref(), Some(r));
                }
            }
            Err(e) => prop_assert!(matches!(e.kind, Kind::Config | Kind::Protocol), "{}", e.message),
        }
        let regions = bounded("catalog regions", move || keystone::compute_regions(&endpoints, interface));
        let mut unique = regions.clone();
        unique.sort();
        unique.dedup();
        prop_assert_eq!(unique.len(), regions.len());
    }

    #[test]
    fn keystone_role_assignments(body in gen::body(role_assignments(), r#"{"role_assignments":[{"user":{"id":%}}]}"#)) {
        let read = bounded("role assignments", move || {
            serde_json::from_slice::<serde_json::Value>(&body).map(|v| keystone::assigned_users(&v))
        });
        match read {
            Err(_) => {} // not JSON: the HTTP layer's read refuses it first
            Ok(Ok((users, _))) => {
                let mut sorted = users.clone();
                sorted.sort();
                sorted.dedup();
                prop_assert_eq!(sorted, users);
            }
            Ok(Err(e)) => check_protocol(&e)?,
        }
    }
}

// --------------------------------------------------------------------------------- Tencent ----

fn tc_key_pair() -> BoxedStrategy<J> {
    let time = prop_oneof![
        Just(s("2024-01-01T00:00:00Z")),
        Just(s("2024-01-01 00:00:00")),
        text().prop_map(J::Str),
    ];
    let tag = object(vec![
        ("Key", text().prop_map(J::Str).boxed()),
        ("Value", text().prop_map(J::Str).boxed()),
    ]);
    object(vec![
        (
            "KeyId",
            prop_oneof![3 => "skey-[a-z0-9]{8}".prop_map(J::Str), 1 => text().prop_map(J::Str)]
                .boxed(),
        ),
        ("KeyName", name()),
        ("ProjectId", id()),
        ("Description", text().prop_map(J::Str).boxed()),
        ("PublicKey", gen::public_key()),
        (
            "AssociatedInstanceIds",
            array("ins-[a-z0-9]{8}".prop_map(J::Str).boxed(), 3),
        ),
        ("CreatedTime", time.boxed()),
        ("Tags", array(tag, 3)),
    ])
}

fn tc_reply() -> BoxedStrategy<J> {
    let code = prop::sample::select(vec![
        "AuthFailure.SignatureExpire",
        "AuthFailure.SignatureFailure",
        "RequestLimitExceeded",
        "InternalError",
        "UnsupportedRegion",
        "InvalidParameterValue.Limit",
        "ResourceNotFound.KeyPair",
        "InvalidKeyPairId.NotFound",
        "IpNotInWhitelist",
        "",
    ]);
    let error = object(vec![
        (
            "Code",
            prop_oneof![3 => code.prop_map(s), 1 => text().prop_map(J::Str)].boxed(),
        ),
        ("Message", text().prop_map(J::Str).boxed()),
    ]);
    let response = object(vec![
        ("TotalCount", number().prop_map(J::Num).boxed()),
        ("KeyPairSet", array(tc_key_pair(), 5)),
        ("RequestId", text().prop_map(J::Str).boxed()),
        ("Error", prop_oneof![1 => error, 3 => Just(J::Null)].boxed()),
    ]);
    object(vec![("Response", response)])
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn tencent_pages(resp in gen::reply(gen::body(
        tc_reply(),
        r#"{"Response":{"TotalCount":1,"KeyPairSet":[{"KeyName":"a","Tags":%}],"RequestId":"r"}}"#,
    ))) {
        warm();
        let judged = bounded("Tencent judge", {
            let resp = resp.clone();
            move || tencent::judge(&resp)
        });
        check_verdict(&judged, &resp, true)?;
        let read = bounded("Tencent page", {
            let resp = resp.clone();
            move || tencent::page(&resp)
        });
        match read {
            Ok((_, keys)) => {
                prop_assert!(matches!(judged, Verdict::Accept));
                for kp in &keys {
                    check_key_pair(kp, "tc")?;
                }
            }
            Err(e) => prop_assert!(!e.message.is_empty()),
        }
    }
}
