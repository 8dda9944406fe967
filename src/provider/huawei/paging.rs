//! ListKeypairs paging: `limit` and `marker`, following `page_info.next_marker`. The walk and
//! its guards (a short page ends it, a marker seen twice, the caps) are
//! [`crate::provider::paging::MarkerWalk`]'s; this is how KPS fetches and reads one page.

use serde_json::Value;

use super::wire::{KpsItem, ListReply};
use super::{KpsProvider, Op, MAX_PAGE};
use crate::error::Result;
use crate::http::HttpResponse;
use crate::model::KeyPair;
use crate::provider::paging::{Caps, MarkerReply, MarkerWalk};
use crate::provider::wire::Loose;
use crate::provider::{ListQuery, PageSink};
use crate::sign::huawei as signer;

fn marker_of(next_marker: Option<&str>) -> Option<String> {
    next_marker.filter(|m| !m.is_empty()).map(str::to_string)
}

/// How the walk reads a KPS page (see [`MarkerReply`]).
pub(super) struct Pages<'k> {
    pub(super) kps: &'k KpsProvider,
    pub(super) project_id: &'k str,
}

impl MarkerReply for Pages<'_> {
    type Page = HttpResponse;
    type Item<'p> = KpsItem<'p>;
    type Out = KeyPair;

    fn read<'p>(&self, resp: &'p HttpResponse) -> Result<(Vec<KpsItem<'p>>, Option<String>)> {
        if let Ok(reply) = crate::json::from_bytes::<ListReply<'_>>(&resp.body) {
            let marker = reply.page_info.and_then(|p| p.next_marker);
            let items = reply.keypairs.into_iter();
            return Ok((
                items.map(KpsItem::Raw).collect(),
                marker_of(marker.as_ref().and_then(Loose::as_str)),
            ));
        }
        // Anything the wire structs do not take (bad JSON, odd shapes, duplicate keys, bad
        // items) gets the full parse and its errors, as it always did.
        let mut body: Value = resp.json()?;
        super::wire::reply_array(&body, "keypairs", resp, "the key pair list")?;
        let next = marker_of(
            body.get("page_info")
                .and_then(|p| p.get("next_marker"))
                .and_then(Value::as_str),
        );
        let items = match body.get_mut("keypairs").map(Value::take) {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        Ok((items.into_iter().map(KpsItem::Value).collect(), next))
    }

    fn convert(&self, _: &HttpResponse, item: &KpsItem<'_>) -> Result<KeyPair> {
        self.kps.item_to_keypair(item, self.project_id)
    }
}

impl KpsProvider {
    /// One page as the server sent it, read when the walk gets to it.
    async fn fetch_page(
        &self,
        project_id: &str,
        limit: u32,
        marker: Option<&str>,
    ) -> Result<HttpResponse> {
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
        self.send(&url, Some(project_id), Op::List).await
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
        let pages = Pages {
            kps: self,
            project_id,
        };
        walk.run(&pages, first, fetch, |chunk| sink.take(chunk))
            .await?;
        Ok(())
    }
}
