//! OpenSSH public key lines.
#![no_main]

use keyctl::keys::{nova_md5, PublicKeyInfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(line) = std::str::from_utf8(data) {
        if let Ok(info) = PublicKeyInfo::parse(line) {
            assert!(info.fingerprint_sha256.starts_with("SHA256:"));
        }
        let _ = nova_md5(line);
    }
});
