//! Structured inputs: JSON written by hand (so that a key may repeat and a number may be one
//! no `f64` holds), its text damaged after the fact, replies with odd statuses and headers, and
//! OpenSSH key lines built from real blob layouts and then mutated.

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use keyctl::http::HttpResponse;
use proptest::prelude::*;
use proptest::sample::Index;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

// ----------------------------------------------------------------------------------- JSON ----

/// A JSON document as text will hold it: numbers as their spelling, objects as ordered pairs
/// (a key may repeat, as a damaged reply may have it).
#[derive(Debug, Clone)]
pub enum J {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut String) {
        match self {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) => out.push_str(n),
            J::Str(s) => out.push_str(&serde_json::to_string(s).unwrap()),
            J::Arr(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write(out);
                }
                out.push(']');
            }
            J::Obj(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap());
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

pub fn s(text: &str) -> J {
    J::Str(text.to_string())
}

pub fn obj(fields: Vec<(&str, J)>) -> J {
    J::Obj(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Text as servers send it, and as they should not: short words, any Unicode, control and
/// bidirectional characters, and now and then a long run.
pub fn text() -> BoxedStrategy<String> {
    let odd_char = prop_oneof![
        Just('\0'),
        Just('\u{1b}'),
        Just('\u{7f}'),
        Just('\u{9b}'),
        Just('\u{202e}'),
        Just('\u{2066}'),
        Just('\u{feff}'),
        Just('\n'),
        Just('\r'),
        Just('\t'),
        Just('"'),
        Just('\\'),
        any::<char>(),
    ];
    prop_oneof![
        4 => "[a-zA-Z0-9_.-]{0,16}",
        2 => ".{0,24}",
        2 => proptest::collection::vec(odd_char, 0..16).prop_map(String::from_iter),
        1 => (any::<char>(), 1_000usize..30_000).prop_map(|(c, n)| c.to_string().repeat(n)),
    ]
    .boxed()
}

/// Numbers, some beyond what an `i64`, a `u64` or an `f64` holds.
pub fn number() -> BoxedStrategy<String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<u64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| format!("{f:e}")),
        prop::sample::select(vec![
            "0",
            "-0",
            "1e400",
            "-1e400",
            "1e-400",
            "123456789012345678901234567890",
            "-123456789012345678901234567890",
            "1.7976931348623157e308",
            "9223372036854775808",
            "18446744073709551616",
            "0.5",
        ])
        .prop_map(str::to_string),
    ]
    .boxed()
}

pub fn scalar() -> BoxedStrategy<J> {
    prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        number().prop_map(J::Num),
        text().prop_map(J::Str),
    ]
    .boxed()
}

/// Any JSON value, a few levels deep.
pub fn any_json() -> BoxedStrategy<J> {
    scalar()
        .prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
                proptest::collection::vec((text(), inner), 0..6).prop_map(J::Obj),
            ]
        })
        .boxed()
}

/// One field of a shaped object: the value it should have, one of another type, or absent.
fn field(value: BoxedStrategy<J>) -> BoxedStrategy<Option<J>> {
    prop_oneof![
        5 => value.prop_map(Some),
        2 => any_json().prop_map(Some),
        2 => Just(None),
    ]
    .boxed()
}

/// An object with these fields, each as [`field`] makes it, plus unknown fields, perhaps one
/// field twice, in any order.
pub fn object(fields: Vec<(&'static str, BoxedStrategy<J>)>) -> BoxedStrategy<J> {
    let known: Vec<BoxedStrategy<Option<(String, J)>>> = fields
        .into_iter()
        .map(|(k, v)| {
            field(v)
                .prop_map(move |v| v.map(|v| (k.to_string(), v)))
                .boxed()
        })
        .collect();
    let extra = proptest::collection::vec((text(), any_json()), 0..3);
    (known, extra, any::<Option<Index>>(), any_json())
        .prop_flat_map(|(known, extra, twice, again)| {
            let mut pairs: Vec<(String, J)> = known.into_iter().flatten().collect();
            pairs.extend(extra);
            if let Some(i) = twice.filter(|_| !pairs.is_empty()) {
                let key = pairs[i.index(pairs.len())].0.clone();
                pairs.push((key, again));
            }
            Just(pairs).prop_shuffle()
        })
        .prop_map(J::Obj)
        .boxed()
}

/// A JSON array of `item`s (now and then not an array at all).
pub fn array(item: BoxedStrategy<J>, max: usize) -> BoxedStrategy<J> {
    prop_oneof![
        6 => proptest::collection::vec(item, 0..max).prop_map(J::Arr),
        1 => any_json(),
    ]
    .boxed()
}

// ----------------------------------------------------------------------------------- bodies ----

/// How a body's text is damaged after it was written.
#[derive(Debug, Clone)]
enum Damage {
    CutAt(Index),
    Insert(Index, u8),
    Replace(Index, u8),
    /// Bytes that are not UTF-8, inside the text.
    NotUtf8(Index),
    Twice,
}

fn damage() -> impl Strategy<Value = Damage> {
    prop_oneof![
        any::<Index>().prop_map(Damage::CutAt),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Damage::Insert(i, b)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Damage::Replace(i, b)),
        any::<Index>().prop_map(Damage::NotUtf8),
        Just(Damage::Twice),
    ]
}

fn apply(mut body: Vec<u8>, d: Damage) -> Vec<u8> {
    let at = |i: &Index, len: usize| i.index(len + 1);
    match d {
        Damage::CutAt(i) => body.truncate(at(&i, body.len())),
        Damage::Insert(i, b) => {
            let i = at(&i, body.len());
            body.insert(i, b);
        }
        Damage::Replace(i, b) if !body.is_empty() => {
            let i = i.index(body.len());
            body[i] = b;
        }
        Damage::Replace(..) => {}
        Damage::NotUtf8(i) => {
            let i = at(&i, body.len());
            body.splice(i..i, [0xff, 0xc3, 0x28]);
        }
        Damage::Twice => body.extend(body.clone()),
    }
    body
}

/// `depth` arrays or objects opened (and closed) inside `around`'s first `%`: a reply nested
/// far deeper than any parser's recursion limit.
fn nested(around: &'static str) -> BoxedStrategy<Vec<u8>> {
    (1usize..50_000, any::<bool>())
        .prop_map(move |(depth, arrays)| {
            let (open, close) = if arrays { ("[", "]") } else { ("{\"a\":", "}") };
            let inner = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            around.replacen('%', &inner, 1).into_bytes()
        })
        .boxed()
}

/// Bodies for a reply shaped as `shape`: mostly written as is, some damaged, some nested past
/// every limit at `deep` (a template whose `%` is where), some any bytes at all.
pub fn body(shape: BoxedStrategy<J>, deep: &'static str) -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        10 => shape.clone().prop_map(|j| j.render().into_bytes()),
        4 => (shape, damage()).prop_map(|(j, d)| apply(j.render().into_bytes(), d)),
        1 => nested(deep),
        1 => nested("%"),
        1 => proptest::collection::vec(any::<u8>(), 0..256),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------- replies ----

pub fn status() -> BoxedStrategy<u16> {
    prop_oneof![
        6 => Just(200u16),
        4 => prop::sample::select(vec![201u16, 204, 400, 401, 403, 404, 406, 409, 413, 429, 500, 502, 503]),
        1 => 100u16..600,
    ]
    .boxed()
}

/// A `Date` header: the server's clock now, far off either way, or not a date.
fn date() -> BoxedStrategy<String> {
    prop_oneof![
        // RFC 2822 writes years 0 to 9999 only (chrono panics past them).
        (-1_700_000_000i64..250_000_000_000).prop_map(|off| {
            let now = chrono::Utc::now().timestamp();
            chrono::DateTime::from_timestamp(now.saturating_add(off), 0)
                .map(|t| t.to_rfc2822())
                .unwrap_or_default()
        }),
        Just("Thu, 01 Jan 1970 00:00:00 GMT".to_string()),
        Just("Fri, 31 Dec 9999 23:59:59 GMT".to_string()),
        text(),
    ]
    .boxed()
}

fn header_value() -> BoxedStrategy<String> {
    prop_oneof![
        text(),
        number(),
        prop::sample::select(vec!["NaN", "inf", "-1", "1e308", "0", "Infinity"])
            .prop_map(str::to_string),
        date(),
    ]
    .boxed()
}

/// Headers the readers look at, with values fit and unfit (those a `HeaderValue` cannot hold
/// are left out, as no reply can carry them).
fn headers() -> BoxedStrategy<HeaderMap> {
    let names = prop::sample::select(vec![
        "date",
        "retry-after",
        "x-request-id",
        "x-openstack-request-id",
        "x-compute-request-id",
        "x-subject-token",
        "content-type",
    ]);
    (
        proptest::option::of(date()),
        proptest::collection::vec((names, header_value()), 0..4),
    )
        .prop_map(|(date, pairs)| {
            let mut map = HeaderMap::new();
            let pairs = date.map(|d| ("date", d)).into_iter().chain(pairs);
            for (name, value) in pairs {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    map.append(HeaderName::from_static(name), v);
                }
            }
            map
        })
        .boxed()
}

/// A reply: a status, headers, and a body from `body`.
pub fn reply(body: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<HttpResponse> {
    (status(), headers(), body)
        .prop_map(|(status, headers, body)| HttpResponse {
            status,
            headers,
            body,
        })
        .boxed()
}

/// [`reply`] with status 200 (what the readers of an accepted reply get).
pub fn accepted(body: BoxedStrategy<Vec<u8>>) -> BoxedStrategy<HttpResponse> {
    (headers(), body)
        .prop_map(|(headers, body)| HttpResponse {
            status: 200,
            headers,
            body,
        })
        .boxed()
}

// -------------------------------------------------------------------------------- key lines ----

fn put_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
    out.extend_from_slice(bytes);
}

/// A positive mpint: no needless leading zero, a zero byte before a set high bit.
fn put_mpint(out: &mut Vec<u8>, magnitude: &[u8]) {
    let trimmed: Vec<u8> = magnitude.iter().copied().skip_while(|&b| b == 0).collect();
    let mut bytes = Vec::new();
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        bytes.push(0);
    }
    bytes.extend_from_slice(&trimmed);
    put_string(out, &bytes);
}

/// Random bytes of `len`, the first one non-zero (a modulus of exactly that size).
fn magnitude(len: std::ops::Range<usize>) -> BoxedStrategy<Vec<u8>> {
    proptest::collection::vec(any::<u8>(), len)
        .prop_map(|mut v| {
            v[0] |= 1;
            v
        })
        .boxed()
}

fn bits_of(magnitude: &[u8]) -> u32 {
    magnitude.len() as u32 * 8 - magnitude[0].leading_zeros()
}

/// A well-formed key: its algorithm, the key fields after the name, and its size.
#[derive(Debug, Clone)]
pub struct Key {
    pub algorithm: String,
    pub fields: Vec<u8>,
    pub bits: Option<u32>,
}

impl Key {
    pub fn blob(&self) -> Vec<u8> {
        let mut out = Vec::new();
        put_string(&mut out, self.algorithm.as_bytes());
        out.extend_from_slice(&self.fields);
        out
    }
}

fn fixed(algorithm: &'static str, len: usize, bits: u32, sk: bool) -> BoxedStrategy<Key> {
    proptest::collection::vec(any::<u8>(), len)
        .prop_map(move |k| {
            let mut fields = Vec::new();
            put_string(&mut fields, &k);
            if sk {
                put_string(&mut fields, b"ssh:");
            }
            Key {
                algorithm: algorithm.to_string(),
                fields,
                bits: Some(bits),
            }
        })
        .boxed()
}

fn ecdsa(curve: &'static str, coord: usize, bits: u32, sk: bool) -> BoxedStrategy<Key> {
    proptest::collection::vec(any::<u8>(), 2 * coord)
        .prop_map(move |xy| {
            let mut fields = Vec::new();
            put_string(&mut fields, curve.as_bytes());
            let mut point = vec![4u8];
            point.extend_from_slice(&xy);
            put_string(&mut fields, &point);
            if sk {
                put_string(&mut fields, b"ssh:");
            }
            let algorithm = if sk {
                "sk-ecdsa-sha2-nistp256@openssh.com".to_string()
            } else {
                format!("ecdsa-sha2-{curve}")
            };
            Key {
                algorithm,
                fields,
                bits: Some(bits),
            }
        })
        .boxed()
}

fn plain_key() -> BoxedStrategy<Key> {
    prop_oneof![
        fixed("ssh-ed25519", 32, 256, false),
        fixed("sk-ssh-ed25519@openssh.com", 32, 256, true),
        fixed("ssh-ed448", 57, 456, false),
        ecdsa("nistp256", 32, 256, false),
        ecdsa("nistp384", 48, 384, false),
        ecdsa("nistp521", 66, 521, false),
        ecdsa("nistp256", 32, 256, true),
        (magnitude(1..4), magnitude(64..520)).prop_map(|(e, n)| {
            let mut fields = Vec::new();
            put_mpint(&mut fields, &e);
            put_mpint(&mut fields, &n);
            Key {
                algorithm: "ssh-rsa".into(),
                bits: Some(bits_of(&n)),
                fields,
            }
        }),
        proptest::collection::vec(magnitude(1..130), 4).prop_map(|pqgy| {
            let mut fields = Vec::new();
            for m in &pqgy {
                put_mpint(&mut fields, m);
            }
            Key {
                algorithm: "ssh-dss".into(),
                bits: Some(bits_of(&pqgy[0])),
                fields,
            }
        }),
        // A type keyctl does not know: reported with its name, fingerprinted whole.
        (
            "[a-z0-9@.-]{1,40}",
            proptest::collection::vec(any::<u8>(), 0..64)
        )
            .prop_map(|(name, rest)| Key {
                algorithm: format!("x-{name}"),
                fields: rest,
                bits: None,
            }),
    ]
    .boxed()
}

/// An OpenSSH certificate over a plain key (PROTOCOL.certkeys).
fn certificate() -> BoxedStrategy<Key> {
    (
        plain_key().prop_filter("a known type", |k| k.bits.is_some()),
        proptest::collection::vec(any::<u8>(), 0..32),
        any::<u64>(),
    )
        .prop_map(|(key, nonce, serial)| {
            let stem = key.algorithm.trim_end_matches("@openssh.com");
            let algorithm = format!("{stem}-cert-v01@openssh.com");
            let mut fields = Vec::new();
            put_string(&mut fields, &nonce);
            fields.extend_from_slice(&key.fields);
            fields.extend_from_slice(&serial.to_be_bytes());
            fields.extend_from_slice(&1u32.to_be_bytes());
            put_string(&mut fields, b"key id");
            put_string(&mut fields, b"");
            fields.extend_from_slice(&0u64.to_be_bytes());
            fields.extend_from_slice(&u64::MAX.to_be_bytes());
            for part in [&b""[..], b"", b"", b"signature key", b"signature"] {
                put_string(&mut fields, part);
            }
            Key {
                algorithm,
                fields,
                bits: key.bits,
            }
        })
        .boxed()
}

pub fn key() -> BoxedStrategy<Key> {
    prop_oneof![4 => plain_key(), 1 => certificate()].boxed()
}

/// What is done to a well-formed key line.
#[derive(Debug, Clone)]
pub enum KeyMutation {
    None,
    /// The blob cut short.
    Truncate(Index),
    /// A length prefix (at a byte offset, rounded down to where one could be) set to this.
    Length(Index, u32),
    Trailing(Vec<u8>),
    FlipByte(Index, u8),
    /// Another algorithm name on the line than in the blob.
    LineAlgorithm(String),
    /// A character of the base64 text changed.
    Base64Char(Index, char),
    Unpadded,
    /// A line break inside, or a second line.
    Newline(Index),
}

pub fn key_mutation() -> BoxedStrategy<KeyMutation> {
    prop_oneof![
        4 => Just(KeyMutation::None),
        2 => any::<Index>().prop_map(KeyMutation::Truncate),
        2 => (any::<Index>(), prop_oneof![Just(u32::MAX), Just(0x7fff_ffff), Just(0x8000_0000), any::<u32>(), 0u32..600])
            .prop_map(|(i, n)| KeyMutation::Length(i, n)),
        1 => proptest::collection::vec(any::<u8>(), 1..16).prop_map(KeyMutation::Trailing),
        1 => (any::<Index>(), any::<u8>()).prop_map(|(i, b)| KeyMutation::FlipByte(i, b)),
        1 => prop_oneof![
            Just("ssh-rsa".to_string()),
            Just("ssh-ed25519".to_string()),
            Just("ecdsa-sha2-nistp256".to_string()),
            text(),
        ]
        .prop_map(KeyMutation::LineAlgorithm),
        1 => (any::<Index>(), prop_oneof![Just('='), Just('-'), Just('_'), Just(' '), Just('*'), any::<char>()])
            .prop_map(|(i, c)| KeyMutation::Base64Char(i, c)),
        1 => Just(KeyMutation::Unpadded),
        1 => any::<Index>().prop_map(KeyMutation::Newline),
    ]
    .boxed()
}

/// A key line: `algorithm base64 [comment]`, mutated; and whether it was left well-formed.
pub fn key_line() -> BoxedStrategy<(String, Key, KeyMutation)> {
    let comment = prop_oneof![Just(String::new()), "[a-z]{1,8}@[a-z]{1,8}", text()];
    let space = prop::sample::select(vec![" ", "\t", "  "]);
    (key(), key_mutation(), comment, space, any::<bool>())
        .prop_map(|(key, m, comment, space, padded_by_space)| {
            let mut blob = key.blob();
            let mut algorithm = key.algorithm.clone();
            match &m {
                KeyMutation::Truncate(i) => blob.truncate(i.index(blob.len())),
                KeyMutation::Length(i, n) => {
                    let at = (i.index(blob.len()) / 4 * 4).min(blob.len().saturating_sub(4));
                    if blob.len() >= 4 {
                        blob[at..at + 4].copy_from_slice(&n.to_be_bytes());
                    }
                }
                KeyMutation::Trailing(t) => blob.extend_from_slice(t),
                KeyMutation::FlipByte(i, b) => {
                    let at = i.index(blob.len());
                    blob[at] ^= b | 1;
                }
                KeyMutation::LineAlgorithm(a) => algorithm = a.clone(),
                _ => {}
            }
            let mut b64 = match m {
                KeyMutation::Unpadded => STANDARD_NO_PAD.encode(&blob),
                _ => STANDARD.encode(&blob),
            };
            if let KeyMutation::Base64Char(i, c) = &m {
                let at = i.index(b64.len());
                b64.replace_range(at..at + 1, &c.to_string());
            }
            let mut line = format!("{algorithm}{space}{b64}");
            if !comment.is_empty() {
                line.push(' ');
                line.push_str(&comment);
            }
            if let KeyMutation::Newline(i) = &m {
                let at = i.index(line.len());
                if line.is_char_boundary(at) {
                    line.insert(at, '\n');
                }
            }
            if padded_by_space {
                line = format!("  {line}\n");
            }
            (line, key, m)
        })
        .boxed()
}

/// A public key field as a cloud sends it: a key line (usually well-formed), or anything.
pub fn public_key() -> BoxedStrategy<J> {
    prop_oneof![
        4 => key_line().prop_map(|(line, _, _)| J::Str(line)),
        1 => text().prop_map(J::Str),
    ]
    .boxed()
}
