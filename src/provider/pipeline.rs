//! Marker paging with one page in flight: page k's items are converted while page k+1's request
//! is on the wire, so a walk costs about one round trip per page instead of a round trip plus
//! the page's conversion (JSON → KeyPair and local fingerprints, ~20 ms per 1000 keys).
//!
//! keyctl runs on a current-thread runtime: nothing moves unless the converting task yields.
//! The conversion therefore works in small chunks, polls the next page's request before each
//! one (so it is started, and its reply read, as soon as possible) and yields after each one
//! (so the connection task behind the request can write it and the I/O driver can run).

use std::future::Future;
use std::task::Poll;

use crate::error::Result;

/// Items converted between two yields: about a millisecond of work, so a reply that arrives
/// mid-conversion waits at most that long to be read.
const CHUNK: usize = 50;

/// Converts `items` in order with `convert` while driving `next` (the next page's request).
///
/// A conversion error wins and drops `next` unfinished: the walk would have stopped there before
/// sending it. Otherwise `next`'s own outcome comes back beside the converted page, for the
/// caller to fail the listing with after this page if it is an error.
pub(crate) async fn convert_while<I, T, N, F>(
    items: &[I],
    mut convert: impl FnMut(&I) -> Result<T>,
    next: F,
) -> Result<(Vec<T>, N)>
where
    F: Future<Output = N>,
{
    let mut next = std::pin::pin!(next);
    let mut done: Option<N> = None;
    let mut out = Vec::with_capacity(items.len());
    for chunk in items.chunks(CHUNK) {
        if done.is_none() {
            // Polled with this task's waker: when the request needs to make progress again,
            // the task is woken, and the next chunk boundary polls it.
            done = std::future::poll_fn(|cx| match next.as_mut().poll(cx) {
                Poll::Ready(n) => Poll::Ready(Some(n)),
                Poll::Pending => Poll::Ready(None),
            })
            .await;
        }
        for item in chunk {
            out.push(convert(item)?);
        }
        tokio::task::yield_now().await;
    }
    let next = match done {
        Some(n) => n,
        None => next.await,
    };
    Ok((out, next))
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
        let (out, started_at) = convert_while(
            &items,
            |i| {
                progress.fetch_add(1, Ordering::SeqCst);
                Ok(i * 2)
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
            next,
        )
        .await
        .unwrap_err();
        assert!(e.message.contains("bad item"), "{e}");
    }
}
