//! Deterministic, well-formed OpenSSH public keys for seeding the emulator: the blobs follow the
//! SSH wire format (RFC 4253 §6.6, RFC 5656, RFC 8709) so keyctl's parser and fingerprints work
//! on them, but the numbers are pseudo-random, not real key material (no private key exists).

use base64::Engine;

/// One seeded key pair, before a cloud module adds its own fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedKey {
    pub name: String,
    /// An OpenSSH line: `algorithm base64 comment`, or an x509 PEM for Nova's x509 type.
    pub public_key: String,
}

/// The kinds of key the generator can make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algo {
    Ed25519,
    Rsa(u32),
    EcdsaP256,
    Dsa,
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| (self.next() >> 32) as u8).collect()
    }
}

fn put_string(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
}

/// An mpint of exactly `bits` bits (top bit set), with the leading zero byte SSH requires.
fn put_mpint_bits(out: &mut Vec<u8>, rng: &mut Rng, bits: u32) {
    let mut n = rng.bytes(bits.div_ceil(8) as usize);
    let top = (bits - 1) % 8;
    n[0] &= (1u16 << (top + 1)).wrapping_sub(1) as u8;
    n[0] |= 1 << top;
    if let Some(last) = n.last_mut() {
        *last |= 1;
    }
    if n[0] & 0x80 != 0 {
        n.insert(0, 0);
    }
    put_string(out, &n);
}

/// The OpenSSH line of a key of `algo`, seeded by `seed`.
pub fn openssh_key(algo: Algo, seed: u64, comment: &str) -> String {
    let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for _ in 0..4 {
        rng.next();
    }
    let mut blob = Vec::new();
    let name = match algo {
        Algo::Ed25519 => {
            put_string(&mut blob, b"ssh-ed25519");
            put_string(&mut blob, &rng.bytes(32));
            "ssh-ed25519"
        }
        Algo::Rsa(bits) => {
            put_string(&mut blob, b"ssh-rsa");
            put_string(&mut blob, &[0x01, 0x00, 0x01]);
            put_mpint_bits(&mut blob, &mut rng, bits);
            "ssh-rsa"
        }
        Algo::EcdsaP256 => {
            put_string(&mut blob, b"ecdsa-sha2-nistp256");
            put_string(&mut blob, b"nistp256");
            let mut point = vec![0x04];
            point.extend(rng.bytes(64));
            put_string(&mut blob, &point);
            "ecdsa-sha2-nistp256"
        }
        Algo::Dsa => {
            put_string(&mut blob, b"ssh-dss");
            put_mpint_bits(&mut blob, &mut rng, 1024);
            put_mpint_bits(&mut blob, &mut rng, 160);
            put_mpint_bits(&mut blob, &mut rng, 1024);
            put_mpint_bits(&mut blob, &mut rng, 1024);
            "ssh-dss"
        }
    };
    let b64 = base64::engine::general_purpose::STANDARD.encode(&blob);
    if comment.is_empty() {
        format!("{name} {b64}")
    } else {
        format!("{name} {b64} {comment}")
    }
}

/// `n` key pairs named `{prefix}-00001` …, a mix like a real account: 40 % ed25519,
/// 30 % RSA 3072, 20 % ECDSA P-256, 10 % RSA 2048.
pub fn generate(prefix: &str, n: usize, seed: u64) -> Vec<SeedKey> {
    (1..=n)
        .map(|i| {
            let algo = match i % 10 {
                0..=3 => Algo::Ed25519,
                4..=6 => Algo::Rsa(3072),
                7 | 8 => Algo::EcdsaP256,
                _ => Algo::Rsa(2048),
            };
            let name = format!("{prefix}-{i:05}");
            let comment = format!("{name}@emulator");
            SeedKey {
                public_key: openssh_key(algo, seed ^ (i as u64) << 8, &comment),
                name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_distinct() {
        let a = generate("k", 50, 7);
        assert_eq!(a, generate("k", 50, 7));
        let mut keys: Vec<_> = a.iter().map(|k| k.public_key.clone()).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 50);
        assert!(a[0].name == "k-00001" && a[0].public_key.starts_with("ssh-"));
    }

    #[test]
    fn rsa_modulus_has_requested_bits() {
        let line = openssh_key(Algo::Rsa(2048), 1, "");
        let b64 = line.split(' ').nth(1).unwrap();
        let blob = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        // string "ssh-rsa" (4+7), mpint e (4+3), mpint n (4 + 257 with the leading zero)
        let n_len = u32::from_be_bytes(blob[18..22].try_into().unwrap());
        assert_eq!(n_len, 257);
        assert_eq!(blob[22], 0);
        assert!(blob[23] & 0x80 != 0);
    }
}
