//! OpenSSH public key lines: real blob layouts (RSA, DSA, ECDSA, EdDSA, security keys,
//! certificates, unknown types), then cut short, lengths that lie, bytes changed, another
//! algorithm on the line, base64 bent, a line break inside.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;
use keyctl::keys::{nova_md5, PublicKeyInfo};
use proptest::prelude::*;
use sha2::{Digest, Sha256};

use crate::gen::{self, KeyMutation};
use crate::{bounded, config};

proptest! {
    #![proptest_config(config())]

    #[test]
    fn key_lines((line, key, mutation) in gen::key_line()) {
        let parsed = bounded("public key parse", {
            let line = line.clone();
            move || (PublicKeyInfo::parse(&line), nova_md5(&line))
        });
        let (info, md5) = parsed;
        let intact = matches!(mutation, KeyMutation::None | KeyMutation::Unpadded)
            && !line.trim().contains('\n');
        let info = match info {
            Ok(info) => info,
            Err(e) => {
                prop_assert!(!intact, "a well-formed {} key refused: {e}", key.algorithm);
                prop_assert!(!e.to_string().is_empty());
                prop_assert!(md5.is_err());
                return Ok(());
            }
        };
        // Whatever was accepted: ssh-keygen's spellings, the line's own algorithm.
        prop_assert!(info.fingerprint_sha256.starts_with("SHA256:"));
        prop_assert_eq!(info.fingerprint_sha256.len(), 7 + 43);
        prop_assert!(info.fingerprint_md5.starts_with("MD5:"));
        prop_assert_eq!(info.fingerprint_md5.len(), 4 + 47);
        prop_assert_eq!(Some(info.algorithm.as_str()), line.split_whitespace().next());
        prop_assert_eq!(md5, Ok(info.nova_md5()));
        prop_assert_eq!(info.all_fingerprints().len(), if info.certificate { 4 } else { 2 });
        if intact {
            prop_assert_eq!(&info.algorithm, &key.algorithm);
            prop_assert_eq!(info.bits, key.bits);
            prop_assert_eq!(&info.blob, &key.blob());
            if !info.certificate {
                let own = format!("SHA256:{}", STANDARD_NO_PAD.encode(Sha256::digest(key.blob())));
                prop_assert_eq!(&info.fingerprint_sha256, &own);
            }
        }
    }

    /// Any text at all, key-like or not.
    #[test]
    fn any_text(line in gen::text()) {
        let parsed = bounded("public key parse", move || PublicKeyInfo::parse(&line).map(|i| i.fingerprint_sha256));
        if let Ok(fp) = parsed {
            prop_assert!(fp.starts_with("SHA256:"));
        }
    }
}
