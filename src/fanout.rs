//! Every selected profile and region at once: bounded concurrency (a global cap and a cap per
//! service host), results kept in a stable order, and each target's failure kept apart so one
//! failing profile never hides the others.

use std::collections::HashMap;
use std::future::Future;
use std::ops::ControlFlow;
use std::sync::Arc;

use futures::stream::{self, StreamExt};
use tokio::sync::Semaphore;

use crate::config::Target;
use crate::error::Result;
use crate::provider::{self, Context, Provider};

/// Queries in flight at once, over all targets.
pub const DEFAULT_CONCURRENCY: usize = 16;
/// Queries in flight at once against one service host (per profile endpoint or default host).
pub const PER_HOST_CONCURRENCY: usize = 4;

/// What one target answered.
pub struct Outcome<T> {
    pub target: Target,
    pub result: Result<T>,
}

impl<T> Outcome<T> {
    pub fn label(&self) -> String {
        match &self.target.region {
            Some(r) => format!("{} ({r})", self.target.profile.name),
            None => self.target.profile.name.clone(),
        }
    }
}

/// Runs `op` against every target's adapter, at most `max_concurrency` at once, and returns
/// the outcomes in target order. Errors are tagged with the profile, provider and region.
pub async fn run<T, F, Fut>(
    targets: Vec<Target>,
    ctx: &Context,
    max_concurrency: usize,
    op: F,
) -> Vec<Outcome<T>>
where
    F: Fn(Box<dyn Provider>) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let mut outcomes = Vec::with_capacity(targets.len());
    let collected: std::result::Result<(), std::convert::Infallible> =
        for_each(targets, ctx, max_concurrency, op, |o| {
            outcomes.push(o);
            Ok(ControlFlow::Continue(()))
        })
        .await;
    let Ok(()) = collected;
    outcomes
}

/// As [`run`], but hands each outcome to `on_outcome` as soon as it and every target before it
/// have answered, so a caller can write one target's key pairs and drop them while later
/// targets are still in flight. `on_outcome` stops the fan-out there, cancelling the queries
/// still running, when it has all it needs (`Break`: `--limit` reached) or fails (the reader
/// of stdout went away).
pub async fn for_each<T, E, F, Fut>(
    targets: Vec<Target>,
    ctx: &Context,
    max_concurrency: usize,
    op: F,
    mut on_outcome: impl FnMut(Outcome<T>) -> std::result::Result<ControlFlow<()>, E>,
) -> std::result::Result<(), E>
where
    F: Fn(Box<dyn Provider>) -> Fut,
    Fut: Future<Output = Result<T>> + Send + 'static,
    T: Send + 'static,
{
    let hosts: Arc<std::sync::Mutex<HashMap<String, Arc<Semaphore>>>> = Arc::default();
    let pending = crate::progress::Pending::start(targets.iter().map(label).collect());
    let op = &op;
    let pending_ref = &pending;
    let mut outcomes = std::pin::pin!(stream::iter(targets.into_iter().map(|target| {
        let host = host_semaphore(&hosts, &target);
        async move {
            let _permit = host.acquire_owned().await.ok();
            let result = match provider::build(&target.profile, target.region.as_deref(), ctx) {
                // Each target is its own task, so parsing and fingerprinting one cloud's
                // pages runs on another core while the others wait on the network.
                Ok(adapter) => {
                    let adapter = if target.every_region {
                        Box::new(EveryRegion {
                            inner: adapter,
                            label: label(&target),
                        })
                    } else {
                        adapter
                    };
                    let task = tokio::spawn(op(adapter));
                    // A target dropped unanswered (the fan-out stopped) stops querying.
                    let _cancel = AbortOnDrop(task.abort_handle());
                    match task.await {
                        Ok(result) => result,
                        Err(e) => Err(crate::error::Error::other(format!("internal error: {e}"))
                            .with_source(e)),
                    }
                }
                Err(e) => Err(e),
            };
            let result = result.map_err(|e| {
                e.in_profile(
                    &target.profile.name,
                    target.profile.provider.as_str(),
                    target.region.as_deref(),
                )
            });
            pending_ref.done(&label(&target));
            Outcome { target, result }
        }
    },))
    .buffered(max_concurrency.max(1)));
    let mut result = Ok(());
    while let Some(outcome) = outcomes.next().await {
        match on_outcome(outcome) {
            Ok(ControlFlow::Continue(())) => {}
            Ok(ControlFlow::Break(())) => break,
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    pending.finish();
    result
}

/// With `--all-regions`, each profile of a provider that has no fixed region list is asked
/// which regions it serves (OpenStack: its catalog), all of them at once, and its targets
/// become one per region. A profile that cannot be asked keeps its targets, whose listing then
/// reports why; so does one whose adapter lists none (Huawei ECS, one region per profile).
pub async fn discover_regions(targets: Vec<Target>, ctx: &Context) -> Vec<Target> {
    let mut profiles: Vec<&Target> = Vec::new();
    for t in &targets {
        let needs_asking = provider::registry::find(t.profile.provider.as_str())
            .is_some_and(|c| c.known_regions().is_empty());
        if needs_asking && !profiles.iter().any(|p| p.profile.name == t.profile.name) {
            profiles.push(t);
        }
    }
    let asked = profiles.iter().map(|t| async move {
        let regions = match provider::build(&t.profile, t.region.as_deref(), ctx) {
            Ok(adapter) => adapter.regions().await,
            Err(e) => Err(e),
        };
        let regions = regions.unwrap_or_else(|e| {
            crate::log::info(&format!(
                "profile {}: its regions could not be listed ({}); its own region is queried",
                t.profile.name, e.message
            ));
            Vec::new()
        });
        (t.profile.name.clone(), regions)
    });
    let found: HashMap<String, Vec<String>> = futures::future::join_all(asked)
        .await
        .into_iter()
        .filter(|(_, regions)| !regions.is_empty())
        .collect();
    let mut out = Vec::new();
    let mut expanded: Vec<String> = Vec::new();
    for t in targets {
        let Some(regions) = found.get(&t.profile.name) else {
            out.push(t);
            continue;
        };
        if expanded.contains(&t.profile.name) {
            continue;
        }
        expanded.push(t.profile.name.clone());
        out.extend(regions.iter().map(|r| Target {
            profile: t.profile.clone(),
            region: Some(r.clone()),
            every_region: true,
        }));
    }
    out
}

/// A target `--all-regions` made: when its region does not serve the API for this account
/// (not offered there, or not enabled), it answers with nothing and says so at `-v`, instead
/// of failing the run for a region nobody named.
struct EveryRegion {
    inner: Box<dyn Provider>,
    label: String,
}

impl EveryRegion {
    fn skipped(&self, e: &crate::error::Error) {
        crate::log::info(&format!(
            "{}: skipped, the region does not serve this account ({})",
            self.label, e.message
        ));
    }
}

#[async_trait::async_trait]
impl Provider for EveryRegion {
    async fn list_into(
        &self,
        query: &provider::ListQuery,
        sink: &mut dyn provider::PageSink,
    ) -> Result<()> {
        match self.inner.list_into(query, sink).await {
            Err(e) if e.region_unavailable => {
                self.skipped(&e);
                Ok(())
            }
            other => other,
        }
    }

    async fn show(&self, name: &str, query: &provider::ListQuery) -> Result<crate::model::KeyPair> {
        match self.inner.show(name, query).await {
            Err(e) if e.region_unavailable => {
                self.skipped(&e);
                Err(crate::error::Error::not_found(format!(
                    "key pair `{name}` not found (the region does not serve this account)"
                )))
            }
            other => other,
        }
    }

    async fn regions(&self) -> Result<Vec<String>> {
        self.inner.regions().await
    }
}

/// Aborts a spawned target's task when its handle is dropped (a detached task would go on
/// querying after nobody waits for it).
struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn label(t: &Target) -> String {
    match &t.region {
        Some(r) => format!("{}/{r}", t.profile.name),
        None => t.profile.name.clone(),
    }
}

/// Targets that reach the same service host share a semaphore: the profile's endpoint when set,
/// else the provider and region (which decide the default host).
fn host_semaphore(
    hosts: &std::sync::Mutex<HashMap<String, Arc<Semaphore>>>,
    t: &Target,
) -> Arc<Semaphore> {
    let key = match &t.profile.endpoint {
        Some(e) => e.clone(),
        None => format!(
            "{}:{}",
            t.profile.provider,
            t.region.as_deref().unwrap_or("")
        ),
    };
    let mut map = hosts.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(key)
        .or_insert_with(|| Arc::new(Semaphore::new(PER_HOST_CONCURRENCY)))
        .clone()
}
