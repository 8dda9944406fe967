//! The two ways clouds page a key pair list, each walked here once with the guards every cloud
//! needs; the adapters supply only how to fetch one page and how to read it.
//!
//! - [`MarkerWalk`] (KPS, Nova): each reply names where the next page starts. A page is read
//!   whole by the adapter's typed wire structs ([`MarkerReply`]), the next page requested as
//!   soon as its marker is known and this page converted while it is in flight
//!   ([`crate::provider::pipeline`]); errors are the sequential walk's, in its order.
//! - [`OffsetWalk`] (Tencent): the first reply gives the total, so every remaining offset is
//!   known and the pages are fetched concurrently (the adapter's fetch waits on its rate
//!   limiter), handed on in offset order.
//!
//! Guards, the same for every cloud: a page shorter than the walk's threshold, or empty, ends it
//! (a real server's listing ends there); a marker seen twice is an error, not a loop; and no walk
//! goes past [`Caps`]: a page cap and a key-pair cap, far above any real account, so that a
//! server that never stops (a fresh marker on every page, a huge total) costs a bounded number
//! of requests and ends in an error that names the cap and how to raise it.

use std::collections::HashSet;
use std::future::Future;

use futures::StreamExt;

use crate::error::{Error, Result};
use crate::log;
use crate::provider::pipeline;

/// The page cap's environment variable.
pub(crate) const MAX_PAGES_VAR: &str = "KEYCTL_MAX_PAGES";
/// The key-pair cap's environment variable.
pub(crate) const MAX_KEY_PAIRS_VAR: &str = "KEYCTL_MAX_KEYPAIRS";
/// Requests one walk may make. Real accounts hold a few hundred key pairs at most (Nova's
/// default quota is 100 per user, Tencent's 100 per account), a page or two at the default page
/// size; even `--page-size 1` over a large account stays far below this.
pub(crate) const DEFAULT_MAX_PAGES: u64 = 10_000;
/// Key pairs one walk may list: far above any account, small enough that a server inventing
/// key pairs is stopped before memory or the terminal suffer.
pub(crate) const DEFAULT_MAX_KEY_PAIRS: u64 = 1_000_000;

/// How far one walk may go before keyctl calls the server broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Caps {
    pub pages: u64,
    pub key_pairs: u64,
}

impl Default for Caps {
    fn default() -> Self {
        Caps {
            pages: DEFAULT_MAX_PAGES,
            key_pairs: DEFAULT_MAX_KEY_PAIRS,
        }
    }
}

impl Caps {
    /// The defaults, or what `KEYCTL_MAX_PAGES` / `KEYCTL_MAX_KEYPAIRS` say. Read at the start
    /// of each walk: an environment lookup costs nothing next to a request.
    pub(crate) fn from_env() -> Result<Caps> {
        Caps::read(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    fn read(env: impl Fn(&str) -> Option<String>) -> Result<Caps> {
        let cap = |name: &str, default: u64| match env(name) {
            None => Ok(default),
            Some(v) if v.trim().is_empty() => Ok(default),
            Some(v) => match v.trim().replace('_', "").parse::<u64>() {
                Ok(n) if n > 0 => Ok(n),
                _ => {
                    let hint = format!(
                        "unset it for the default ({default}), or set a larger number to raise the cap"
                    );
                    Err(
                        Error::config(format!("{name} = `{v}` is not a positive whole number"))
                            .with_hint(hint),
                    )
                }
            },
        };
        Ok(Caps {
            pages: cap(MAX_PAGES_VAR, DEFAULT_MAX_PAGES)?,
            key_pairs: cap(MAX_KEY_PAIRS_VAR, DEFAULT_MAX_KEY_PAIRS)?,
        })
    }

    /// The error for a walk that would need more than `self.pages` requests.
    fn too_many_pages(&self, api: &str, what: String) -> Error {
        Error::protocol(format!(
            "{api}: {what}: past keyctl's page cap ({} requests per listing)",
            self.pages
        ))
        .with_hint(format!(
            "no real account needs that many: check the profile's endpoint; if this one does, \
             raise the cap ({MAX_PAGES_VAR}={}) or ask for larger pages (--page-size)",
            self.pages.saturating_mul(10)
        ))
    }

    /// The error for a walk that would list more than `self.key_pairs`.
    fn too_many_key_pairs(&self, api: &str, what: String) -> Error {
        Error::protocol(format!(
            "{api}: {what}: past keyctl's key-pair cap ({} per listing)",
            self.key_pairs
        ))
        .with_hint(format!(
            "no real account holds that many: check the profile's endpoint; if this one does, \
             raise the cap ({MAX_KEY_PAIRS_VAR}={})",
            self.key_pairs.saturating_mul(10)
        ))
    }

    fn check_key_pairs(&self, api: &str, so_far: u64) -> Result<()> {
        if so_far > self.key_pairs {
            return Err(
                self.too_many_key_pairs(api, format!("the listing reached {so_far} key pairs"))
            );
        }
        Ok(())
    }
}

/// How much a finished walk read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Walked {
    pub pages: u64,
    pub key_pairs: u64,
}

// ------------------------------------------------------------------------------- marker ----

/// How an adapter reads the pages of its marker walk. A page is fetched as it came
/// ([`MarkerReply::Page`]: the reply, and what converting it needs) and read here, once, when
/// the walk gets to it: its items may borrow from it, and the walk keeps the page while it
/// converts them.
pub(crate) trait MarkerReply {
    /// One page as fetched.
    type Page;
    /// One item of a page as read.
    type Item<'p>;
    /// What an item converts to (a key pair).
    type Out;
    /// The page's items and where the server says the list goes on (KPS `next_marker`; Nova the
    /// last name when a `next` link is present); `None` at its end.
    fn read<'p>(&self, page: &'p Self::Page) -> Result<(Vec<Self::Item<'p>>, Option<String>)>;
    /// One item, converted.
    fn convert(&self, page: &Self::Page, item: &Self::Item<'_>) -> Result<Self::Out>;
}

/// A marker walk's settings.
pub(crate) struct MarkerWalk<'a> {
    /// The API, as messages name it (`KPS`, `Nova`).
    pub api: &'a str,
    /// Who walks, for the debug log (`profile hw`).
    pub who: &'a str,
    /// A page with fewer items than this ends the walk whatever its marker says: the limit
    /// asked for where the API documents a short page as the last (KPS), 1 (only an empty page)
    /// where a server may cut pages below the limit and still go on (Nova's `[api] max_limit`).
    pub short_below: usize,
    pub caps: Caps,
}

impl MarkerWalk<'_> {
    /// Every page from `first` on, each page's items converted by `convert` and handed to
    /// `emit` in the server's order, the next page (`fetch` of its marker) in flight meanwhile.
    pub(crate) async fn run<R, F, Fut>(
        &self,
        reply: &R,
        first: R::Page,
        mut fetch: F,
        mut emit: impl FnMut(Vec<R::Out>) -> Result<()>,
    ) -> Result<Walked>
    where
        R: MarkerReply,
        F: FnMut(String) -> Fut,
        Fut: Future<Output = Result<R::Page>>,
    {
        let mut markers = HashSet::new();
        let mut walked = Walked {
            pages: 1,
            key_pairs: 0,
        };
        let mut page = first;
        loop {
            let (items, next) = reply.read(&page)?;
            let each = |item: &R::Item<'_>| reply.convert(&page, item);
            match self.next_marker(items.len(), next, &mut markers, &mut walked) {
                Ok(Some(marker)) => {
                    walked.pages += 1;
                    let next = fetch(marker);
                    // This page's error first, then the next page's.
                    let next_page =
                        pipeline::convert_while(&items, each, &mut emit, next).await??;
                    drop(items);
                    page = next_page;
                }
                Ok(None) => {
                    pipeline::convert_page(&items, each, &mut emit)?;
                    return Ok(walked);
                }
                // A bad item on this page is what the sequential walk would have reported first.
                Err(e) => {
                    for item in &items {
                        each(item)?;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Where the walk goes after a page of `count` items that names `next`: `None` at the end (no
    /// marker, or a short page), an error for a marker seen before or a walk past a cap.
    fn next_marker(
        &self,
        count: usize,
        next: Option<String>,
        seen: &mut HashSet<String>,
        walked: &mut Walked,
    ) -> Result<Option<String>> {
        walked.key_pairs += count as u64;
        let so_far = walked.key_pairs;
        self.caps.check_key_pairs(self.api, so_far)?;
        let Some(next) = next.filter(|_| count >= self.short_below.max(1)) else {
            return Ok(None);
        };
        if !seen.insert(next.clone()) {
            return Err(Error::protocol(format!(
                "{} returned the marker `{next}` twice (a repeated marker: the same page again); \
                 stopping rather than looping, after {so_far} key pairs",
                self.api
            )));
        }
        if walked.pages >= self.caps.pages {
            return Err(self.caps.too_many_pages(
                self.api,
                format!(
                    "the listing did not end after {} pages ({so_far} key pairs)",
                    walked.pages
                ),
            ));
        }
        log::debug(&format!(
            "{}: {so_far} key pairs so far, next page after `{next}`",
            self.who
        ));
        Ok(Some(next))
    }
}

// ------------------------------------------------------------------------------- offset ----

/// One page of an offset walk: the total the server reports, and the page's items.
pub(crate) struct OffsetPage<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// An offset walk's settings.
pub(crate) struct OffsetWalk<'a> {
    /// The API, as messages name it (`DescribeKeyPairs`).
    pub api: &'a str,
    /// The reply's total, as messages name it (`TotalCount`).
    pub total_name: &'a str,
    /// The `Limit` asked for; a page with fewer items ends the walk.
    pub page_size: u32,
    /// Pages in flight at once. The adapter's limiter bounds the rate; this bounds memory and
    /// connections when the account is large.
    pub concurrency: usize,
    pub caps: Caps,
}

/// The totals an offset walk saw: when a later one differs from the first, the set changed
/// during the walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Totals {
    pub first: u64,
    pub last: u64,
    pub changed: bool,
}

impl OffsetWalk<'_> {
    /// The first page, then every remaining offset the total makes known, `concurrency` at a
    /// time, each page handed to `on_page` in offset order. Ends at a short or empty page, or
    /// at the total; a total that changes mid-walk schedules the offsets it adds.
    pub(crate) async fn run<T, F, Fut>(
        &self,
        fetch: F,
        mut on_page: impl FnMut(Vec<T>) -> Result<()>,
    ) -> Result<Totals>
    where
        F: Fn(u64) -> Fut,
        Fut: Future<Output = Result<OffsetPage<T>>>,
    {
        let step = u64::from(self.page_size.max(1));
        let first = fetch(0).await?;
        let mut totals = Totals {
            first: first.total,
            last: first.total,
            changed: false,
        };
        let mut pages = 1;
        let mut so_far = first.items.len() as u64;
        self.caps.check_key_pairs(self.api, so_far)?;
        let mut done = (first.items.len() as u64) < step;
        on_page(first.items)?;
        let mut next = step;
        while !done && next < totals.last {
            let count = self.schedule(next, totals.last, pages)?;
            let from = next;
            let offsets = (0..count).map(move |i| from + i * step);
            next += count * step;
            pages += count;
            // In offset order; leaving the loop drops the stream, which cancels the requests
            // not yet sent, so an error or a short page stops the walk at once.
            let mut stream = futures::stream::iter(offsets)
                .map(&fetch)
                .buffered(self.concurrency.max(1));
            while let Some(result) = stream.next().await {
                let page = result?;
                totals.last = page.total;
                totals.changed |= page.total != totals.first;
                so_far += page.items.len() as u64;
                self.caps.check_key_pairs(self.api, so_far)?;
                let short = (page.items.len() as u64) < step;
                on_page(page.items)?;
                if short {
                    done = true;
                    break;
                }
            }
        }
        Ok(totals)
    }

    /// How many pages reach from offset `next` to `total`, after `pages` already fetched. The
    /// total comes from the server, so it is checked against the caps before anything is
    /// scheduled for it: a bogus total would otherwise be a request for every page it implies.
    fn schedule(&self, next: u64, total: u64, pages: u64) -> Result<u64> {
        if total > self.caps.key_pairs {
            return Err(self.caps.too_many_key_pairs(
                self.api,
                format!("the reply's {} is {total}", self.total_name),
            ));
        }
        let step = u64::from(self.page_size.max(1));
        let count = (total - next.min(total)).div_ceil(step);
        if pages + count > self.caps.pages {
            return Err(self.caps.too_many_pages(
                self.api,
                format!(
                    "{} {total} at {step} per page would take {} requests",
                    self.total_name,
                    pages + count
                ),
            ));
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Kind;
    use serde_json::json;
    use std::sync::atomic::{AtomicU64, Ordering};

    fn caps(pages: u64, key_pairs: u64) -> Caps {
        Caps { pages, key_pairs }
    }

    fn marker_walk(short_below: usize, caps: Caps) -> MarkerWalk<'static> {
        MarkerWalk {
            api: "Fake",
            who: "test",
            short_below,
            caps,
        }
    }

    /// A page: its items and the marker it names.
    type Page = (Vec<serde_json::Value>, Option<String>);

    /// A page of `n` items named `{tag}-{i}`, pointing at `next`.
    fn page(tag: &str, n: usize, next: Option<&str>) -> Page {
        let items = (0..n).map(|i| json!({ "name": format!("{tag}-{i}") }));
        (items.collect(), next.map(str::to_string))
    }

    /// Items converted to their names.
    struct Names;

    impl MarkerReply for Names {
        type Page = Page;
        type Item<'p> = &'p serde_json::Value;
        type Out = String;
        fn read<'p>(&self, page: &'p Page) -> Result<(Vec<Self::Item<'p>>, Option<String>)> {
            Ok((page.0.iter().collect(), page.1.clone()))
        }
        fn convert(&self, _: &Page, item: &&serde_json::Value) -> Result<String> {
            let name = item.get("name").and_then(serde_json::Value::as_str);
            name.map(str::to_string)
                .ok_or_else(|| Error::protocol("no name"))
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_marker_walk_follows_markers_to_a_short_page() {
        let requests = AtomicU64::new(0);
        let fetch = |marker: String| {
            let n = requests.fetch_add(1, Ordering::SeqCst);
            async move {
                assert_eq!(marker, format!("m{n}"));
                Ok(match n {
                    0 => page("b", 3, Some("m1")),
                    // Short: its marker is not followed.
                    _ => page("c", 2, Some("m2")),
                })
            }
        };
        let mut out = Vec::new();
        let walked = marker_walk(3, Caps::default())
            .run(&Names, page("a", 3, Some("m0")), fetch, |mut c| {
                out.append(&mut c);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            walked,
            Walked {
                pages: 3,
                key_pairs: 8
            }
        );
        assert_eq!(out.len(), 8);
        assert_eq!((out[0].as_str(), out[7].as_str()), ("a-0", "c-1"));
        assert_eq!(requests.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_marker_walk_ends_at_an_empty_page_whatever_it_names() {
        let fetch = |_: String| async { Ok(page("b", 0, Some("again"))) };
        let walked = marker_walk(1, Caps::default())
            .run(&Names, page("a", 5, Some("m")), fetch, |_| Ok(()))
            .await
            .unwrap();
        assert_eq!(
            walked,
            Walked {
                pages: 2,
                key_pairs: 5
            }
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_repeated_marker_is_an_error_not_a_loop() {
        let requests = AtomicU64::new(0);
        let fetch = |_: String| {
            requests.fetch_add(1, Ordering::SeqCst);
            async { Ok(page("again", 2, Some("stuck"))) }
        };
        let e = marker_walk(2, Caps::default())
            .run(&Names, page("a", 2, Some("stuck")), fetch, |_| Ok(()))
            .await
            .unwrap_err();
        assert_eq!(e.kind, Kind::Protocol);
        assert!(e.message.contains("`stuck` twice"), "{e}");
        assert_eq!(requests.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_server_that_never_stops_meets_the_page_cap() {
        // One new key and a fresh marker on every page, for ever.
        let requests = AtomicU64::new(0);
        let fetch = |_: String| {
            let n = requests.fetch_add(1, Ordering::SeqCst);
            async move { Ok(page(&format!("k{n}"), 1, Some(&format!("m{n}")))) }
        };
        let e = marker_walk(1, caps(50, 1_000_000))
            .run(&Names, page("first", 1, Some("m")), fetch, |_| Ok(()))
            .await
            .unwrap_err();
        assert_eq!(e.kind, Kind::Protocol);
        assert!(e.message.contains("page cap (50 requests"), "{e}");
        assert!(e.hint.as_deref().unwrap().contains(MAX_PAGES_VAR), "{e:?}");
        // 50 pages: the first and 49 fetched.
        assert_eq!(requests.load(Ordering::SeqCst), 49);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_server_inventing_key_pairs_meets_the_key_pair_cap() {
        let requests = AtomicU64::new(0);
        let fetch = |_: String| {
            let n = requests.fetch_add(1, Ordering::SeqCst);
            async move { Ok(page(&format!("k{n}"), 10, Some(&format!("m{n}")))) }
        };
        let e = marker_walk(10, caps(1_000, 95))
            .run(&Names, page("first", 10, Some("m")), fetch, |_| Ok(()))
            .await
            .unwrap_err();
        assert!(e.message.contains("key-pair cap (95 per"), "{e}");
        assert!(
            e.hint.as_deref().unwrap().contains(MAX_KEY_PAIRS_VAR),
            "{e:?}"
        );
        assert_eq!(requests.load(Ordering::SeqCst), 9);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_bad_item_on_the_page_comes_before_a_guard_error() {
        let first = (
            vec![json!({"name": "a"}), json!({"nom": "b"})],
            Some("m".into()),
        );
        let fetch = |_: String| async { Ok(page("b", 2, None)) };
        let e = marker_walk(1, caps(1, 1_000))
            .run(&Names, first, fetch, |_| Ok(()))
            .await
            .unwrap_err();
        assert_eq!(e.message, "no name");
    }

    fn offset_walk(page_size: u32, caps: Caps) -> OffsetWalk<'static> {
        OffsetWalk {
            api: "Fake",
            total_name: "TotalCount",
            page_size,
            concurrency: 4,
            caps,
        }
    }

    /// A fake offset API over `total` items, reporting `claimed` as the total.
    fn offsets(
        total: u64,
        claimed: u64,
        page_size: u32,
        requests: &AtomicU64,
    ) -> impl Fn(u64) -> std::future::Ready<Result<OffsetPage<u64>>> + '_ {
        move |offset| {
            requests.fetch_add(1, Ordering::SeqCst);
            let end = (offset + u64::from(page_size)).min(total);
            std::future::ready(Ok(OffsetPage {
                total: claimed,
                items: (offset.min(end)..end).collect(),
            }))
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn an_offset_walk_reads_every_page_in_order() {
        let requests = AtomicU64::new(0);
        let mut out = Vec::new();
        let totals = offset_walk(10, Caps::default())
            .run(offsets(95, 95, 10, &requests), |mut p| {
                out.append(&mut p);
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(
            totals,
            Totals {
                first: 95,
                last: 95,
                changed: false
            }
        );
        assert_eq!(out, (0..95).collect::<Vec<_>>());
        assert_eq!(requests.load(Ordering::SeqCst), 10);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_short_page_ends_an_offset_walk_before_its_total() {
        let requests = AtomicU64::new(0);
        let mut n = 0;
        offset_walk(10, Caps::default())
            .run(offsets(25, 1_000, 10, &requests), |p| {
                n += p.len();
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(n, 25);
        // The stream stops at the short page (offset 20) instead of reading the 100 pages the
        // total claims: only the first page and a window of `concurrency` (refilled once as
        // offset 10 was handed on) were asked for.
        assert_eq!(requests.load(Ordering::SeqCst), 1 + 4 + 1);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_huge_total_is_refused_before_anything_is_scheduled() {
        let requests = AtomicU64::new(0);
        let e = offset_walk(100, Caps::default())
            .run(offsets(1_000, 9_999_999, 100, &requests), |_| Ok(()))
            .await
            .unwrap_err();
        assert_eq!(e.kind, Kind::Protocol);
        assert!(e.message.contains("TotalCount is 9999999"), "{e}");
        assert!(e.message.contains("key-pair cap (1000000 per"), "{e}");
        assert!(
            e.hint.as_deref().unwrap().contains(MAX_KEY_PAIRS_VAR),
            "{e:?}"
        );
        assert_eq!(requests.load(Ordering::SeqCst), 1);

        let e = offset_walk(100, Caps::default())
            .run(offsets(1_000, u64::MAX, 100, &requests), |_| Ok(()))
            .await
            .unwrap_err();
        assert!(e.message.contains("TotalCount"), "{e}");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_total_needing_too_many_pages_meets_the_page_cap() {
        let requests = AtomicU64::new(0);
        let e = offset_walk(1, caps(100, 1_000_000))
            .run(offsets(5_000, 5_000, 1, &requests), |_| Ok(()))
            .await
            .unwrap_err();
        assert!(e.message.contains("5000 requests"), "{e}");
        assert!(e.message.contains("page cap (100 requests"), "{e}");
        assert_eq!(requests.load(Ordering::SeqCst), 1);
        // Exactly at the cap is allowed.
        requests.store(0, Ordering::SeqCst);
        offset_walk(1, caps(100, 1_000_000))
            .run(offsets(100, 100, 1, &requests), |_| Ok(()))
            .await
            .unwrap();
        assert_eq!(requests.load(Ordering::SeqCst), 100);
    }

    #[test]
    fn caps_come_from_the_environment_or_default() {
        let none = |_: &str| None;
        assert_eq!(Caps::read(none).unwrap(), Caps::default());
        let set = |name: &str| {
            Some(
                if name == MAX_PAGES_VAR {
                    "20_000"
                } else {
                    " 5 "
                }
                .into(),
            )
        };
        assert_eq!(Caps::read(set).unwrap(), caps(20_000, 5));
        for bad in ["0", "-1", "lots"] {
            let e = Caps::read(|_: &str| Some(bad.to_string())).unwrap_err();
            assert_eq!(e.kind, Kind::Config);
            assert!(e.message.contains(MAX_PAGES_VAR), "{e}");
        }
    }
}
