//! keyctl: one view of your SSH key pairs across Huawei Cloud, OpenStack and Tencent Cloud.
//!
//! The binary (`src/main.rs`) is a thin shell over this library:
//! - [`cli`]: the command tree (clap), one file per command, turning flags into plain requests;
//! - [`config`]: the config file, implicit profiles from each cloud's environment, secret sources;
//! - [`provider`]: one adapter per API behind the [`provider::Provider`] trait;
//! - [`sign`]: request signers (Huawei SDK-HMAC-SHA256, Tencent TC3-HMAC-SHA256), pure functions;
//! - [`http`]: the shared client, retries with backoff, rate limiting, redacted tracing;
//! - [`tls`]: which servers are trusted (the system's CAs, a profile's `cacert`);
//! - [`proxy`]: which proxy a request goes through (`HTTPS_PROXY`, `NO_PROXY`, …);
//! - [`json`]: JSON read from reply bytes (UTF-8 checked once per reply, not per string);
//! - [`fanout`]: every selected profile and region at once, failures kept apart;
//! - [`model`] and [`keys`]: the `KeyPair` model and what is computed from the key itself;
//! - [`output`]: table, JSON, JSONL, TSV and name renderers;
//! - [`escape`]: a server's text made safe for a terminal, a TSV field or a `-o name` line;
//! - [`error`]: typed errors and the exit-code contract.

pub mod audit;
pub mod cli;
pub mod config;
pub mod error;
pub mod escape;
pub mod fanout;
pub mod find;
pub mod http;
pub mod json;
pub mod keys;
pub mod log;
pub mod model;
pub mod output;
pub mod progress;
pub mod provider;
pub mod proxy;
pub mod secret;
pub mod sign;
pub mod tls;
