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

use std::future::Future;
use std::task::Poll;

use crate::error::Result;

/// Items converted between two yields: about a millisecond of work, so a reply that arrives
/// mid-conversion waits at most that long to be read.
const CHUNK: usize = 50;

/// Converts a page's `items` in order with `convert` and hands each to `emit` on its own (so a
/// page is never held whole as key pairs), while driving `next` (the next page's request),
/// which is started and put on the wire before any of that work.
///
/// An error here wins and drops `next` unfinished: the walk would have stopped there before
/// sending it. Otherwise `next`'s own outcome comes back, for the caller to fail the listing
/// with after this page if it is an error.
pub(crate) async fn convert_while<I, T, N, F>(
    items: &[I],
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
            &items,
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
            &items,
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
}
