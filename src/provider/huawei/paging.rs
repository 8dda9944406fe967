//! ListKeypairs paging: `limit` and `marker`, following `page_info.next_marker` until a short
//! page or no marker, refusing a marker seen twice.

use std::collections::HashSet;

use serde_json::Value;

use super::{KpsProvider, Op, MAX_PAGE};
use crate::error::{Error, Result};
use crate::model::KeyPair;
use crate::provider::item::{take_keypairs, Field, Item, PageItems};
use crate::provider::pipeline::{self, ListHead};
use crate::provider::{ListQuery, PageSink};
use crate::sign::huawei as signer;

/// One page as the server sent it: the marker it hands out, how many items it holds, and the
/// items themselves, read later (while the next page is in flight) when a quick scan could
/// read the rest.
struct Page {
    items: PageItems,
    count: usize,
    next: Option<String>,
}

fn marker_of(next_marker: Option<&Value>) -> Option<String> {
    next_marker
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
}

impl KpsProvider {
    async fn fetch_page(&self, project_id: &str, limit: u32, marker: Option<&str>) -> Result<Page> {
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
            return Ok(Page {
                count: head.items.len(),
                items: PageItems::Raw(resp, head.items),
                next,
            });
        }
        // Anything the scan does not take (bad JSON, odd shapes, duplicate keys) gets the full
        // parse and its errors, as it always did.
        let body: Value = resp.json()?;
        super::wire::reply_array(&body, "keypairs", &resp, "the key pair list")?;
        let next = marker_of(body.get("page_info").and_then(|p| p.get("next_marker")));
        let items = take_keypairs(body);
        Ok(Page {
            count: items.len(),
            items: PageItems::Parsed(items),
            next,
        })
    }

    fn convert(&self, item: &Field, project_id: &str) -> Result<KeyPair> {
        // Each item is wrapped as {"keypair": {...}}; accept a bare object too.
        let kp = item.as_object().and_then(|o| o.get("keypair"));
        self.to_keypair(kp.unwrap_or(item), project_id)
    }

    /// The whole list, page by page into `sink`, in the server's order. The next page is
    /// requested as soon as this page's marker is known, and this page is converted while it is
    /// in flight (see [`crate::provider::pipeline`]); errors are the sequential walk's, in its
    /// order.
    pub(super) async fn list_all(&self, query: &ListQuery, sink: &mut dyn PageSink) -> Result<()> {
        let project_id = self.project_id().await?;
        let limit = query.page_size.unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
        let mut so_far = 0;
        let mut markers_seen: HashSet<String> = HashSet::new();
        let mut page = self.fetch_page(project_id, limit, None).await?;
        loop {
            let Page { items, count, next } = page;
            let short = count < limit as usize;
            let convert = |item: &Item| item.with_field(|f| self.convert(f, project_id));
            so_far += count;
            match next_marker(next, short, &mut markers_seen, so_far) {
                Ok(Some(marker)) => {
                    let fetch = self.fetch_page(project_id, limit, Some(&marker));
                    let emit = |chunk| sink.take(chunk);
                    // This page's error first, then the next page's.
                    page = pipeline::convert_while(|| items.read(), convert, emit, fetch).await??;
                }
                Ok(None) => {
                    return pipeline::convert_page(&items.read(), convert, |c| sink.take(c));
                }
                // A bad item on this page is what the sequential walk would have reported first.
                Err(e) => {
                    for item in &items.read() {
                        convert(item)?;
                    }
                    return Err(e);
                }
            }
        }
    }
}

/// No account holds this many key pairs: a walk past it is a server handing out fresh markers
/// for ever, which the repeated-marker check alone would follow until memory runs out.
const MAX_KEYS: usize = 10_000_000;

/// Where the walk goes after a page: `None` at the documented end (no `next_marker`, or fewer
/// items than asked for, README §1.5); an error for a marker seen before or a walk that never ends.
fn next_marker(
    next: Option<String>,
    short: bool,
    seen: &mut HashSet<String>,
    so_far: usize,
) -> Result<Option<String>> {
    let Some(next) = next.filter(|_| !short) else {
        return Ok(None);
    };
    if !seen.insert(next.clone()) {
        return Err(Error::protocol(format!(
            "KPS returned next_marker {next:?} twice; stopping instead of looping (after {so_far} key pairs)"
        )));
    }
    if so_far >= MAX_KEYS {
        return Err(Error::protocol(format!(
            "KPS paging did not end after {so_far} key pairs; stopping"
        ))
        .with_hint("check the profile's endpoint: it does not page like KPS"));
    }
    Ok(Some(next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_walk_ends_at_the_documented_end_and_never_loops() {
        let mut seen = HashSet::new();
        let m = |s: &str| Some(s.to_string());
        assert_eq!(next_marker(None, false, &mut seen, 10).unwrap(), None);
        assert_eq!(next_marker(m("a"), true, &mut seen, 10).unwrap(), None);
        assert_eq!(next_marker(m("a"), false, &mut seen, 10).unwrap(), m("a"));
        assert!(next_marker(m("a"), false, &mut seen, 20).is_err());
        let e = next_marker(m("fresh"), false, &mut seen, MAX_KEYS).unwrap_err();
        assert!(e.message.contains("did not end"), "{}", e.message);
    }
}
