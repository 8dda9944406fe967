//! Tencent Cloud API 3.0 request signing, `TC3-HMAC-SHA256`, as Tencent's "Signature v3"
//! documentation and its official SDKs (`common/client.go` in tencentcloud-sdk-go) do it.
//!
//! A pure function of the request as it will be sent, the credentials and the time: no clock and
//! no I/O, so it is tested byte for byte against Tencent's published examples and the vectors
//! produced by the official SDKs (`tests/data/signing-vectors.json`).

use chrono::DateTime;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// A permanent or temporary key pair. The token of temporary credentials is sent in
/// `X-TC-Token` but is not part of the signature (the SDKs do not sign it), so it is not here.
#[derive(Clone, Copy)]
pub struct Credentials<'a> {
    pub secret_id: &'a str,
    pub secret_key: &'a str,
}

/// What the payload hash covers.
#[derive(Debug, Clone, Copy)]
pub enum Payload<'a> {
    /// The exact body bytes that will be sent (empty for GET).
    Body(&'a [u8]),
    /// `X-TC-Content-SHA256: UNSIGNED-PAYLOAD` is sent: the literal string is hashed instead.
    Unsigned,
}

/// The parts of a request the signature covers, exactly as they go on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// `POST` or `GET`.
    pub method: &'a str,
    /// The `Host` header as sent, port included (`127.0.0.1:8080`).
    pub host: &'a str,
    /// The `Content-Type` header as sent.
    pub content_type: &'a str,
    /// The raw query string as sent (`""` for POST).
    pub canonical_query: &'a str,
    /// Headers signed besides content-type and host (the SDKs sign none; the doc shows
    /// `x-tc-action`), as (name, value) with any case.
    pub extra_signed_headers: &'a [(String, String)],
    pub payload: Payload<'a>,
    /// The service, the first label of the host name: `cvm`.
    pub service: &'a str,
    /// `X-TC-Timestamp`, Unix seconds.
    pub timestamp: i64,
}

/// Every intermediate value, so a mismatch can be located when a vector fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub canonical_request: String,
    pub string_to_sign: String,
    pub signed_headers: String,
    pub credential_scope: String,
    /// Lowercase hex.
    pub signature: String,
    /// The whole `Authorization` header value.
    pub authorization: String,
}

/// The credential date: the UTC calendar date of the timestamp, `YYYY-MM-DD`. A timestamp that
/// chrono cannot represent (hundreds of millennia away) falls back to the epoch rather than
/// panicking; the server then rejects the request as expired, which is the truth.
pub fn credential_date(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// `SecretSigning`: HMAC chain `"TC3"+SecretKey` → date → service → `tc3_request` (raw bytes).
pub fn signing_key(secret_key: &str, date: &str, service: &str) -> [u8; 32] {
    let k_date = hmac(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
    let k_service = hmac(&k_date, service.as_bytes());
    hmac(&k_service, b"tc3_request")
}

/// Signs `req` with `creds`.
pub fn sign(req: &Request, creds: &Credentials) -> Signature {
    let (canonical_headers, signed_headers) = canonical_headers(req);
    let payload_hash = match req.payload {
        Payload::Body(body) => sha256_hex(body),
        Payload::Unsigned => sha256_hex(b"UNSIGNED-PAYLOAD"),
    };
    let canonical_request = format!(
        "{}\n/\n{}\n{}\n{}\n{}",
        req.method.to_ascii_uppercase(),
        req.canonical_query,
        canonical_headers,
        signed_headers,
        payload_hash
    );
    let date = credential_date(req.timestamp);
    let credential_scope = format!("{date}/{}/tc3_request", req.service);
    let string_to_sign = format!(
        "{ALGORITHM}\n{}\n{credential_scope}\n{}",
        req.timestamp,
        sha256_hex(canonical_request.as_bytes())
    );
    let key = signing_key(creds.secret_key, &date, req.service);
    let signature = hex::encode(hmac(&key, string_to_sign.as_bytes()));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        creds.secret_id
    );
    Signature {
        canonical_request,
        string_to_sign,
        signed_headers,
        credential_scope,
        signature,
        authorization,
    }
}

/// The canonical header block (every line ends in `\n`) and the `;`-joined signed names.
/// Names and values are lowercased (the doc's `x-tc-action:describeinstances`), values trimmed;
/// sorted by name; a name given twice is signed once, first value wins.
fn canonical_headers(req: &Request) -> (String, String) {
    let mut headers: Vec<(String, String)> = vec![
        (
            "content-type".to_string(),
            req.content_type.trim().to_ascii_lowercase(),
        ),
        ("host".to_string(), req.host.trim().to_ascii_lowercase()),
    ];
    for (name, value) in req.extra_signed_headers {
        headers.push((
            name.trim().to_ascii_lowercase(),
            value.trim().to_ascii_lowercase(),
        ));
    }
    // Stable sort keeps content-type/host ahead of a duplicate given in the extras.
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    headers.dedup_by(|later, earlier| later.0 == earlier.0);
    let block: String = headers.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let names: Vec<&str> = headers.iter().map(|(n, _)| n.as_str()).collect();
    (block, names.join(";"))
}

fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC-SHA256 takes keys of any length"),
    };
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tencent's published example (its Signature v3 doc and TencentCloud/signature-process-demo):
    // the asterisks are literal key characters.
    const DOC_ID: &str = "AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******";
    const DOC_KEY: &str = "Gu5t9xGARNpq86cd98joQYCN3*******";
    const DOC_BODY: &str =
        r#"{"Limit": 1, "Filters": [{"Values": ["\u672a\u547d\u540d"], "Name": "instance-name"}]}"#;

    fn doc_request<'a>(extra: &'a [(String, String)], body: &'a [u8]) -> Request<'a> {
        Request {
            method: "POST",
            host: "cvm.tencentcloudapi.com",
            content_type: "application/json; charset=utf-8",
            canonical_query: "",
            extra_signed_headers: extra,
            payload: Payload::Body(body),
            service: "cvm",
            timestamp: 1551113065,
        }
    }

    fn creds() -> Credentials<'static> {
        Credentials {
            secret_id: DOC_ID,
            secret_key: DOC_KEY,
        }
    }

    #[test]
    fn doc_vector_a() {
        assert_eq!(
            sha256_hex(DOC_BODY.as_bytes()),
            "35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        let s = sign(&doc_request(&[], DOC_BODY.as_bytes()), &creds());
        assert_eq!(
            s.canonical_request,
            "POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\n\
             content-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064"
        );
        assert_eq!(
            sha256_hex(s.canonical_request.as_bytes()),
            "5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            s.string_to_sign,
            "TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n\
             5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031"
        );
        assert_eq!(
            s.signature,
            "2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
        assert_eq!(
            s.authorization,
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, \
             SignedHeaders=content-type;host, \
             Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c"
        );
    }

    #[test]
    fn doc_vector_b_signs_lowercased_action() {
        let extra = vec![("X-TC-Action".to_string(), "DescribeInstances".to_string())];
        let s = sign(&doc_request(&extra, DOC_BODY.as_bytes()), &creds());
        assert!(s
            .canonical_request
            .contains("\nx-tc-action:describeinstances\n\ncontent-type;host;x-tc-action\n"));
        assert_eq!(
            sha256_hex(s.canonical_request.as_bytes()),
            "7019a55be8395899b900fb5564e4200d984910f34794a27cb3fb7d10ff6a1e84"
        );
        assert_eq!(
            s.signature,
            "be4f67d323c78ab9acb7395e43c0dbcf822a9cfac32fea2449a7bc7726b770a3"
        );
        assert_eq!(s.signed_headers, "content-type;host;x-tc-action");
    }

    #[test]
    fn payload_is_hashed_byte_for_byte() {
        // Same JSON, keys swapped: a different signature (the body is hashed as sent).
        let swapped = r#"{"Limit": 1, "Filters": [{"Name": "instance-name", "Values": ["\u672a\u547d\u540d"]}]}"#;
        let s = sign(&doc_request(&[], swapped.as_bytes()), &creds());
        assert!(s.signature.starts_with("b74c852d"), "{}", s.signature);
        assert!(s.signature.ends_with("3adb"), "{}", s.signature);
    }

    #[test]
    fn credential_date_is_utc() {
        assert_eq!(credential_date(1704067199), "2023-12-31");
        assert_eq!(credential_date(1704067200), "2024-01-01");
        assert_eq!(credential_date(i64::MAX), "1970-01-01");
    }
}
