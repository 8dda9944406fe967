//! What `keyctl find` and `list --name/--fingerprint` match key pairs against: a public key, a
//! fingerprint in any of the forms clouds and ssh-keygen print, or a name glob.
//!
//! Fingerprints are compared as decoded digest bytes, never as strings, so `SHA256:…NK+Q`,
//! `…NK+Q=` and `sha256:…NK+Q` are one fingerprint, and `MD5:16:6A:…`, `16:6a:…` and `166a…` are
//! another (eksctl#5145, isaacs/github#789 in PEERS.md).

use std::fmt;

use crate::keys::{self, KeyParseError, PublicKeyInfo};
use crate::model::{KeyPair, KeyType};

/// A fingerprint reduced to its digest: which hash, and the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NormalizedFp {
    /// OpenSSH's default (`SHA256:` + base64).
    Sha256([u8; 32]),
    /// `ssh-keygen -E md5`, Nova, Huawei ECS (colon hex).
    Md5([u8; 16]),
    /// Nova's x509 fingerprint (SHA-1 of the certificate DER, colon hex).
    Sha1([u8; 20]),
}

impl NormalizedFp {
    /// The canonical spelling: `SHA256:<unpadded base64>`, `MD5:aa:bb:…`, `SHA1:aa:bb:…`.
    pub fn canonical(&self) -> String {
        match self {
            NormalizedFp::Sha256(d) => keys::sha256_spelling(d),
            NormalizedFp::Md5(d) => keys::colon_hex_after("MD5:", d),
            NormalizedFp::Sha1(d) => keys::colon_hex_after("SHA1:", d),
        }
    }
}

impl fmt::Display for NormalizedFp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// Lets config files hold fingerprints (the audit deny-list) and reject bad ones at load time.
impl<'de> serde::Deserialize<'de> for NormalizedFp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        normalize_fingerprint(&s).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "`{s}` is not a fingerprint (expected SHA256:<base64> or MD5:aa:bb:…)"
            ))
        })
    }
}

/// Reads a fingerprint in any common spelling; `None` if it is not one.
///
/// Accepted: `SHA256:` + base64 (padded or not) or 64 hex digits; `MD5:` + 32 hex digits with or
/// without colons; `SHA1:` + hex or base64; the prefix in any case. Without a prefix: colon or
/// plain hex of 16 (MD5), 20 (SHA-1) or 32 bytes (SHA-256), or 43/44 base64 characters that
/// decode to 32 bytes (SHA-256).
pub fn normalize_fingerprint(s: &str) -> Option<NormalizedFp> {
    let s = s.trim();
    if let Some((prefix, body)) = s.split_once(':') {
        let digest = match prefix.to_ascii_uppercase().as_str() {
            "SHA256" => Some(Digest::Sha256),
            "MD5" => Some(Digest::Md5),
            "SHA1" => Some(Digest::Sha1),
            _ => None,
        };
        if let Some(digest) = digest {
            return decode_prefixed(digest, body);
        }
    }
    if let Some(bytes) = decode_hex(s) {
        return from_bytes(&bytes);
    }
    if (43..=44).contains(&s.len()) {
        return keys::decode_base64_lenient(s)
            .and_then(|b| Some(NormalizedFp::Sha256(b.try_into().ok()?)));
    }
    None
}

#[derive(Clone, Copy)]
enum Digest {
    Sha256,
    Md5,
    Sha1,
}

fn decode_prefixed(digest: Digest, body: &str) -> Option<NormalizedFp> {
    let candidates = [decode_hex(body), keys::decode_base64_lenient(body)];
    candidates
        .into_iter()
        .flatten()
        .find_map(|bytes| match digest {
            Digest::Sha256 => Some(NormalizedFp::Sha256(bytes.try_into().ok()?)),
            Digest::Md5 => Some(NormalizedFp::Md5(bytes.try_into().ok()?)),
            Digest::Sha1 => Some(NormalizedFp::Sha1(bytes.try_into().ok()?)),
        })
}

fn from_bytes(bytes: &[u8]) -> Option<NormalizedFp> {
    match bytes.len() {
        16 => Some(NormalizedFp::Md5(bytes.try_into().ok()?)),
        20 => Some(NormalizedFp::Sha1(bytes.try_into().ok()?)),
        32 => Some(NormalizedFp::Sha256(bytes.try_into().ok()?)),
        _ => None,
    }
}

/// Hex in either case, as `aa:bb:…` (every group two digits) or one unbroken run.
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if s.contains(':') {
        let groups: Vec<&str> = s.split(':').collect();
        if groups.iter().any(|g| g.len() != 2) {
            return None;
        }
        hex::decode(groups.concat()).ok()
    } else {
        hex::decode(s).ok()
    }
}

/// Every fingerprint a key pair can be recognized by: the ones keyctl computed, the cloud's own,
/// and (when the adapter did not compute them) the ones derived from its public key now.
pub fn key_pair_fingerprints(kp: &KeyPair) -> Vec<NormalizedFp> {
    let mut out: Vec<NormalizedFp> = [
        &kp.fingerprint_sha256,
        &kp.fingerprint_md5,
        &kp.provider_fingerprint,
    ]
    .into_iter()
    .flatten()
    .filter_map(|f| normalize_fingerprint(f))
    .collect();
    if let Some(pk) = &kp.public_key {
        if kp.key_type == Some(KeyType::X509) {
            out.extend(keys::x509_sha1_fingerprint(pk).and_then(|f| normalize_fingerprint(&f)));
        } else if kp.fingerprint_sha256.is_none() {
            if let Ok(info) = PublicKeyInfo::parse(pk) {
                out.extend(info_fingerprints(&info));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// See [`PublicKeyInfo::all_fingerprints`].
fn info_fingerprints(info: &PublicKeyInfo) -> Vec<NormalizedFp> {
    info.all_fingerprints()
        .iter()
        .filter_map(|f| normalize_fingerprint(f))
        .collect()
}

/// Why `keyctl find`'s argument (or the file it names) gives nothing to look for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NeedleError {
    #[error("`{arg}` is not a valid {prefix} fingerprint")]
    BadFingerprint { arg: String, prefix: String },
    #[error("not a usable public key: {0}")]
    BadKey(#[source] KeyParseError),
    #[error(transparent)]
    Glob(#[from] GlobError),
    /// `file` is the argument, or `stdin` for `-`.
    #[error("{file}: the PEM certificate does not decode")]
    BadCertificate { file: String },
    #[error("{file} is a private key; give the public key (the .pub file)")]
    PrivateKey { file: String },
    #[error("{file} holds no public key")]
    NoPublicKey { file: String },
    #[error("{file}: {source}")]
    BadKeyInFile {
        file: String,
        #[source]
        source: KeyParseError,
    },
}

/// Why a name pattern is not a usable glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GlobError {
    #[error("an empty name matches nothing")]
    Empty,
    #[error("`{pattern}`: `[` has no closing `]`")]
    UnclosedClass { pattern: String },
}

/// What to look for.
#[derive(Debug, Clone)]
pub enum Needle {
    /// A fingerprint: matches a key pair's computed or provider fingerprint of the same hash.
    Fingerprint(NormalizedFp),
    /// Key material: matches key pairs holding the same key, whatever their comment.
    Key(PublicKeyInfo),
    /// Key pair names.
    NameGlob(Glob),
}

impl Needle {
    /// A name glob needle (`list --name`).
    pub fn name_glob(pattern: &str) -> Result<Needle, GlobError> {
        Glob::new(pattern).map(Needle::NameGlob)
    }

    /// A fingerprint needle (`list --fingerprint`); `None` if `s` is not a fingerprint.
    pub fn fingerprint(s: &str) -> Option<Needle> {
        normalize_fingerprint(s).map(Needle::Fingerprint)
    }
}

/// Turns `keyctl find`'s argument into a needle. `file_contents` is the file (or stdin) the
/// argument named, if it named one: it must hold an OpenSSH public key (the first non-comment
/// line is used) or a PEM certificate. Otherwise the argument is a fingerprint if it reads as
/// one, a public key line if it is one, else a name glob.
pub fn parse_needle(arg: &str, file_contents: Option<&str>) -> Result<Needle, NeedleError> {
    if let Some(contents) = file_contents {
        return needle_from_file(arg, contents);
    }
    let arg = arg.trim();
    if let Some(fp) = normalize_fingerprint(arg) {
        return Ok(Needle::Fingerprint(fp));
    }
    if let Some((prefix, _)) = arg.split_once(':') {
        if ["sha256", "md5", "sha1"].contains(&prefix.to_ascii_lowercase().as_str()) {
            return Err(NeedleError::BadFingerprint {
                arg: arg.to_string(),
                prefix: prefix.to_string(),
            });
        }
    }
    if arg.contains(char::is_whitespace) && looks_like_key_type(arg) {
        return PublicKeyInfo::parse(arg)
            .map(Needle::Key)
            .map_err(NeedleError::BadKey);
    }
    Ok(Needle::name_glob(arg)?)
}

fn needle_from_file(arg: &str, contents: &str) -> Result<Needle, NeedleError> {
    let file = if arg == "-" { "stdin" } else { arg }.to_string();
    if contents.contains("-----BEGIN CERTIFICATE-----") {
        return keys::x509_sha1_fingerprint(contents)
            .and_then(|f| normalize_fingerprint(&f))
            .map(Needle::Fingerprint)
            .ok_or(NeedleError::BadCertificate { file });
    }
    if contents.contains("PRIVATE KEY-----") {
        return Err(NeedleError::PrivateKey { file });
    }
    let Some(line) = contents
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
    else {
        return Err(NeedleError::NoPublicKey { file });
    };
    PublicKeyInfo::parse(line)
        .map(Needle::Key)
        .map_err(|source| NeedleError::BadKeyInFile { file, source })
}

/// Whether the first word is shaped like an OpenSSH key type (so a name with spaces stays a name).
fn looks_like_key_type(s: &str) -> bool {
    let first = s.split_whitespace().next().unwrap_or("");
    ["ssh-", "ecdsa-", "sk-"]
        .iter()
        .any(|p| first.starts_with(p))
}

/// Whether `kp` is what `needle` looks for.
pub fn matches(needle: &Needle, kp: &KeyPair) -> bool {
    match needle {
        Needle::NameGlob(glob) => glob.is_match(&kp.name),
        Needle::Fingerprint(fp) => key_pair_fingerprints(kp).contains(fp),
        Needle::Key(info) => matches_key(info, kp),
    }
}

/// Same key material: by SHA-256 when the key pair has its key; if only the cloud's fingerprint
/// is known, by that (MD5 for Nova-style clouds).
fn matches_key(info: &PublicKeyInfo, kp: &KeyPair) -> bool {
    let theirs = key_pair_fingerprints(kp);
    let ours = info_fingerprints(info);
    let has_sha256 = |v: &[NormalizedFp]| v.iter().any(|f| matches!(f, NormalizedFp::Sha256(_)));
    if has_sha256(&theirs) {
        ours.iter()
            .any(|f| matches!(f, NormalizedFp::Sha256(_)) && theirs.contains(f))
    } else {
        ours.iter().any(|f| theirs.contains(f))
    }
}

/// A shell-style name pattern: `*` (any run), `?` (one character), `[abc]`, `[a-z]`, `[!a-z]`
/// (or `[^a-z]`), and `\` to take the next character literally. Matching is case-sensitive, as
/// clouds treat names. A pattern without wildcards matches exactly that name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    pattern: String,
    tokens: Vec<Token>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Literal(char),
    AnyOne,
    AnyRun,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

impl Glob {
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        let mut tokens = Vec::new();
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            tokens.push(match c {
                '*' => Token::AnyRun,
                '?' => Token::AnyOne,
                '\\' => Token::Literal(chars.next().unwrap_or('\\')),
                '[' => parse_class(&mut chars).ok_or_else(|| GlobError::UnclosedClass {
                    pattern: pattern.to_string(),
                })?,
                c => Token::Literal(c),
            });
        }
        Ok(Glob {
            pattern: pattern.to_string(),
            tokens,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.pattern
    }

    /// Whether the pattern has wildcards (otherwise it names one key pair exactly).
    pub fn is_literal(&self) -> bool {
        self.tokens.iter().all(|t| matches!(t, Token::Literal(_)))
    }

    /// The one name a wildcard-free pattern matches, escapes removed (`a\*b` → `a*b`); `None`
    /// when the pattern has a wildcard or a class.
    pub fn literal(&self) -> Option<String> {
        self.tokens
            .iter()
            .map(|t| match t {
                Token::Literal(c) => Some(*c),
                _ => None,
            })
            .collect()
    }

    /// Iterative wildcard matching: on a mismatch, let the last `*` swallow one more character.
    pub fn is_match(&self, name: &str) -> bool {
        let text: Vec<char> = name.chars().collect();
        let (mut t, mut p) = (0, 0);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match self.tokens.get(p) {
                Some(Token::AnyRun) => {
                    star = Some((p, t));
                    p += 1;
                }
                Some(tok) if tok.matches_one(text[t]) => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.tokens[p..].iter().all(|tok| *tok == Token::AnyRun)
    }
}

impl Token {
    fn matches_one(&self, c: char) -> bool {
        match self {
            Token::Literal(l) => *l == c,
            Token::AnyOne => true,
            Token::AnyRun => false,
            Token::Class { negated, ranges } => {
                ranges.iter().any(|&(lo, hi)| lo <= c && c <= hi) != *negated
            }
        }
    }
}

/// After a `[`: `!`/`^` negates, a `]` first is literal, `a-z` is a range. `None`: unclosed.
fn parse_class(chars: &mut std::iter::Peekable<std::str::Chars>) -> Option<Token> {
    let negated = matches!(chars.peek(), Some('!') | Some('^'));
    if negated {
        chars.next();
    }
    let mut ranges = Vec::new();
    let mut first = true;
    loop {
        let c = chars.next()?;
        if c == ']' && !first {
            return Some(Token::Class { negated, ranges });
        }
        first = false;
        let lo = if c == '\\' { chars.next()? } else { c };
        let is_range = chars.peek() == Some(&'-');
        if is_range {
            let mut ahead = chars.clone();
            ahead.next();
            match ahead.next() {
                Some(hi) if hi != ']' => {
                    chars.next();
                    chars.next();
                    ranges.push((lo, hi));
                    continue;
                }
                _ => {}
            }
        }
        ranges.push((lo, lo));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ProviderKind;

    const NOVA_KEY: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBG1r4wzPTIjSo78POCq+u/czb8gYK0KvqlmCvcRPrnDWxgLw7y6BX51tuYREz7iLRCP7BwUt8R+ZWzFZDeOLIWU= Generated-by-Nova";
    const NOVA_MD5: &str = "16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40";
    const NOVA_SHA256: &str = "SHA256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM";

    fn kp(name: &str, key: Option<&str>) -> KeyPair {
        let mut k = KeyPair::new("p", ProviderKind::new("openstack"), Some("r1"), name);
        if let Some(key) = key {
            k.set_public_key(key).unwrap();
        }
        k
    }

    #[test]
    fn fingerprint_spellings_are_one() {
        let sha = normalize_fingerprint(NOVA_SHA256).unwrap();
        for s in [
            "SHA256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM=",
            "sha256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM",
            "  wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM ",
            "wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM=",
        ] {
            assert_eq!(normalize_fingerprint(s), Some(sha), "{s}");
        }
        assert_eq!(sha.canonical(), NOVA_SHA256);
        let md5 = normalize_fingerprint(NOVA_MD5).unwrap();
        for s in [
            "MD5:16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40",
            "md5:166AC9EC804D173ED53B6FC0D7150440",
            "16:6A:C9:EC:80:4D:17:3E:D5:3B:6F:C0:D7:15:04:40",
            "166ac9ec804d173ed53b6fc0d7150440",
        ] {
            assert_eq!(normalize_fingerprint(s), Some(md5), "{s}");
        }
        assert_eq!(md5.canonical(), format!("MD5:{NOVA_MD5}"));
        let sha1 = "9e:02:7f:87:aa:ac:69:fb:d7:4c:53:12:4f:6f:e9:43:74:85:ac:85";
        assert!(matches!(
            normalize_fingerprint(sha1),
            Some(NormalizedFp::Sha1(_))
        ));
    }

    #[test]
    fn not_fingerprints() {
        for s in [
            "",
            "deploy",
            "SHA256:short",
            "MD5:16:6a",
            "16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:4",
            "1:66a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40",
            "web-*",
            "SHA256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23K",
            // same bytes if unused trailing bits were ignored: a typo must not match
            "SHA256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KN",
        ] {
            assert_eq!(normalize_fingerprint(s), None, "{s}");
        }
    }

    #[test]
    fn needle_kinds() {
        assert!(matches!(
            parse_needle(NOVA_SHA256, None),
            Ok(Needle::Fingerprint(_))
        ));
        assert!(matches!(
            parse_needle(NOVA_MD5, None),
            Ok(Needle::Fingerprint(_))
        ));
        assert!(matches!(parse_needle(NOVA_KEY, None), Ok(Needle::Key(_))));
        assert!(matches!(
            parse_needle("ci-*", None),
            Ok(Needle::NameGlob(_))
        ));
        assert!(matches!(
            parse_needle("my key", None),
            Ok(Needle::NameGlob(_))
        ));
        let err = parse_needle("SHA256:nope", None).unwrap_err();
        assert!(err.to_string().contains("not a valid"), "{err}");
        assert!(parse_needle("ssh-ed25519 AAAA", None)
            .unwrap_err()
            .to_string()
            .contains("public key"));
        assert!(parse_needle("a[b", None)
            .unwrap_err()
            .to_string()
            .contains("closing"));
    }

    #[test]
    fn needle_from_files() {
        let file = format!("# my key\n\n{NOVA_KEY}\n");
        let Ok(Needle::Key(info)) = parse_needle("k.pub", Some(&file)) else {
            panic!()
        };
        assert_eq!(info.fingerprint_sha256, NOVA_SHA256);
        let err = parse_needle("id", Some("-----BEGIN OPENSSH PRIVATE KEY-----\n")).unwrap_err();
        assert!(err.to_string().contains("private key"), "{err}");
        let err = parse_needle("-", Some("-----BEGIN RSA PRIVATE KEY-----\n")).unwrap_err();
        assert!(
            err.to_string().starts_with("stdin is a private key"),
            "{err}"
        );
        assert!(parse_needle("e.pub", Some("\n# nothing\n"))
            .unwrap_err()
            .to_string()
            .contains("no public key"));
        assert!(parse_needle("x.pub", Some("ssh-rsa AAAA"))
            .unwrap_err()
            .to_string()
            .starts_with("x.pub: "));
        // a file wins over its name looking like a glob or fingerprint
        assert!(matches!(
            parse_needle("ci-*", Some(NOVA_KEY)),
            Ok(Needle::Key(_))
        ));
    }

    #[test]
    fn matches_by_fingerprint_key_and_provider_value() {
        let local = kp("a", Some(NOVA_KEY));
        let mut cloud_only = kp("b", None);
        cloud_only.provider_fingerprint = Some(NOVA_MD5.to_string());
        let mut other = kp("c", None);
        other.provider_fingerprint = Some("00:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40".into());
        let md5 = Needle::fingerprint("MD5:166AC9EC804D173ED53B6FC0D7150440").unwrap();
        let sha = Needle::fingerprint(NOVA_SHA256).unwrap();
        assert!(matches(&md5, &local) && matches(&md5, &cloud_only) && !matches(&md5, &other));
        assert!(matches(&sha, &local) && !matches(&sha, &cloud_only));
        // same key, different comment
        let recommented = NOVA_KEY.replace("Generated-by-Nova", "someone else");
        let key = parse_needle(&recommented, None).unwrap();
        assert!(matches(&key, &local) && matches(&key, &cloud_only) && !matches(&key, &other));
        // a key pair whose adapter did not compute fingerprints still matches by its key
        let mut raw = kp("d", None);
        raw.public_key = Some(NOVA_KEY.to_string());
        assert!(matches(&sha, &raw) && matches(&key, &raw));
    }

    #[test]
    fn key_match_prefers_sha256_over_a_provider_md5() {
        // The cloud's MD5 says "this key", but the stored key is another one: SHA-256 decides.
        let ed = keyctl_emulator::keys::openssh_key(keyctl_emulator::keys::Algo::Ed25519, 3, "");
        let mut k = kp("a", Some(&ed));
        k.provider_fingerprint = Some(NOVA_MD5.to_string());
        let key = parse_needle(NOVA_KEY, None).unwrap();
        assert!(!matches(&key, &k));
        assert!(matches(&parse_needle(&ed, None).unwrap(), &k));
    }

    #[test]
    fn x509_key_pairs_match_their_sha1() {
        let pem = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/keys/x509.pem"
        ))
        .unwrap();
        let mut k = kp("cert", None);
        k.key_type = Some(KeyType::X509);
        k.set_public_key(&pem).unwrap();
        let fp = "9E:02:7F:87:AA:AC:69:FB:D7:4C:53:12:4F:6F:E9:43:74:85:AC:85";
        assert!(matches(&Needle::fingerprint(fp).unwrap(), &k));
        assert!(matches(&parse_needle("cert.pem", Some(&pem)).unwrap(), &k));
    }

    #[test]
    fn globs() {
        let cases: &[(&str, &str, bool)] = &[
            ("deploy", "deploy", true),
            ("deploy", "deploy2", false),
            ("ci-*", "ci-", true),
            ("ci-*", "ci-runner-1", true),
            ("ci-*", "xci-1", false),
            ("*-prod", "web-prod", true),
            ("*a*b*c", "xxaxxbxxc", true),
            ("*a*b*c", "xxaxxbxxcx", false),
            ("k?", "k1", true),
            ("k?", "k", false),
            ("k[0-9]", "k7", true),
            ("k[0-9]", "kx", false),
            ("k[!0-9]", "kx", true),
            ("k[^0-9]", "k7", false),
            ("k[]x]", "k]", true),
            ("k[a-]", "k-", true),
            ("a\\*", "a*", true),
            ("a\\*", "ab", false),
            ("名前*", "名前-1", true),
            ("**", "", true),
        ];
        for &(pattern, name, expected) in cases {
            let g = Glob::new(pattern).unwrap();
            assert_eq!(g.is_match(name), expected, "{pattern} vs {name}");
        }
        assert!(Glob::new("deploy").unwrap().is_literal());
        assert!(!Glob::new("de*").unwrap().is_literal());
        assert!(Glob::new("").is_err());
        assert!(Glob::new("[a-").is_err());
    }

    #[test]
    fn deny_list_deserializes_and_rejects_garbage() {
        let ok: Vec<NormalizedFp> = serde_json::from_str(&format!("[\"{NOVA_MD5}\"]")).unwrap();
        assert_eq!(ok[0].canonical(), format!("MD5:{NOVA_MD5}"));
        let err = serde_json::from_str::<Vec<NormalizedFp>>("[\"nope\"]").unwrap_err();
        assert!(err.to_string().contains("not a fingerprint"));
    }
}
