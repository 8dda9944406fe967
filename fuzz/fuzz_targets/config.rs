//! keyctl's config file (`config.example.toml` is a good seed for the corpus).
#![no_main]

use keyctl::config::file::parse;
use keyctl::provider::registry;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = std::path::Path::new("config.toml");
        if let Ok(config) = parse(path, text, &registry::schemas()) {
            let _ = config.audit_policy();
        }
    }
});
