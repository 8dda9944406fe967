//! A local emulator of the key pair APIs keyctl speaks, on one loopback port:
//!
//! | path | API | module |
//! |---|---|---|
//! | `GET /v3/{project_id}/keypairs[/{name}]`, `GET /v3/projects` | Huawei KPS v3 + IAM project lookup, AK/SK verified | [`huawei`] |
//! | `POST /v3/auth/tokens`, `GET /v3/role_assignments`, `GET /v2.1[/…]/os-keypairs[/{name}]`, `GET /`, `GET /v2.1/` | Keystone v3 + Nova v2.1 (token or Huawei AK/SK, i.e. ECS) | [`nova`] |
//! | `POST /` | Tencent CVM API 3.0 `DescribeKeyPairs`, TC3 verified | [`tencent`] |
//!
//! [`proxy`] adds an HTTP and a SOCKS5 proxy, for tests of keyctl behind one.
//!
//! It speaks the real wire formats (shapes, paging, error bodies) and verifies request
//! signatures independently of keyctl's signers, so a signing bug fails a test. Used by
//! keyctl's tests in-process ([`Emulator::start`]), by the README demo and by bench/ through the
//! `keyctl-emulator` binary.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub mod dice;
pub mod faults;
pub mod huawei;
pub mod keys;
pub mod mangle;
pub mod nova;
pub mod proxy;
pub mod tencent;

/// Everything the emulator serves. Each cloud's part has its own config with sensible defaults
/// (fixed demo credentials, a few generated key pairs).
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The least time from a request's arrival to its reply (a model of a real network in
    /// benchmarks); the reply is built within it.
    pub latency: Duration,
    /// Injected failures (throttling, 5xx) shared by every cloud; each renders them its own way.
    pub faults: faults::FaultConfig,
    /// Damaged replies (off unless its rate is above 0), for tests of keyctl's robustness.
    pub mangle: mangle::MangleConfig,
    pub huawei: huawei::HuaweiConfig,
    pub nova: nova::NovaConfig,
    pub tencent: tencent::TencentConfig,
}

/// Shared state of a running emulator.
pub struct State {
    pub config: Config,
    pub faults: faults::Faults,
    pub mangler: mangle::Mangler,
    pub huawei: huawei::HuaweiState,
    pub nova: nova::NovaState,
    pub tencent: tencent::TencentState,
}

pub type AppState = Arc<State>;

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    pub addr: SocketAddr,
    state: AppState,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Emulator {
    /// Starts on `127.0.0.1` with an ephemeral port, on its own thread and runtime, so that
    /// synchronous tests (which run the keyctl binary) can use it.
    pub fn start(config: Config) -> Emulator {
        Self::start_on(config, 0).expect("emulator failed to start")
    }

    /// Starts on `127.0.0.1:port` (0 = any free port).
    pub fn start_on(config: Config, port: u16) -> std::io::Result<Emulator> {
        let state = Arc::new(State::new(config));
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let thread = std::thread::Builder::new()
            .name("keyctl-emulator".into())
            .spawn(move || {
                // One thread: a request's work is small and mostly waiting (the hold), and
                // handing tasks between workers costs more CPU than the requests themselves,
                // CPU the benchmark's emulators take from the cores keyctl is timed on.
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("emulator runtime");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                    let _ = axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            let _ = rx.await;
                        })
                        .await;
                });
            })?;
        Ok(Emulator {
            addr,
            state,
            shutdown: Some(tx),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`: what a keyctl profile's `endpoint` is set to.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Blocks until the server stops (for the binary).
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl State {
    pub fn new(config: Config) -> State {
        State {
            faults: faults::Faults::new(config.faults.clone()),
            mangler: mangle::Mangler::new(config.mangle.clone()),
            huawei: huawei::HuaweiState::new(&config.huawei),
            nova: nova::NovaState::new(&config.nova),
            tencent: tencent::TencentState::new(&config.tencent),
            config,
        }
    }
}

/// A keyctl config with profiles hw, hw-ecs, os and tc for the emulator at `url` serving
/// `config`: what `keyctl-emulator --write-config` writes, and what tests start from. The
/// credentials are the emulator's fixed demo ones, so writing them inline is harmless; the
/// file is still written 0600 because keyctl warns otherwise.
pub fn keyctl_config(url: &str, config: &Config) -> String {
    let hw = &config.huawei;
    let tc = &config.tencent;
    format!(
        r#"# Written by keyctl-emulator for the emulator at {url} (throwaway demo credentials).

[profiles.hw]
provider = "huawei"
region = "{hw_region}"
endpoint = "{url}"
project_id = "{hw_project}"
access_key = "{hw_ak}"
secret_key = "{hw_sk}"

[profiles.hw-ecs]
provider = "huawei-ecs"
region = "{hw_region}"
endpoint = "{url}"
project_id = "{hw_project}"
access_key = "{hw_ak}"
secret_key = "{hw_sk}"

# The compute endpoint comes from the emulator's Keystone catalog.
[profiles.os]
provider = "openstack"
auth_url = "{url}/v3"
username = "{os_user}"
password = "{os_password}"
user_domain_name = "{os_domain}"
project_name = "{os_project}"
project_domain_name = "{os_domain}"
region = "{os_region}"

[profiles.tc]
provider = "tencent"
region = "ap-guangzhou"
endpoint = "{url}"
secret_id = "{tc_id}"
secret_key = "{tc_key}"
"#,
        hw_region = hw.region,
        hw_project = hw.project_id,
        hw_ak = hw.access_key,
        hw_sk = hw.secret_key,
        os_user = nova::ADMIN_NAME,
        os_password = nova::ADMIN_PASSWORD,
        os_domain = nova::DOMAIN_NAME,
        os_project = nova::PROJECT_NAME,
        os_region = config.nova.region,
        tc_id = tc.secret_id,
        tc_key = tc.secret_key,
    )
}

/// Waits until `deadline`, to the microsecond. Not tokio's timer alone: it ticks in whole
/// milliseconds and wakes up to one late, and the benchmark would count that lateness, on
/// every round trip, against keyctl. A timerfd (a kernel high-resolution timer
/// that the runtime's epoll watches) is as precise as a thread's sleep without a thread per
/// request; where one cannot be made, tokio's timer stands in.
async fn hold_until(deadline: std::time::Instant) {
    let left = deadline.saturating_duration_since(std::time::Instant::now());
    if left.is_zero() {
        return;
    }
    if precise_sleep(left).await.is_err() {
        tokio::time::sleep_until(deadline.into()).await;
    }
}

#[cfg(target_os = "linux")]
async fn precise_sleep(duration: Duration) -> std::io::Result<()> {
    use rustix::time::{
        timerfd_create, timerfd_settime, Itimerspec, TimerfdClockId, TimerfdFlags,
        TimerfdTimerFlags, Timespec,
    };
    let timer = timerfd_create(
        TimerfdClockId::Monotonic,
        TimerfdFlags::NONBLOCK | TimerfdFlags::CLOEXEC,
    )?;
    let at = Itimerspec {
        it_interval: Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        },
        it_value: Timespec {
            tv_sec: duration.as_secs() as _,
            tv_nsec: duration.subsec_nanos() as _,
        },
    };
    timerfd_settime(&timer, TimerfdTimerFlags::empty(), &at)?;
    // SAFETY: `register` asks that the descriptor stay open and the same for the AsyncFd's
    // lifetime; the AsyncFd owns the OwnedFd, which closes it only when dropped with it.
    let timer =
        unsafe { tokio::io::unix::AsyncFd::register(timer) }.map_err(|e| e.into_parts().1)?;
    loop {
        let mut ready = timer.readable().await?;
        // The expiration count (8 bytes); WouldBlock means a wake-up without an expiry.
        match rustix::io::read(timer.get_ref(), &mut [0u8; 8]) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::AGAIN) => ready.clear_ready(),
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(not(target_os = "linux"))]
async fn precise_sleep(_: Duration) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

/// All routes. `/` is shared: `GET` is Nova's version list, `POST` is Tencent's API.
pub fn router(state: AppState) -> Router {
    let latency = state.config.latency;
    let mut routes = Router::new()
        .route(
            "/",
            axum::routing::get(nova::versions_root).post(tencent::api),
        )
        .merge(huawei::routes())
        .merge(nova::routes());
    if state.mangler.enabled() {
        // Inside the hold: a damaged reply still takes the latency. Only added when on, so
        // the benchmarks' emulators do no extra work per reply.
        let state = state.clone();
        routes = routes.layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let state = state.clone();
                async move {
                    let what = format!("{} {}", req.method(), req.uri());
                    let reply = next.run(req).await;
                    state.mangler.apply(&what, reply).await
                }
            },
        ));
    }
    routes
        .layer(axum::middleware::from_fn(
            move |req, next: axum::middleware::Next| async move {
                // The reply is built first and held until `latency` has passed since the
                // request came in: a round trip costs the latency, as the benchmark's floor
                // counts it, and the emulator's own work (a 1,000-item page is ~1 ms of JSON)
                // hides inside it instead of being added on top and counted against the client.
                let arrived = std::time::Instant::now();
                let reply = next.run(req).await;
                hold_until(arrived + latency).await;
                reply
            },
        ))
        .with_state(state)
}
