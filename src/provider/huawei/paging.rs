//! ListKeypairs paging: `limit` and `marker`, following `page_info.next_marker`. The walk and
//! its guards (a short page ends it, a marker seen twice, the caps) are
//! [`crate::provider::paging::MarkerWalk`]'s; this is how KPS fetches and reads one page.

use serde_json::Value;

use super::{KpsProvider, Op, MAX_PAGE};
use crate::error::Result;
use crate::model::KeyPair;
use crate::provider::item::{take_keypairs, Field, PageItems};
use crate::provider::paging::{Caps, MarkerPage, MarkerWalk};
use crate::provider::pipeline::ListHead;
use crate::provider::{ListQuery, PageSink};
use crate::sign::huawei as signer;

fn marker_of(next_marker: Option<&Value>) -> Option<String> {
    next_marker
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
}

impl KpsProvider {
    /// One page as the server sent it: the marker it hands out and its items, read later (while
    /// the next page is in flight) when a quick scan could read the rest.
    async fn fetch_page(
        &self,
        project_id: &str,
        limit: u32,
        marker: Option<&str>,
    ) -> Result<MarkerPage<()>> {
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
        if let Some(head) = ListHead::scan(&resp.body) {
            let next = marker_of(head.page_info.as_ref().and_then(|p| p.get("next_marker")));
            return Ok(MarkerPage {
                items: PageItems::Raw(resp, head.items),
                next,
                with: (),
            });
        }
        // Anything the scan does not take (bad JSON, odd shapes, duplicate keys) gets the full
        // parse and its errors, as it always did.
        let body: Value = resp.json()?;
        super::wire::reply_array(&body, "keypairs", &resp, "the key pair list")?;
        let next = marker_of(body.get("page_info").and_then(|p| p.get("next_marker")));
        Ok(MarkerPage {
            items: PageItems::Parsed(take_keypairs(body)),
            next,
            with: (),
        })
    }

    fn convert(&self, item: &Field, project_id: &str) -> Result<KeyPair> {
        // Each item is wrapped as {"keypair": {...}}; accept a bare object too.
        let kp = item.as_object().and_then(|o| o.get("keypair"));
        self.to_keypair(kp.unwrap_or(item), project_id)
    }

    /// The whole list, page by page into `sink`, in the server's order (see
    /// [`MarkerWalk::run`]).
    pub(super) async fn list_all(&self, query: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        let caps = Caps::from_env()?;
        let project_id = self.project_id().await?;
        let limit = query.page_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let who = format!("profile {}", self.profile);
        let walk = MarkerWalk {
            api: "KPS",
            who: &who,
            // The ListKeypairs reference: a page shorter than limit ends the query.
            short_below: limit as usize,
            caps,
        };
        let first = self.fetch_page(project_id, limit, None).await?;
        let fetch =
            |marker: String| async move { self.fetch_page(project_id, limit, Some(&marker)).await };
        walk.run(
            first,
            fetch,
            |(), item| self.convert(item, project_id),
            |chunk| sink.take(chunk),
        )
        .await?;
        Ok(())
    }
}
