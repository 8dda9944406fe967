//! Marker paging with one page in flight: page k's items are converted (and handed on, one
//! key pair at a time) while page k+1's request is on the wire, so a walk costs about one
//! round trip per page instead of a round trip plus the page's conversion (JSON → KeyPair and
//! local fingerprints, several ms per 1000 keys).
//!
//! The walk is one task, and the next page's request is a future inside it: nothing drives it
//! while the task converts. The conversion therefore works in small chunks, polls the next
//! page's request before each one (so it is started, and its reply read, as soon as possible)
//! and yields after each one (so the connection task behind the request can write it and the
//! I/O driver can run, whichever of the two workers picks them up).

use std::fmt;
use std::future::Future;
use std::ops::Range;
use std::task::Poll;

use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::error::Result;
use crate::provider::item::Key;

/// Items converted between two yields: about a millisecond of work, so a reply that arrives
/// mid-conversion waits at most that long to be read.
const CHUNK: usize = 50;

/// Lists a page's items with `prepare` (deferred until here; each item is parsed as it is
/// converted), converts them in order with `convert` and hands each to `emit` on its own
/// (so a page is never held whole as key pairs), while driving `next` (the next page's
/// request), which is started and put on the wire before any of that work.
///
/// An error here wins and drops `next` unfinished: the walk would have stopped there before
/// sending it. Otherwise `next`'s own outcome comes back, for the caller to fail the listing
/// with after this page if it is an error.
pub(crate) async fn convert_while<I, T, N, F>(
    prepare: impl FnOnce() -> Vec<I>,
    mut convert: impl FnMut(&I) -> Result<T>,
    mut emit: impl FnMut(Vec<T>) -> Result<()>,
    next: F,
) -> Result<N>
where
    F: Future<Output = N>,
{
    let mut next = std::pin::pin!(next);
    let mut done = poll_once(next.as_mut()).await;
    // The connection task writes the request when this task yields.
    tokio::task::yield_now().await;
    let items = prepare();
    for chunk in items.chunks(CHUNK) {
        if done.is_none() {
            done = poll_once(next.as_mut()).await;
        }
        convert_chunk(chunk, &mut convert, &mut emit)?;
        tokio::task::yield_now().await;
    }
    Ok(match done {
        Some(n) => n,
        None => next.await,
    })
}

/// The last page: `items` converted and handed to `emit` one at a time, as [`convert_while`]
/// does with nothing to drive.
pub(crate) fn convert_page<I, T>(
    items: &[I],
    convert: impl FnMut(&I) -> Result<T>,
    emit: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<()> {
    // Nothing to poll between chunks here, so the page is one chunk.
    convert_chunk(items, convert, emit)
}

/// One chunk of a page, converted and handed to `emit` item by item: each key pair is rendered
/// (and its parsed fields and scratch strings freed) before the next is built, so the allocator
/// hands the same few blocks back from its thread cache instead of a chunk's worth of fresh
/// ones.
fn convert_chunk<I, T>(
    chunk: &[I],
    mut convert: impl FnMut(&I) -> Result<T>,
    mut emit: impl FnMut(Vec<T>) -> Result<()>,
) -> Result<()> {
    for item in chunk {
        emit(vec![convert(item)?])?;
    }
    Ok(())
}

/// Polls `f` once with this task's waker (so the task is woken when `f` can progress again, and
/// the next chunk boundary polls it); `None` while it is pending.
async fn poll_once<N>(mut f: std::pin::Pin<&mut impl Future<Output = N>>) -> Option<N> {
    std::future::poll_fn(|cx| match f.as_mut().poll(cx) {
        Poll::Ready(n) => Poll::Ready(Some(n)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

/// What a list reply's walk needs before its items are built: each item's place in the body
/// (their count, and the last one for a Nova marker) and the small paging fields (`page_info`,
/// `keypairs_links`), from a scan that skips over the items without building them. It reads
/// only what `serde_json::Value` reads the same way (an object whose `keypairs` is an array, a
/// later duplicate winning); the rest (bad JSON, odd shapes) fails the scan and gets the full
/// parse and its errors. The items themselves are parsed one by one as they are converted
/// ([`crate::provider::item::Item`]), so a page is never held whole as parsed fields.
pub(crate) struct ListHead {
    pub items: Vec<Range<usize>>,
    pub page_info: Option<Value>,
    pub links: Option<Value>,
}

impl ListHead {
    /// `None` for a body the scan does not take (see [`ListHead`]).
    pub fn scan(body: &[u8]) -> Option<ListHead> {
        let raw: RawHead<'_> = crate::json::from_bytes(body).ok()?;
        let base = body.as_ptr() as usize;
        let items = raw
            .items
            .iter()
            .map(|item| {
                let text = item.get();
                let start = (text.as_ptr() as usize).checked_sub(base)?;
                (start + text.len() <= body.len()).then_some(start..start + text.len())
            })
            .collect::<Option<_>>()?;
        Some(ListHead {
            items,
            page_info: raw.page_info,
            links: raw.links,
        })
    }

    /// The last item as `serde_json` reads it (a Nova walk's next marker is its name).
    pub fn last_item(&self, body: &[u8]) -> Option<Value> {
        crate::json::from_bytes(body.get(self.items.last()?.clone())?).ok()
    }
}

/// [`ListHead`] as read: the items borrowed from the body, unparsed.
struct RawHead<'a> {
    items: Vec<&'a RawValue>,
    page_info: Option<Value>,
    links: Option<Value>,
}

impl<'de> Deserialize<'de> for RawHead<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawHead<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list reply object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> std::result::Result<RawHead<'de>, A::Error> {
                let (mut items, mut page_info, mut links) = (None, None, None);
                // Later duplicates win, as in serde_json's own maps.
                while let Some(key) = map.next_key::<Key>()? {
                    match key.as_str() {
                        "keypairs" => items = Some(map.next_value::<Vec<&'de RawValue>>()?),
                        "page_info" => page_info = Some(map.next_value::<Value>()?),
                        "keypairs_links" => links = Some(map.next_value::<Value>()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let items = items.ok_or_else(|| serde::de::Error::missing_field("keypairs"))?;
                Ok(RawHead {
                    items,
                    page_info,
                    links,
                })
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    #[tokio::test(flavor = "current_thread")]
    async fn the_next_request_runs_during_the_conversion_and_order_is_kept() {
        let items: Vec<usize> = (0..1000).collect();
        let converted = Arc::new(AtomicUsize::new(0));
        let seen = converted.clone();
        let progress = converted.clone();
        // Stands in for the next page's request: records how far the conversion was when it
        // first ran. On a current-thread runtime that is only possible if the converter yields.
        let next = async move {
            let at_start = seen.load(Ordering::SeqCst);
            tokio::task::yield_now().await;
            at_start
        };
        let mut out = Vec::new();
        let started_at = convert_while(
            || items.clone(),
            |i| {
                progress.fetch_add(1, Ordering::SeqCst);
                Ok(i * 2)
            },
            |mut chunk| {
                assert!(chunk.len() <= CHUNK);
                out.append(&mut chunk);
                Ok(())
            },
            next,
        )
        .await
        .unwrap();
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert_eq!(
            started_at, 0,
            "the next request starts before any conversion"
        );
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_conversion_error_wins_over_the_next_page() {
        let items = [1, 2, 3];
        let next = async { Err::<(), Error>(Error::other("page 2 failed")) };
        let e = convert_while(
            || items.to_vec(),
            |&i| {
                if i == 2 {
                    Err(Error::protocol("bad item"))
                } else {
                    Ok(i)
                }
            },
            |_| Ok(()),
            next,
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("bad item"), "{e}");
    }

    #[test]
    fn the_scan_reads_what_the_full_parse_reads_or_nothing() {
        let body = br#"{"keypairs":[{"keypair":{"name":"a","public_key":"x"}},{"name":"b"},{"keypair":{"nom":"c"}}],
            "page_info":{"next_marker":"m"},"keypairs_links":[{"rel":"next"}],"other":[1,{"2":3}]}"#;
        let head = ListHead::scan(body).expect("an ordinary reply");
        let full: Value = serde_json::from_slice(body).unwrap();
        let items: Vec<Value> = head
            .items
            .iter()
            .map(|r| serde_json::from_slice(&body[r.clone()]).unwrap())
            .collect();
        assert_eq!(Some(&Value::Array(items)), full.get("keypairs"));
        assert_eq!(head.last_item(body).as_ref(), full["keypairs"].get(2));
        assert_eq!(head.page_info.as_ref(), full.get("page_info"));
        assert_eq!(head.links.as_ref(), full.get("keypairs_links"));
        // Odd items are the converter's to refuse, as they are after the full parse.
        let odd = br#"{"keypairs":[["a"], {"keypair":null}, 3]}"#;
        assert_eq!(ListHead::scan(odd).map(|h| h.items.len()), Some(3));
        // A later `keypairs` wins, as in `Value`.
        let twice = br#"{"keypairs":[{"name":"x"}],"keypairs":[]}"#;
        assert_eq!(ListHead::scan(twice).map(|h| h.items.len()), Some(0));
        // Shapes the full parse reads differently, or not at all: not scanned.
        for odd in [
            &br#"[[{"name":"a"}]]"#[..],
            br#"{"keypairs":{"name":"a"}}"#,
            br#"{"keypairs":null}"#,
            br#"{"page_info":{}}"#,
            br#"{"keypairs":[]"#,
        ] {
            assert!(
                ListHead::scan(odd).is_none(),
                "{}",
                String::from_utf8_lossy(odd)
            );
        }
    }
}
