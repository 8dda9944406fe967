//! Offset paging: the first page gives TotalCount, so every remaining offset is known and the
//! pages are fetched concurrently under the credential's rate limiter and handed on in offset
//! order, de-duplicated by KeyId (offsets shift when keys are added or removed mid-walk). The
//! walk and its guards are [`crate::provider::paging::OffsetWalk`]'s; this is how one
//! DescribeKeyPairs page is fetched and read.

use std::collections::HashSet;
use std::sync::Mutex;

use super::errors::judge_page;
use super::wire::{Envelope, PageResponse, RequestBody, Selector, TcKeyPair};
use super::TencentProvider;
use crate::error::{Error, Result};
use crate::http::HttpResponse;
use crate::log;
use crate::provider::paging::{Caps, OffsetPage, OffsetWalk};

/// Pages in flight at once. The limiter is what bounds the rate; this only bounds memory and
/// connections when the account is large (10 covers a second of requests at full rate).
const CONCURRENCY: usize = 10;

impl TencentProvider {
    /// One page: serialized once, the same bytes signed and sent on every attempt.
    async fn fetch(
        &self,
        selector: &Selector,
        offset: u64,
        limit: u32,
    ) -> Result<OffsetPage<TcKeyPair>> {
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
        let (total, items) = read_page(&resp, judged)?;
        Ok(OffsetPage { total, items })
    }

    /// Every key pair matching `selector`, page by page into `on_page` in offset order: the
    /// first page, then every remaining offset known from TotalCount, concurrently under the
    /// shared limiter (see [`OffsetWalk::run`], which holds the guards). De-duplicated by KeyId
    /// (offsets shift when the set changes during the walk).
    pub(super) async fn walk(
        &self,
        selector: &Selector,
        page_size: u32,
        mut on_page: impl FnMut(Vec<TcKeyPair>) -> Result<()> + Send,
    ) -> Result<()> {
        let walk = OffsetWalk {
            api: "DescribeKeyPairs",
            total_name: "TotalCount",
            page_size,
            concurrency: CONCURRENCY,
            caps: Caps::from_env()?,
        };
        let mut seen = HashSet::new();
        let totals = walk
            .run(
                |offset| self.fetch(selector, offset, page_size),
                |items| on_page(first_of_each(&mut seen, items)),
            )
            .await?;
        if totals.changed {
            log::warn(&format!(
                "profile {} (tencent, {}): the key pair set changed during the listing (TotalCount {} → {}); \
                 duplicates were dropped, but a key added or removed meanwhile may be missing; run again for a consistent view",
                self.profile, self.region, totals.first, totals.last
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

/// The TotalCount and key pairs of an accepted DescribeKeyPairs reply: the page the judge kept
/// (it parsed the body to look for an error), else the body read now. A reply without a
/// TotalCount is a protocol error.
pub(super) fn read_page(
    resp: &HttpResponse,
    judged: Mutex<Option<PageResponse>>,
) -> Result<(u64, Vec<TcKeyPair>)> {
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
    Ok((total, page.key_pair_set.unwrap_or_default()))
}
