//! Hostile replies: with `rate > 0`, that fraction of replies is damaged after the cloud module
//! has built it, the way a broken proxy, a buggy API version or an impostor endpoint would
//! damage it. keyctl must turn every one into a clear error or a usable answer, never a panic
//! or a hang (tests/hostile_replies.rs; `keyctl-emulator --mangle-rate` by hand).
//!
//! Most damage is structural, since that is what gets past a JSON parser into an adapter: one
//! value somewhere in the reply replaced by a value of another type or an absurd one, or
//! removed, or an array element repeated. The rest is lower down: the body cut short or with a
//! byte changed, another status code, a missing or odd header, a Content-Length that lies.
//! Every damage is described in one line, kept in order, so a failure can be reproduced.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use serde_json::{json, Value};

use crate::dice::Dice;

#[derive(Debug, Clone, Default)]
pub struct MangleConfig {
    /// Fraction of replies damaged (0.0–1.0); 0 turns mangling off.
    pub rate: f64,
    /// Seed of the dice: with requests served in the same order, the same damage.
    pub seed: u64,
    /// Also print each damage on stderr as it is done (the binary; tests read [`Mangler::log`]).
    pub echo: bool,
}

/// The damage done so far, one line per damaged reply, and the replies counted (each reply's
/// dice are seeded with its number).
pub struct Mangler {
    config: MangleConfig,
    served: AtomicU64,
    log: Mutex<Vec<String>>,
}

impl Mangler {
    pub fn new(config: MangleConfig) -> Self {
        Mangler {
            config,
            served: AtomicU64::new(0),
            log: Mutex::new(Vec::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.config.rate > 0.0
    }

    /// Every damage done so far, in order: `#N METHOD PATH: what`.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Damages `reply` to the request `what` (`METHOD PATH`) if the dice say so. Each reply
    /// has its own dice, from the seed and its number, so one reply's damage does not depend on
    /// how much randomness another one's took.
    pub async fn apply(&self, what: &str, reply: Response<Body>) -> Response<Body> {
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        let mut dice = Dice::new(self.config.seed ^ n.wrapping_mul(0xA24B_AED4_963E_E407));
        if dice.unit() >= self.config.rate {
            return reply;
        }
        let (mut parts, body) = reply.into_parts();
        let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
            return Response::from_parts(parts, Body::empty());
        };
        parts.headers.remove(axum::http::header::CONTENT_LENGTH);
        let mut damaged = Damaged {
            status: parts.status,
            headers: std::mem::take(&mut parts.headers),
            body: bytes.to_vec(),
        };
        let description = damage(&mut damaged, &mut dice);
        let line = format!("#{n} {what}: {description}");
        if self.config.echo {
            eprintln!("mangled {line}");
        }
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
        parts.status = damaged.status;
        parts.headers = damaged.headers;
        let body = Bytes::from(damaged.body);
        if parts
            .headers
            .contains_key(axum::http::header::CONTENT_LENGTH)
        {
            // A Content-Length that lies: hyper frames the reply by the header when the body's
            // size is unknown (a stream), and closes the connection when the body ends short.
            // (A body of known size that disagrees with the header is a bug hyper asserts on.)
            let chunks = futures_util::stream::iter([Ok::<_, std::io::Error>(body)]);
            return Response::from_parts(parts, Body::from_stream(chunks));
        }
        Response::from_parts(parts, Body::from(body))
    }
}

/// A reply taken apart, to be damaged.
pub struct Damaged {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

/// Does one kind of damage to `reply` and says what it did. Pure given the dice.
pub fn damage(reply: &mut Damaged, dice: &mut Dice) -> String {
    match dice.below(10) {
        0..=5 => damage_json(reply, dice).unwrap_or_else(|| damage_bytes(reply, dice)),
        6 | 7 => damage_bytes(reply, dice),
        8 => damage_status(reply, dice),
        _ => damage_headers(reply, dice),
    }
}

/// One value anywhere in a JSON body replaced, removed or repeated. `None` when the body is
/// not JSON.
fn damage_json(reply: &mut Damaged, dice: &mut Dice) -> Option<String> {
    let mut doc: Value = serde_json::from_slice(&reply.body).ok()?;
    let mut paths = Vec::new();
    collect_paths(&doc, String::new(), &mut paths);
    let path = paths[dice.below(paths.len())].clone();
    let what = match dice.below(4) {
        0 if !path.is_empty() => {
            remove_at(&mut doc, &path);
            format!("removed {path}")
        }
        1 => {
            let target = doc.pointer_mut(&path)?;
            match target {
                Value::Array(items) if !items.is_empty() => {
                    let i = dice.below(items.len());
                    let copy = items[i].clone();
                    items.insert(i, copy);
                    format!("repeated {path}/{i}")
                }
                _ => replace_at(&mut doc, &path, dice),
            }
        }
        _ => replace_at(&mut doc, &path, dice),
    };
    reply.body = serde_json::to_vec(&doc).ok()?;
    Some(what)
}

fn replace_at(doc: &mut Value, path: &str, dice: &mut Dice) -> String {
    let evil = evil_value(dice);
    let shown = shorten(&evil.to_string());
    if let Some(target) = doc.pointer_mut(path) {
        *target = evil;
    }
    format!("{} = {shown}", if path.is_empty() { "/" } else { path })
}

/// Values that a lenient reader, an off-by-one or a type confusion would trip over.
fn evil_value(dice: &mut Dice) -> Value {
    const SCALARS: usize = 29;
    match dice.below(SCALARS + 2) {
        SCALARS => json!("x".repeat(5000)),
        // Deeper than serde_json's default recursion limit (128).
        n if n > SCALARS => (0..200).fold(json!([]), |inner, _| json!([inner])),
        n => [
            Value::Null,
            json!(true),
            json!(false),
            json!(0),
            json!(-1),
            json!(i64::MIN),
            json!(u64::MAX),
            json!(1e308),
            json!(-0.5),
            json!(9_007_199_254_740_993_u64),
            json!(""),
            json!(" "),
            json!("ssh-rsa"),
            json!("ssh-ed25519 AAAA"),
            json!("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA== truncated"),
            json!("ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAAQ=="),
            json!("-----BEGIN CERTIFICATE-----\nMII=\n-----END CERTIFICATE-----"),
            json!("\u{0}\u{1b}[31mred\u{7}"),
            json!("日本語🔑\u{202e}txet"),
            json!("9999-99-99T99:99:99Z"),
            json!("1970-01-01T00:00:00"),
            json!("-1"),
            json!("1e999"),
            json!("a\tb\nc,d"),
            json!([]),
            json!({}),
            json!([null]),
            json!({"": null}),
            json!([1, "two", {"three": 3}]),
        ]
        .into_iter()
        .nth(n)
        .unwrap_or(Value::Null),
    }
}

/// Every value's JSON pointer, the root (`""`) first.
fn collect_paths(v: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let key = k.replace('~', "~0").replace('/', "~1");
                collect_paths(child, format!("{at}/{key}"), out);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                collect_paths(child, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn remove_at(doc: &mut Value, path: &str) {
    let (parent, last) = path.rsplit_once('/').unwrap_or(("", path));
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>() {
                if i < items.len() {
                    items.remove(i);
                }
            }
        }
        _ => {}
    }
}

fn damage_bytes(reply: &mut Damaged, dice: &mut Dice) -> String {
    let len = reply.body.len();
    match dice.below(5) {
        0 => {
            let at = dice.below(len + 1);
            reply.body.truncate(at);
            format!("body cut to {at} of {len} bytes")
        }
        1 if len > 0 => {
            let at = dice.below(len);
            let was = reply.body[at];
            reply.body[at] = (dice.below(256)) as u8;
            format!(
                "byte {at} of {len} changed from {was:#04x} to {:#04x}",
                reply.body[at]
            )
        }
        2 => {
            let at = dice.below(len + 1);
            reply.body.splice(at..at, [0xff, 0xfe, 0x00, b'"']);
            format!("invalid UTF-8, a NUL and a quote inserted at byte {at} of {len}")
        }
        3 => {
            reply.body.clear();
            format!("body emptied (was {len} bytes)")
        }
        _ => {
            let copy = reply.body.clone();
            reply.body.extend_from_slice(&copy);
            format!("body sent twice ({len} bytes each)")
        }
    }
}

fn damage_status(reply: &mut Damaged, dice: &mut Dice) -> String {
    // 407: what a proxy on the way answers when it wants credentials.
    const STATUSES: [u16; 15] = [
        200, 204, 301, 400, 401, 403, 404, 407, 409, 413, 429, 500, 502, 503, 504,
    ];
    let was = reply.status;
    let others: Vec<u16> = STATUSES
        .into_iter()
        .filter(|&s| s != was.as_u16())
        .collect();
    let status = others[dice.below(others.len())];
    reply.status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    if reply.status == StatusCode::NO_CONTENT {
        // A 204 with a body is not HTTP; the server would refuse to send it.
        reply.body.clear();
    }
    format!("status {} -> {status}", was.as_u16())
}

fn damage_headers(reply: &mut Damaged, dice: &mut Dice) -> String {
    let subject_token = HeaderName::from_static("x-subject-token");
    match dice.below(5) {
        0 => {
            reply.headers.remove(axum::http::header::CONTENT_TYPE);
            "Content-Type removed".into()
        }
        1 => {
            reply.headers.insert(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=iso-8859-1"),
            );
            "Content-Type text/html".into()
        }
        2 if reply.headers.contains_key(&subject_token) => {
            reply.headers.remove(&subject_token);
            "X-Subject-Token removed".into()
        }
        3 => {
            const VALUES: [&str; 5] = [
                "999999999",
                "-5",
                "abc",
                "Wed, 21 Oct 2015 07:28:00 GMT",
                "18446744073709551616",
            ];
            let value = VALUES[dice.below(VALUES.len())];
            reply
                .headers
                .insert("retry-after", HeaderValue::from_static(value));
            format!("Retry-After: {value}")
        }
        _ => {
            // More than the body holds: the connection closes before the promised end.
            let claimed = reply.body.len() + 1 + dice.below(4096);
            reply.headers.insert(
                axum::http::header::CONTENT_LENGTH,
                HeaderValue::from(claimed),
            );
            format!(
                "Content-Length {claimed} for a {}-byte body",
                reply.body.len()
            )
        }
    }
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        Some((at, _)) => format!("{}… ({} bytes)", &s[..at], s.len()),
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(body: &str) -> Damaged {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert("x-subject-token", HeaderValue::from_static("t"));
        headers.insert("content-type", HeaderValue::from_static("application/json"));
        Damaged {
            status: StatusCode::OK,
            headers,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn every_kind_of_damage_changes_the_reply_and_says_how() {
        let original = r#"{"keypairs":[{"keypair":{"name":"a","public_key":"ssh-ed25519 AAAA"}}]}"#;
        let mut kinds = std::collections::BTreeSet::new();
        for seed in 0..2000 {
            let mut r = reply(original);
            let said = damage(&mut r, &mut Dice::new(seed));
            let unchanged = r.status == StatusCode::OK
                && r.body == original.as_bytes()
                && r.headers.len() == 2
                && r.headers.contains_key("x-subject-token")
                && r.headers["content-type"] == "application/json";
            // Cutting at the very end, writing a byte's own value or replacing a value with an
            // equal one can leave the reply as it was.
            assert!(
                !unchanged
                    || said.contains("cut to")
                    || said.contains("changed from")
                    || said.contains(" = "),
                "{said}"
            );
            kinds.insert(said.split([' ', '/', ':']).next().unwrap_or("").to_string());
        }
        for kind in [
            "removed",
            "repeated",
            "",
            "body",
            "byte",
            "invalid",
            "status",
            "Content-Type",
            "X-Subject-Token",
            "Retry-After",
            "Content-Length",
        ] {
            assert!(kinds.contains(kind), "never did {kind:?}: {kinds:?}");
        }
    }

    #[test]
    fn the_same_seed_does_the_same_damage() {
        let body = r#"{"a":[1,2,{"b":"c"}]}"#;
        let (mut x, mut y) = (reply(body), reply(body));
        for seed in 0..200 {
            assert_eq!(
                damage(&mut x, &mut Dice::new(seed)),
                damage(&mut y, &mut Dice::new(seed))
            );
            assert_eq!(x.body, y.body);
        }
    }
}
