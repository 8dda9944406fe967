//! ListKeypairs paging: `limit` and `marker`, following `page_info.next_marker` until a short
//! page or no marker, refusing a marker seen twice.

use std::collections::HashSet;

use serde_json::Value;

use super::{KpsProvider, Op, MAX_PAGE};
use crate::error::{Error, Result};
use crate::model::KeyPair;
use crate::provider::ListQuery;
use crate::sign::huawei as signer;

impl KpsProvider {
    async fn fetch_page(
        &self,
        project_id: &str,
        limit: u32,
        marker: Option<&str>,
    ) -> Result<(Vec<KeyPair>, Option<String>)> {
        let limit_s = limit.to_string();
        let mut query = vec![("limit", limit_s.as_str())];
        if let Some(m) = marker {
            query.push(("marker", m));
        }
        let url = self.url(
            &self.endpoint,
            &format!("/v3/{}/keypairs", signer::encode(project_id)),
            &query,
        )?;
        let resp = self.send(&url, Some(project_id), Op::List).await?;
        let body: Value = resp.json()?;
        let items = body
            .get("keypairs")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                Error::protocol(format!(
                    "key pair list without a `keypairs` array (HTTP {}); body starts: {}",
                    resp.status,
                    resp.snippet()
                ))
                .with_status(resp.status)
            })?;
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            // Each item is wrapped as {"keypair": {...}}; accept a bare object too.
            let kp = item.get("keypair").unwrap_or(item);
            out.push(self.to_keypair(kp, project_id)?);
        }
        let next = body
            .get("page_info")
            .and_then(|p| p.get("next_marker"))
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        Ok((out, next))
    }

    pub(super) async fn list_all(&self, query: &ListQuery) -> Result<Vec<KeyPair>> {
        let project_id = self.project_id().await?;
        let limit = query.page_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        let mut markers_seen: HashSet<String> = HashSet::new();
        loop {
            let (page, next) = self
                .fetch_page(project_id, limit, marker.as_deref())
                .await?;
            let short = (page.len() as u32) < limit;
            all.extend(page);
            // The documented end: no next_marker, or fewer items than asked for (README §1.5).
            let Some(next) = next.filter(|_| !short) else {
                break;
            };
            if !markers_seen.insert(next.clone()) {
                return Err(Error::protocol(format!(
                    "KPS returned next_marker {next:?} twice; stopping instead of looping (after {} key pairs)",
                    all.len()
                )));
            }
            marker = Some(next);
        }
        Ok(all)
    }
}
