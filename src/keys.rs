//! PLACEHOLDER: OpenSSH public key parsing and fingerprints (being written).

/// What is computed locally from an OpenSSH public key line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyInfo {
    pub algorithm: String,
    pub bits: Option<u32>,
    pub comment: Option<String>,
    pub fingerprint_sha256: String,
    pub fingerprint_md5: String,
}

impl PublicKeyInfo {
    pub fn parse(_line: &str) -> Result<PublicKeyInfo, String> {
        Err("key parsing is not written yet".to_string())
    }
}
