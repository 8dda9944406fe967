//! Configuration: keyctl's TOML file, implicit profiles from each cloud's environment variables
//! and files, and where every secret comes from.

mod profile;

pub use profile::{Origin, Profile, Setting};
