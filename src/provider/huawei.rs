//! PLACEHOLDER: adapter being written.

use async_trait::async_trait;

use crate::config::Profile;
use crate::error::{Error, Result};
use crate::model::KeyPair;
use crate::provider::{Context, ListQuery, Provider};

pub struct KpsProvider;

impl KpsProvider {
    pub fn new(_profile: &Profile, _region: Option<String>, _ctx: &Context) -> Result<Self> {
        Err(Error::other("not written yet"))
    }
}

#[async_trait]
impl Provider for KpsProvider {
    async fn list(&self, _query: &ListQuery) -> Result<Vec<KeyPair>> {
        Err(Error::other("not written yet"))
    }
    async fn show(&self, _name: &str, _query: &ListQuery) -> Result<KeyPair> {
        Err(Error::other("not written yet"))
    }
}
