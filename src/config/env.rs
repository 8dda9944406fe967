//! What implicit profiles share: each provider reads its own cloud's environment variables
//! and files (its `Schema::implicit_profiles`) through an injectable lookup.

/// Reads one environment variable; injectable so tests never touch the process environment.
pub type EnvFn<'a> = &'a dyn Fn(&str) -> Option<String>;

/// An endpoint from another tool's variable or file, held to the config file's rule (an http(s)
/// base URL with no `user:password@`); a bad one is ignored with a warning, and the profile
/// falls back to the default host.
pub fn checked_endpoint(source: &str, endpoint: &str) -> Option<String> {
    match super::file::validate_endpoint(endpoint) {
        Ok(()) => Some(endpoint.trim_end_matches('/').to_string()),
        Err(why) => {
            crate::log::warn(&format!("ignoring the endpoint in {source}: it {why}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_from_elsewhere_follow_the_config_rule() {
        assert_eq!(checked_endpoint("x", "ftp://h"), None);
        assert_eq!(checked_endpoint("x", "https://u:pw@proxy.example"), None);
        assert_eq!(
            checked_endpoint("x", "https://h:8443/").as_deref(),
            Some("https://h:8443")
        );
    }
}
