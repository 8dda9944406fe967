//! OpenSSH public keys: parse one `algorithm base64 [comment]` line, read the SSH wire-format
//! blob (RFC 4253 §6.6, RFC 5656, RFC 8709, OpenSSH PROTOCOL.certkeys and PROTOCOL.u2f) and
//! compute the fingerprints `ssh-keygen -l` prints.
//!
//! The parser is hand-written on purpose: keyctl must report the algorithm and fingerprint of key
//! types it does not know (a cloud may hold anything), which a full key library would reject.
//! It never panics: every read is bounds-checked and every failure is an `Err` with a reason.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Standard base64 that accepts input with or without `=` padding: people paste both, and
/// some tools strip it (OpenSSH's `b64_pton` would refuse the unpadded form). Unused bits in the
/// last character must be zero, as `b64_pton` also insists, so one fingerprint has one spelling.
const B64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Unpadded standard base64, the form `ssh-keygen` prints after `SHA256:`.
const B64_NO_PAD: GeneralPurpose = base64::engine::general_purpose::STANDARD_NO_PAD;

const CERT_SUFFIX: &str = "-cert-v01@openssh.com";

/// Why a public key line does not parse. The texts name what is wrong with the line or its
/// key data; quoted parts of the input are shortened (a garbage line stays one readable line).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyParseError {
    #[error("empty public key")]
    Empty,
    #[error("expected one public key line, found several lines")]
    SeveralLines,
    #[error("no key data after `{algorithm}`")]
    NoKeyData { algorithm: String },
    #[error("the key data is not valid base64 ({0})")]
    Base64(#[source] base64::DecodeError),
    #[error("the line says `{line}` but the key data is `{blob}`")]
    AlgorithmMismatch { line: String, blob: String },
    #[error("the algorithm name in the key data is not text")]
    AlgorithmNotText,
    #[error("the key is for curve `{curve}` but names curve `{named}`")]
    CurveMismatch { curve: String, named: String },
    #[error("the ECDSA point is not an uncompressed {curve} point ({len} bytes)")]
    EcdsaPoint { curve: String, len: usize },
    #[error("the EdDSA key is {len} bytes, expected {expected}")]
    EddsaKeyLength { len: usize, expected: usize },
    #[error("the key data is truncated: {what} needs {needed} bytes, {left} left")]
    Truncated {
        what: &'static str,
        needed: usize,
        left: usize,
    },
    #[error("the {what} is negative")]
    NegativeInteger { what: &'static str },
    #[error("the {what} is zero")]
    ZeroInteger { what: &'static str },
    #[error("the key data has {0} unexpected trailing bytes")]
    TrailingBytes(usize),
}

/// What is computed locally from an OpenSSH public key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    /// The algorithm name from the blob (which must equal the line's first word).
    pub algorithm: String,
    /// Key size: RSA modulus / DSA `p` bit length, the curve size for ECDSA and EdDSA, `None`
    /// for unknown types.
    pub bits: Option<u32>,
    /// Everything after the base64 (inner spaces kept), `None` when empty.
    pub comment: Option<String>,
    /// `SHA256:` + unpadded base64, as `ssh-keygen -l` prints. For a certificate this is the
    /// fingerprint of the embedded key, as ssh-keygen does.
    pub fingerprint_sha256: String,
    /// `MD5:` + lowercase colon hex, as `ssh-keygen -l -E md5` prints (same rule for certificates).
    pub fingerprint_md5: String,
    /// The decoded blob, verbatim (for a certificate, the whole certificate).
    pub blob: Vec<u8>,
    /// Whether the blob is an OpenSSH certificate (`*-cert-v01@openssh.com`).
    pub certificate: bool,
}

impl PublicKeyInfo {
    /// Parses one OpenSSH public key line (`algorithm base64 [comment…]`); surrounding
    /// whitespace is ignored, authorized_keys options are not accepted.
    pub fn parse(line: &str) -> Result<PublicKeyInfo, KeyParseError> {
        let line = line.trim();
        if line.is_empty() {
            return Err(KeyParseError::Empty);
        }
        // `trim` took any line break at the ends, so one left inside means a second line.
        if line.contains('\n') {
            return Err(KeyParseError::SeveralLines);
        }
        let (algorithm_text, rest) = split_word(line);
        let (b64, comment) = split_word(rest);
        if b64.is_empty() {
            return Err(KeyParseError::NoKeyData {
                algorithm: shorten(algorithm_text),
            });
        }
        let blob = B64_LENIENT.decode(b64).map_err(KeyParseError::Base64)?;
        let parsed = parse_blob(&blob)?;
        if parsed.algorithm != algorithm_text {
            return Err(KeyParseError::AlgorithmMismatch {
                line: shorten(algorithm_text),
                blob: shorten(&parsed.algorithm),
            });
        }
        let fingerprinted: &[u8] = parsed.plain_blob.as_deref().unwrap_or(&blob);
        Ok(PublicKeyInfo {
            certificate: parsed.algorithm.ends_with(CERT_SUFFIX),
            algorithm: parsed.algorithm,
            bits: parsed.bits,
            comment: (!comment.is_empty()).then(|| comment.to_string()),
            fingerprint_sha256: sha256_fingerprint(fingerprinted),
            fingerprint_md5: md5_fingerprint(fingerprinted),
            blob,
        })
    }

    /// Every fingerprint a cloud may legitimately report for this key: ssh-keygen's SHA-256 and
    /// MD5, and for a certificate also both hashes of the whole certificate blob (Nova hashes
    /// the blob as given).
    pub fn all_fingerprints(&self) -> Vec<String> {
        let mut out = vec![
            self.fingerprint_sha256.clone(),
            self.fingerprint_md5.clone(),
        ];
        if self.certificate {
            out.push(sha256_fingerprint(&self.blob));
            out.push(md5_fingerprint(&self.blob));
        }
        out
    }

    /// The fingerprint Nova (and Huawei ECS) report: MD5 of the whole decoded blob, lowercase
    /// colon hex, no prefix (nova/crypto.py). Equals `fingerprint_md5` minus `MD5:` except for
    /// certificates, which Nova hashes whole.
    pub fn nova_md5(&self) -> String {
        md5_colon_hex(&self.blob)
    }
}

/// Nova's fingerprint of an OpenSSH public key line; see [`PublicKeyInfo::nova_md5`].
pub fn nova_md5(line: &str) -> Result<String, KeyParseError> {
    PublicKeyInfo::parse(line).map(|info| info.nova_md5())
}

/// SHA-1 of an x509 certificate's DER as lowercase colon hex: Nova's fingerprint for x509 key
/// pairs (`cert.fingerprint(hashes.SHA1())`). `None` when there is no PEM certificate block
/// or its body is not base64 of a DER SEQUENCE.
pub fn x509_sha1_fingerprint(pem: &str) -> Option<String> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN)? + BEGIN.len();
    let len = pem[start..].find(END)?;
    let body: String = pem[start..start + len]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = B64_LENIENT.decode(body).ok()?;
    // A certificate is a DER SEQUENCE; anything else is not what the caller thinks it is.
    if der.first() != Some(&0x30) {
        return None;
    }
    Some(colon_hex(&Sha1::digest(&der)))
}

/// `SHA256:` + unpadded base64 of SHA-256 over `blob`, built in one allocation (it runs for
/// every key pair listed).
pub fn sha256_fingerprint(blob: &[u8]) -> String {
    sha256_spelling(&Sha256::digest(blob))
}

/// A SHA-256 digest spelled as `ssh-keygen -l` prints it: `SHA256:` + unpadded base64.
pub(crate) fn sha256_spelling(digest: &[u8]) -> String {
    const PREFIX: &str = "SHA256:";
    let mut out = String::with_capacity(PREFIX.len() + digest.len().div_ceil(3) * 4);
    out.push_str(PREFIX);
    B64_NO_PAD.encode_string(digest, &mut out);
    out
}

/// `MD5:` + [`md5_colon_hex`], as `ssh-keygen -l -E md5` prints it, in one allocation.
pub fn md5_fingerprint(blob: &[u8]) -> String {
    colon_hex_after("MD5:", &Md5::digest(blob))
}

/// MD5 over `blob` as lowercase hex pairs joined by `:` (no prefix).
pub fn md5_colon_hex(blob: &[u8]) -> String {
    colon_hex(&Md5::digest(blob))
}

/// Lowercase hex pairs joined by `:`.
pub fn colon_hex(bytes: &[u8]) -> String {
    colon_hex_after("", bytes)
}

/// `prefix` + lowercase hex pairs joined by `:`. Written digit by digit into one allocation: it
/// runs for every key pair listed (twice with the `MD5:` form), and a `format!` per byte was a
/// tenth of a listing's CPU time.
pub(crate) fn colon_hex_after(prefix: &str, bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(prefix.len() + bytes.len() * 3);
    out.push_str(prefix);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// Decodes standard base64 with or without padding (shared with fingerprint normalization).
pub(crate) fn decode_base64_lenient(s: &str) -> Option<Vec<u8>> {
    B64_LENIENT.decode(s).ok()
}

/// Splits off the first whitespace-delimited word; the rest keeps its inner spacing.
fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim_start();
    match find_whitespace(s) {
        Some(i) => (&s[..i], s[i..].trim()),
        None => (s, ""),
    }
}

/// `s.find(char::is_whitespace)`, 16 bytes at a time while they are all printable ASCII (the
/// base64 word is hundreds of such bytes and is scanned for every key pair listed), else a
/// byte at a time; only a non-ASCII byte is decoded.
fn find_whitespace(s: &str) -> Option<usize> {
    const RUN: usize = 16;
    // No early exit inside a run, so the compiler checks it as one vector.
    let plain = |run: &[u8]| {
        run.iter()
            .fold(true, |all, &b| all & (b'!'..=b'~').contains(&b))
    };
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes.len() - i >= RUN && plain(&bytes[i..i + RUN]) {
            i += RUN;
            continue;
        }
        let b = bytes[i];
        if b.is_ascii() {
            // char::is_whitespace on ASCII: space, \t, \n, vertical tab, form feed, \r.
            if matches!(b, b' ' | b'\t'..=b'\r') {
                return Some(i);
            }
            i += 1;
        } else {
            let c = s[i..].chars().next()?;
            if c.is_whitespace() {
                return Some(i);
            }
            i += c.len_utf8();
        }
    }
    None
}

/// Keeps error messages readable when the input is garbage.
fn shorten(s: &str) -> String {
    const MAX: usize = 60;
    if s.chars().count() <= MAX {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(MAX).collect::<String>())
    }
}

/// What the blob says about itself.
struct ParsedBlob {
    algorithm: String,
    bits: Option<u32>,
    /// For a certificate: the embedded key re-serialized as a plain key, which is what
    /// `ssh-keygen -l` fingerprints. `None`: fingerprint the blob as is.
    plain_blob: Option<Vec<u8>>,
}

/// Reads an SSH wire-format public key or certificate blob.
fn parse_blob(blob: &[u8]) -> Result<ParsedBlob, KeyParseError> {
    let mut r = Reader::new(blob);
    let name = r.string("algorithm name")?;
    let algorithm = std::str::from_utf8(name)
        .map_err(|_| KeyParseError::AlgorithmNotText)?
        .to_string();
    if let Some(base) = cert_base_algorithm(&algorithm) {
        return parse_certificate(algorithm, &base, &mut r);
    }
    match read_key_fields(&algorithm, &mut r)? {
        Some(bits) => {
            r.finish()?;
            Ok(ParsedBlob {
                algorithm,
                bits: Some(bits),
                plain_blob: None,
            })
        }
        // Unknown type: keep its name and fingerprint the whole blob; nothing to check.
        None => Ok(ParsedBlob {
            algorithm,
            bits: None,
            plain_blob: None,
        }),
    }
}

/// `ssh-rsa-cert-v01@openssh.com` → `ssh-rsa`; `sk-ssh-ed25519-cert-v01@openssh.com` →
/// `sk-ssh-ed25519@openssh.com` (security-key names carry the domain after the suffix is cut).
fn cert_base_algorithm(algorithm: &str) -> Option<String> {
    let stem = algorithm.strip_suffix(CERT_SUFFIX)?;
    Some(if stem.starts_with("sk-") {
        format!("{stem}@openssh.com")
    } else {
        stem.to_string()
    })
}

/// Certificate layout (PROTOCOL.certkeys): nonce, the base key's fields, then serial, type,
/// key id, principals, validity, options, extensions, reserved, signature key, signature.
fn parse_certificate(
    algorithm: String,
    base: &str,
    r: &mut Reader,
) -> Result<ParsedBlob, KeyParseError> {
    r.string("certificate nonce")?;
    let key_start = r.pos;
    let Some(bits) = read_key_fields(base, r)? else {
        // A certificate over a key type we do not know: we cannot find where the key ends.
        return Ok(ParsedBlob {
            algorithm,
            bits: None,
            plain_blob: None,
        });
    };
    let key_fields = &r.buf[key_start..r.pos];
    r.u64("certificate serial")?;
    r.u32("certificate type")?;
    for what in ["certificate key id", "certificate principals"] {
        r.string(what)?;
    }
    r.u64("certificate valid-after")?;
    r.u64("certificate valid-before")?;
    for what in [
        "critical options",
        "extensions",
        "reserved field",
        "signature key",
        "signature",
    ] {
        r.string(what)?;
    }
    r.finish()?;
    let mut plain = Vec::with_capacity(4 + base.len() + key_fields.len());
    put_string(&mut plain, base.as_bytes());
    plain.extend_from_slice(key_fields);
    Ok(ParsedBlob {
        algorithm,
        bits: Some(bits),
        plain_blob: Some(plain),
    })
}

/// Reads the fields after the name for a known plain key type. `Ok(None)`: unknown type
/// (nothing read). `Ok(Some(bits))`: the key size.
fn read_key_fields(algorithm: &str, r: &mut Reader) -> Result<Option<u32>, KeyParseError> {
    let bits = match algorithm {
        "ssh-rsa" => {
            r.mpint("RSA exponent")?;
            mpint_bits(r.mpint("RSA modulus")?)
        }
        "ssh-dss" => {
            let p = r.mpint("DSA p")?;
            for what in ["DSA q", "DSA g", "DSA y"] {
                r.mpint(what)?;
            }
            mpint_bits(p)
        }
        "ecdsa-sha2-nistp256" | "ecdsa-sha2-nistp384" | "ecdsa-sha2-nistp521" => {
            read_ecdsa(r, &algorithm["ecdsa-sha2-".len()..])?
        }
        "sk-ecdsa-sha2-nistp256@openssh.com" => {
            let bits = read_ecdsa(r, "nistp256")?;
            r.string("security key application")?;
            bits
        }
        "ssh-ed25519" => read_eddsa(r, 32, 256)?,
        "sk-ssh-ed25519@openssh.com" => {
            let bits = read_eddsa(r, 32, 256)?;
            r.string("security key application")?;
            bits
        }
        "ssh-ed448" => read_eddsa(r, 57, 456)?,
        _ => return Ok(None),
    };
    Ok(Some(bits))
}

/// Curve name (must match the algorithm's) and an uncompressed point of the curve's size.
fn read_ecdsa(r: &mut Reader, curve: &str) -> Result<u32, KeyParseError> {
    let named = r.string("ECDSA curve name")?;
    if named != curve.as_bytes() {
        return Err(KeyParseError::CurveMismatch {
            curve: curve.to_string(),
            named: shorten(&String::from_utf8_lossy(named)),
        });
    }
    let bits = match curve {
        "nistp256" => 256,
        "nistp384" => 384,
        _ => 521,
    };
    let point = r.string("ECDSA point")?;
    let coordinate = (bits as usize).div_ceil(8);
    if point.len() != 1 + 2 * coordinate || point[0] != 0x04 {
        return Err(KeyParseError::EcdsaPoint {
            curve: curve.to_string(),
            len: point.len(),
        });
    }
    Ok(bits)
}

fn read_eddsa(r: &mut Reader, key_len: usize, bits: u32) -> Result<u32, KeyParseError> {
    let key = r.string("EdDSA public key")?;
    if key.len() != key_len {
        return Err(KeyParseError::EddsaKeyLength {
            len: key.len(),
            expected: key_len,
        });
    }
    Ok(bits)
}

/// Bit length of a non-negative mpint, leading zero bytes ignored.
fn mpint_bits(n: &[u8]) -> u32 {
    let digits: &[u8] = match n.iter().position(|&b| b != 0) {
        Some(i) => &n[i..],
        None => &[],
    };
    let bits = match digits.first() {
        Some(&top) => (digits.len() as u64 - 1) * 8 + u64::from(8 - top.leading_zeros()),
        None => 0,
    };
    // Saturate rather than overflow on absurd (multi-gigabyte) input.
    u32::try_from(bits).unwrap_or(u32::MAX)
}

fn put_string(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// A bounds-checked cursor over a wire-format blob.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], KeyParseError> {
        let left = self.buf.len() - self.pos;
        if n > left {
            return Err(KeyParseError::Truncated {
                what,
                needed: n,
                left,
            });
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, KeyParseError> {
        let b = self.take(4, what)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, KeyParseError> {
        let hi = self.u32(what)? as u64;
        let lo = self.u32(what)? as u64;
        Ok(hi << 32 | lo)
    }

    fn string(&mut self, what: &'static str) -> Result<&'a [u8], KeyParseError> {
        let len = self.u32(what)? as usize;
        self.take(len, what)
    }

    /// A positive mpint (RFC 4251 §5): not negative, not zero.
    fn mpint(&mut self, what: &'static str) -> Result<&'a [u8], KeyParseError> {
        let n = self.string(what)?;
        match n {
            [top, ..] if top & 0x80 != 0 => Err(KeyParseError::NegativeInteger { what }),
            // Like OpenSSH, tolerate superfluous leading zero bytes; all zeros is no key.
            _ if n.iter().all(|&b| b == 0) => Err(KeyParseError::ZeroInteger { what }),
            _ => Ok(n),
        }
    }

    fn finish(&self) -> Result<(), KeyParseError> {
        match self.buf.len() - self.pos {
            0 => Ok(()),
            extra => Err(KeyParseError::TrailingBytes(extra)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nova's own test vector (openstack/nova, nova/tests/unit/test_crypto.py).
    const NOVA_KEY: &str = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBG1r4wzPTIjSo78POCq+u/czb8gYK0KvqlmCvcRPrnDWxgLw7y6BX51tuYREz7iLRCP7BwUt8R+ZWzFZDeOLIWU= Generated-by-Nova";

    #[test]
    fn the_whitespace_scan_is_char_is_whitespace() {
        for s in [
            "",
            "abc",
            "ab c",
            "ab\tc",
            "ab\u{b}c",
            "ab\u{c}c",
            "ab\rc",
            "é\u{a0}x",
            "éé\u{2003}",
            "x\u{85}y",
            "日本\u{3000}語",
            "\u{1f600}z",
            "a\u{200b}b",
        ] {
            assert_eq!(find_whitespace(s), s.find(char::is_whitespace), "{s:?}");
        }
        // Every char up to U+3000 (the last Unicode space), between two ASCII letters, alone
        // and after a run of 16 or more plain bytes (the wide scan), at every offset in one.
        for c in (0u32..=0x3000).filter_map(char::from_u32) {
            for before in [1, 16, 17, 31, 40] {
                let s = format!("{}{c}{}", "a".repeat(before), "b".repeat(20));
                assert_eq!(find_whitespace(&s), s.find(char::is_whitespace), "{c:?}");
            }
        }
        let long = format!("ssh-ed25519-{}", "AbC+/09=".repeat(30));
        assert_eq!(find_whitespace(&long), None);
    }

    fn line(blob: &[u8], comment: &str) -> String {
        let name_len = u32::from_be_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
        let name = String::from_utf8_lossy(&blob[4..4 + name_len]).to_string();
        format!(
            "{name} {} {comment}",
            base64::engine::general_purpose::STANDARD.encode(blob)
        )
    }

    fn blob(fields: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for f in fields {
            put_string(&mut out, f);
        }
        out
    }

    #[test]
    fn nova_vector() {
        let info = PublicKeyInfo::parse(NOVA_KEY).unwrap();
        assert_eq!(info.algorithm, "ecdsa-sha2-nistp256");
        assert_eq!(info.bits, Some(256));
        assert_eq!(info.comment.as_deref(), Some("Generated-by-Nova"));
        assert_eq!(
            info.nova_md5(),
            "16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40"
        );
        assert_eq!(
            info.fingerprint_md5,
            "MD5:16:6a:c9:ec:80:4d:17:3e:d5:3b:6f:c0:d7:15:04:40"
        );
        assert_eq!(
            info.fingerprint_sha256,
            "SHA256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM"
        );
        assert!(!info.certificate);
        assert_eq!(nova_md5(NOVA_KEY).unwrap(), info.nova_md5());
    }

    #[test]
    fn whitespace_padding_and_comments() {
        let (alg, rest) = split_word(NOVA_KEY);
        let (b64, _) = split_word(rest);
        let unpadded = b64.trim_end_matches('=');
        let text = format!("  \t{alg}   {unpadded}   two  words here \r\n");
        let info = PublicKeyInfo::parse(&text).unwrap();
        assert_eq!(info.comment.as_deref(), Some("two  words here"));
        assert_eq!(
            info.fingerprint_sha256,
            "SHA256:wMs4vOlN4gzGdbN84QCPfprf6y9qXm32VsW0vRX23KM"
        );
        let bare = PublicKeyInfo::parse(&format!("{alg} {b64}")).unwrap();
        assert_eq!(bare.comment, None);
    }

    #[test]
    fn rejects_mismatched_name_and_bad_input() {
        let (_, rest) = split_word(NOVA_KEY);
        let err = PublicKeyInfo::parse(&format!("ssh-rsa {rest}")).unwrap_err();
        assert!(err.to_string().contains("ecdsa-sha2-nistp256"), "{err}");
        assert!(PublicKeyInfo::parse("").is_err());
        assert!(PublicKeyInfo::parse("ssh-ed25519")
            .unwrap_err()
            .to_string()
            .contains("no key data"));
        assert!(PublicKeyInfo::parse("ssh-ed25519 !!!!")
            .unwrap_err()
            .to_string()
            .contains("base64"));
        assert!(PublicKeyInfo::parse(&format!("{NOVA_KEY}\n{NOVA_KEY}")).is_err());
        // authorized_keys options are not accepted
        assert!(PublicKeyInfo::parse(&format!("no-pty {NOVA_KEY}")).is_err());
    }

    #[test]
    fn parse_errors_are_typed_with_the_same_texts() {
        assert_eq!(
            PublicKeyInfo::parse("ssh-ed25519").unwrap_err(),
            KeyParseError::NoKeyData {
                algorithm: "ssh-ed25519".into()
            }
        );
        assert_eq!(
            PublicKeyInfo::parse("ssh-ed25519").unwrap_err().to_string(),
            "no key data after `ssh-ed25519`"
        );
        let short = blob(&[b"ssh-ed25519", &[9u8; 31]]);
        assert_eq!(
            PublicKeyInfo::parse(&line(&short, ""))
                .unwrap_err()
                .to_string(),
            "the EdDSA key is 31 bytes, expected 32"
        );
        let cut = &blob(&[b"ssh-rsa", &[1, 0, 1]])[..];
        assert_eq!(
            PublicKeyInfo::parse(&line(cut, ""))
                .unwrap_err()
                .to_string(),
            "the key data is truncated: RSA modulus needs 4 bytes, 0 left"
        );
        // The base64 decoder's error is kept as the source, its text in the message.
        let e = PublicKeyInfo::parse("ssh-ed25519 !!!!").unwrap_err();
        let source = std::error::Error::source(&e).expect("source kept");
        assert!(source.is::<base64::DecodeError>());
        assert_eq!(
            e.to_string(),
            format!("the key data is not valid base64 ({source})")
        );
    }

    #[test]
    fn curve_name_must_match() {
        let mut point = vec![4u8];
        point.extend([7u8; 64]);
        let b = blob(&[b"ecdsa-sha2-nistp256", b"nistp384", &point]);
        let err = PublicKeyInfo::parse(&line(&b, "")).unwrap_err();
        assert!(err.to_string().contains("nistp384"), "{err}");
        let ok = blob(&[b"ecdsa-sha2-nistp256", b"nistp256", &point]);
        assert_eq!(
            PublicKeyInfo::parse(&line(&ok, "")).unwrap().bits,
            Some(256)
        );
    }

    #[test]
    fn rsa_bits_ignore_the_leading_zero_and_reject_negative() {
        let mut n = vec![0u8, 0x80];
        n.extend([0x11; 255]);
        let b = blob(&[b"ssh-rsa", &[1, 0, 1], &n]);
        assert_eq!(
            PublicKeyInfo::parse(&line(&b, "")).unwrap().bits,
            Some(2048)
        );
        // 2047 bits: top byte 0x7f, no leading zero needed
        let mut n = vec![0x7fu8];
        n.extend([0x11; 255]);
        let b = blob(&[b"ssh-rsa", &[1, 0, 1], &n]);
        assert_eq!(
            PublicKeyInfo::parse(&line(&b, "")).unwrap().bits,
            Some(2047)
        );
        let b = blob(&[b"ssh-rsa", &[1, 0, 1], &[0x80, 1]]);
        assert!(PublicKeyInfo::parse(&line(&b, ""))
            .unwrap_err()
            .to_string()
            .contains("negative"));
        let b = blob(&[b"ssh-rsa", &[1, 0, 1], &[]]);
        assert!(PublicKeyInfo::parse(&line(&b, ""))
            .unwrap_err()
            .to_string()
            .contains("zero"));
    }

    #[test]
    fn eddsa_sizes_and_security_keys() {
        let ed448 = blob(&[b"ssh-ed448", &[9u8; 57]]);
        assert_eq!(
            PublicKeyInfo::parse(&line(&ed448, "")).unwrap().bits,
            Some(456)
        );
        let short = blob(&[b"ssh-ed25519", &[9u8; 31]]);
        assert!(PublicKeyInfo::parse(&line(&short, ""))
            .unwrap_err()
            .to_string()
            .contains("31 bytes"));
        let sk = blob(&[b"sk-ssh-ed25519@openssh.com", &[9u8; 32], b"ssh:"]);
        assert_eq!(
            PublicKeyInfo::parse(&line(&sk, "")).unwrap().bits,
            Some(256)
        );
        let sk_no_app = blob(&[b"sk-ssh-ed25519@openssh.com", &[9u8; 32]]);
        assert!(PublicKeyInfo::parse(&line(&sk_no_app, ""))
            .unwrap_err()
            .to_string()
            .contains("application"));
    }

    #[test]
    fn unknown_types_keep_their_name_and_fingerprint() {
        let b = blob(&[b"ssh-future@example.com", b"whatever", b"more"]);
        let info = PublicKeyInfo::parse(&line(&b, "c")).unwrap();
        assert_eq!(info.algorithm, "ssh-future@example.com");
        assert_eq!(info.bits, None);
        assert_eq!(info.fingerprint_sha256, sha256_fingerprint(&b));
        assert_eq!(info.fingerprint_md5, format!("MD5:{}", md5_colon_hex(&b)));
    }

    #[test]
    fn trailing_bytes_are_rejected_for_known_types() {
        let mut b = blob(&[b"ssh-ed25519", &[9u8; 32]]);
        b.push(0);
        assert!(PublicKeyInfo::parse(&line(&b, ""))
            .unwrap_err()
            .to_string()
            .contains("trailing"));
    }

    #[test]
    fn certificate_fingerprint_is_the_embedded_key() {
        let key = [5u8; 32];
        let plain = blob(&[b"ssh-ed25519", &key]);
        let mut cert = blob(&[b"ssh-ed25519-cert-v01@openssh.com", b"nonce", &key]);
        cert.extend(1u64.to_be_bytes());
        cert.extend(1u32.to_be_bytes());
        put_string(&mut cert, b"id");
        put_string(&mut cert, b"");
        cert.extend(0u64.to_be_bytes());
        cert.extend(u64::MAX.to_be_bytes());
        for f in [&b""[..], b"", b"", b"sigkey", b"sig"] {
            put_string(&mut cert, f);
        }
        let info = PublicKeyInfo::parse(&line(&cert, "")).unwrap();
        assert!(info.certificate);
        assert_eq!(info.bits, Some(256));
        assert_eq!(info.fingerprint_sha256, sha256_fingerprint(&plain));
        assert_eq!(info.nova_md5(), md5_colon_hex(&cert));
        let all = info.all_fingerprints();
        assert!(all.contains(&sha256_fingerprint(&cert)) && all.contains(&info.fingerprint_md5));
        assert_eq!(all.len(), 4);
        // a certificate cut short is an error, not a guess
        let cut = &cert[..cert.len() - 3];
        assert!(PublicKeyInfo::parse(&line(cut, ""))
            .unwrap_err()
            .to_string()
            .contains("truncated"));
        // a certificate over an unknown key type is fingerprinted whole
        let odd = blob(&[b"ssh-odd-cert-v01@openssh.com", b"nonce", b"x"]);
        let info = PublicKeyInfo::parse(&line(&odd, "")).unwrap();
        assert_eq!(
            (info.bits, info.fingerprint_sha256),
            (None, sha256_fingerprint(&odd))
        );
    }

    #[test]
    fn cert_base_names() {
        let base = |a| cert_base_algorithm(a);
        assert_eq!(
            base("ssh-rsa-cert-v01@openssh.com").as_deref(),
            Some("ssh-rsa")
        );
        assert_eq!(
            base("sk-ecdsa-sha2-nistp256-cert-v01@openssh.com").as_deref(),
            Some("sk-ecdsa-sha2-nistp256@openssh.com")
        );
        assert_eq!(base("ssh-rsa"), None);
    }

    #[test]
    fn x509_sha1() {
        // A minimal DER SEQUENCE; Nova hashes whatever DER the PEM holds.
        let der = [0x30u8, 0x03, 0x02, 0x01, 0x05];
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        );
        // sha1(30 03 02 01 05), computed independently with Python hashlib
        assert_eq!(
            x509_sha1_fingerprint(&pem).as_deref(),
            Some("16:c3:c3:e0:bb:5b:5f:4f:ba:ec:db:6d:f3:7a:5a:4f:9d:11:96:e4")
        );
        assert_eq!(x509_sha1_fingerprint("ssh-rsa AAAA"), None);
        let not_der = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
        assert_eq!(x509_sha1_fingerprint(not_der), None);
        let not_b64 = "-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----";
        assert_eq!(x509_sha1_fingerprint(not_b64), None);
    }

    /// Property-style: random bytes, truncations and single-byte corruptions of valid blobs
    /// never panic (an Err or an Ok are both fine), and truncated known keys are errors.
    #[test]
    fn no_panics_on_garbage() {
        let mut rng = fastrand::Rng::with_seed(0x6b65_7963_746c);
        let mut seeds: Vec<Vec<u8>> = vec![
            base64::engine::general_purpose::STANDARD
                .decode(split_word(split_word(NOVA_KEY).1).0)
                .unwrap(),
            blob(&[b"ssh-rsa", &[1, 0, 1], &[0x00, 0xc1, 0x22, 0x33]]),
            blob(&[
                b"ssh-dss",
                &[0x7f; 128],
                &[0x7f; 20],
                &[0x7f; 128],
                &[0x7f; 128],
            ]),
            blob(&[b"ssh-ed25519", &[1; 32]]),
            blob(&[b"sk-ssh-ed25519@openssh.com", &[1; 32], b"ssh:"]),
            blob(&[
                b"ssh-rsa-cert-v01@openssh.com",
                b"n",
                &[1, 0, 1],
                &[0x41; 10],
            ]),
        ];
        for _ in 0..200 {
            let len = rng.usize(0..80);
            seeds.push((0..len).map(|_| rng.u8(..)).collect());
        }
        for seed in &seeds {
            let full = PublicKeyInfo::parse(&line_or_raw(seed));
            for cut in 0..seed.len() {
                let r = PublicKeyInfo::parse(&line_or_raw(&seed[..cut]));
                if full.as_ref().is_ok_and(|i| i.bits.is_some()) {
                    assert!(
                        r.is_err(),
                        "truncated known key parsed: {cut} of {}",
                        seed.len()
                    );
                }
            }
            for _ in 0..20 {
                let mut bad = seed.clone();
                if bad.is_empty() {
                    break;
                }
                let i = rng.usize(..bad.len());
                bad[i] = rng.u8(..);
                let _ = PublicKeyInfo::parse(&line_or_raw(&bad));
            }
        }
        for _ in 0..500 {
            let text: String = (0..rng.usize(0..60)).map(|_| rng.char(..)).collect();
            let _ = PublicKeyInfo::parse(&text);
            let _ = x509_sha1_fingerprint(&text);
        }
    }

    /// A line whose first word is the blob's name when it has a readable one, so the blob
    /// parser (not just the name check) gets exercised.
    fn line_or_raw(b: &[u8]) -> String {
        let mut r = Reader::new(b);
        let name = r
            .string("name")
            .ok()
            .and_then(|n| std::str::from_utf8(n).ok())
            .filter(|n| !n.is_empty() && !n.contains(char::is_whitespace))
            .unwrap_or("x")
            .to_string();
        format!(
            "{name} {}",
            base64::engine::general_purpose::STANDARD.encode(b)
        )
    }
}
