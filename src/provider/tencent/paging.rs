//! Offset paging: the first page gives TotalCount, so every remaining offset is known and the
//! pages are fetched concurrently under the credential's rate limiter and handed on in offset
//! order, de-duplicated by KeyId (offsets shift when keys are added or removed mid-walk).

use std::collections::HashSet;
use std::sync::Mutex;

use futures::StreamExt;

use super::errors::judge_page;
use super::wire::{Envelope, Page, PageResponse, RequestBody, Selector, TcKeyPair};
use super::TencentProvider;
use crate::error::{Error, Result};
use crate::log;

/// Pages in flight at once. The limiter is what bounds the rate; this only bounds memory and
/// connections when the account is large (10 covers a second of requests at full rate).
const CONCURRENCY: usize = 10;
/// No account holds this many key pairs: a TotalCount above it is a server bug, not an account.
const MAX_OFFSET: u64 = 10_000_000;

impl TencentProvider {
    /// One page: serialized once, the same bytes signed and sent on every attempt.
    async fn fetch(&self, selector: &Selector, offset: u64, limit: u32) -> Result<Page> {
        let body = serde_json::to_vec(&RequestBody {
            key_ids: &selector.key_ids,
            filters: &selector.filters,
            offset,
            limit,
        })
        .map_err(|e| Error::other(format!("cannot encode the DescribeKeyPairs request: {e}")))?;
        let judged = Mutex::new(None);
        let resp = self
            .http
            .execute(
                || self.build(&body),
                |resp| judge_page(resp, &judged),
                Some(&self.limiter),
            )
            .await?;
        let page = match judged.into_inner().unwrap_or_else(|e| e.into_inner()) {
            Some(page) => page,
            None => resp.json::<Envelope<PageResponse>>()?.response,
        };
        let total = page.total_count.ok_or_else(|| {
            Error::protocol(format!(
                "DescribeKeyPairs reply has no TotalCount; body starts: {}",
                resp.snippet()
            ))
            .with_request_id(page.request_id.clone())
        })?;
        Ok(Page {
            total,
            items: page.key_pair_set.unwrap_or_default(),
        })
    }

    /// Every key pair matching `selector`, page by page into `on_page` in offset order: the
    /// first page, then every remaining offset known from TotalCount, concurrently under the
    /// shared limiter. Ends at a short or empty page; de-duplicated by KeyId (offsets shift when
    /// the set changes during the walk).
    pub(super) async fn walk(
        &self,
        selector: &Selector,
        page_size: u32,
        mut on_page: impl FnMut(Vec<TcKeyPair>) -> Result<()> + Send,
    ) -> Result<()> {
        let mut seen = HashSet::new();
        let first = self.fetch(selector, 0, page_size).await?;
        let first_total = first.total;
        let mut total = first.total;
        let mut changed = false;
        let mut done = (first.items.len() as u64) < u64::from(page_size);
        on_page(first_of_each(&mut seen, first.items))?;
        let mut next = u64::from(page_size);
        while !done && next < total {
            let offsets = remaining_offsets(next, total, page_size)?;
            next = offsets.last().map_or(total, |o| o + u64::from(page_size));
            // In offset order; leaving the loop drops the stream, which cancels the requests
            // not yet sent, so an error or a short page stops the walk at once.
            let mut stream = futures::stream::iter(offsets)
                .map(|offset| self.fetch(selector, offset, page_size))
                .buffered(CONCURRENCY);
            while let Some(result) = stream.next().await {
                let page = result?;
                total = page.total;
                changed |= total != first_total;
                let short = (page.items.len() as u64) < u64::from(page_size);
                on_page(first_of_each(&mut seen, page.items))?;
                if short {
                    done = true;
                    break;
                }
            }
        }
        if changed {
            log::warn(&format!(
                "profile {} (tencent, {}): the key pair set changed during the listing (TotalCount {first_total} → {total}); \
                 duplicates were dropped, but a key added or removed meanwhile may be missing; run again for a consistent view",
                self.profile, self.region
            ));
        }
        Ok(())
    }

    /// [`TencentProvider::walk`]'s pages, collected.
    pub(super) async fn walk_all(
        &self,
        selector: &Selector,
        page_size: u32,
    ) -> Result<Vec<TcKeyPair>> {
        let mut all = Vec::new();
        self.walk(selector, page_size, |mut items| {
            all.append(&mut items);
            Ok(())
        })
        .await?;
        Ok(all)
    }
}

/// The offsets from `next` up to TotalCount, one per page. TotalCount comes from the server, so
/// it is checked before anything is allocated for it: a bogus `TotalCount: 1e18` would otherwise
/// ask for 10^16 offsets at once.
fn remaining_offsets(next: u64, total: u64, page_size: u32) -> Result<Vec<u64>> {
    if total > MAX_OFFSET {
        return Err(Error::protocol(format!(
            "DescribeKeyPairs reports TotalCount {total}, more than any account can hold ({MAX_OFFSET}); not paging through it"
        ))
        .with_hint("check the profile's endpoint: it does not answer like Tencent CVM"));
    }
    Ok((next..total).step_by(page_size.max(1) as usize).collect())
}

/// A page's items without those an earlier page (in offset order) already gave: the first of
/// every KeyId is kept, as the offsets shift when keys are added or removed mid-walk.
fn first_of_each(seen: &mut HashSet<Identity>, items: Vec<TcKeyPair>) -> Vec<TcKeyPair> {
    items
        .into_iter()
        .filter(|item| {
            let identity = match (&item.key_id, &item.key_name) {
                (Some(id), _) => Identity::Id(id.clone()),
                (None, Some(name)) => Identity::Name(name.clone()),
                (None, None) => return false,
            };
            seen.insert(identity)
        })
        .collect()
}

/// What makes two items of one walk the same key pair: its KeyId, or its name without one.
#[derive(PartialEq, Eq, Hash)]
enum Identity {
    Id(String),
    Name(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_total_and_refuse_an_impossible_one() {
        assert_eq!(remaining_offsets(100, 350, 100).unwrap(), [100, 200, 300]);
        assert!(remaining_offsets(100, 100, 100).unwrap().is_empty());
        assert_eq!(remaining_offsets(0, 3, 0).unwrap(), [0, 1, 2]);
        let e = remaining_offsets(100, 1_000_000_000_000_000_000, 100).unwrap_err();
        assert_eq!(e.kind, crate::error::Kind::Protocol);
        assert!(e.message.contains("TotalCount"), "{}", e.message);
    }
}
