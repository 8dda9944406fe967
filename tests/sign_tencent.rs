//! The TC3-HMAC-SHA256 signer against every `tencent_tc3` vector produced by the official
//! Tencent Cloud SDK with its clock pinned (`tests/data/signing-vectors.json`), byte for byte.

use keyctl::sign::tencent::{sign, Credentials, Payload, Request};
use serde_json::Value;

fn vectors() -> Vec<Value> {
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/signing-vectors.json"
    ))
    .expect("signing vectors present");
    let all: Value = serde_json::from_str(&raw).expect("vectors are JSON");
    all["tencent_tc3"]
        .as_array()
        .expect("tencent_tc3 is a list")
        .clone()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is a string in {v}"))
}

#[test]
fn every_official_sdk_vector_matches() {
    let vectors = vectors();
    assert_eq!(vectors.len(), 10, "the file holds 10 TC3 vectors");
    for v in &vectors {
        let id = s(v, "id");
        let input = &v["inputs"];
        let expected = &v["expected"];
        let headers = &v["request_headers"];
        let body = s(input, "body").as_bytes();
        let payload = if input["unsigned_payload"].as_bool() == Some(true) {
            Payload::Unsigned
        } else {
            Payload::Body(body)
        };
        // Sign what the SDK actually sent: its Content-Type and Host headers.
        let request = Request {
            method: s(input, "method"),
            host: s(headers, "Host"),
            content_type: s(headers, "Content-Type"),
            canonical_query: s(input, "query"),
            extra_signed_headers: &[],
            payload,
            service: s(input, "service"),
            timestamp: input["timestamp"].as_i64().expect("timestamp"),
        };
        let creds = Credentials {
            secret_id: s(input, "secret_id"),
            secret_key: s(input, "secret_key"),
        };
        let got = sign(&request, &creds);
        assert_eq!(
            got.canonical_request,
            s(expected, "canonical_request"),
            "{id}: canonical request"
        );
        assert_eq!(
            got.string_to_sign,
            s(expected, "string_to_sign"),
            "{id}: string to sign"
        );
        assert_eq!(
            got.credential_scope,
            s(expected, "credential_scope"),
            "{id}: scope"
        );
        assert_eq!(
            got.signed_headers,
            s(expected, "signed_headers"),
            "{id}: signed headers"
        );
        assert_eq!(got.signature, s(expected, "signature"), "{id}: signature");
        assert_eq!(
            got.authorization,
            s(expected, "authorization"),
            "{id}: authorization"
        );
        assert_eq!(
            got.authorization,
            s(headers, "Authorization"),
            "{id}: header as sent"
        );
    }
}
