//! Injected failures: each cloud module asks [`Faults::roll`] before answering and renders the
//! outcome in its own wire format (Huawei 429 `APIGW.0308`, Tencent HTTP 200
//! `RequestLimitExceeded`, Nova 503 …).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::dice::Dice;

#[derive(Debug, Clone, Default)]
pub struct FaultConfig {
    /// Fraction of requests answered as throttled (0.0–1.0).
    pub throttle_rate: f64,
    /// Fraction of requests answered with a server error (0.0–1.0).
    pub error_rate: f64,
    /// The first N requests fail with a server error, whatever the rates (deterministic tests).
    pub fail_first: u64,
    /// Seed for the fault dice, so a run is reproducible.
    pub seed: u64,
    /// Requests numbered in this range (from 0, in the order served) fail with a server error,
    /// whatever the rates: a later page failing, for tests of a walk that is already under way.
    pub fail_range: std::ops::Range<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Throttle,
    ServerError,
}

pub struct Faults {
    config: FaultConfig,
    dice: Mutex<Dice>,
    served: AtomicU64,
    injected: AtomicU64,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        Faults {
            dice: Mutex::new(Dice::new(config.seed)),
            config,
            served: AtomicU64::new(0),
            injected: AtomicU64::new(0),
        }
    }

    /// Decides this request's fate.
    pub fn roll(&self) -> Fault {
        let n = self.served.fetch_add(1, Ordering::SeqCst);
        let fault = if n < self.config.fail_first || self.config.fail_range.contains(&n) {
            Fault::ServerError
        } else {
            let x = self.next_f64();
            if x < self.config.throttle_rate {
                Fault::Throttle
            } else if x < self.config.throttle_rate + self.config.error_rate {
                Fault::ServerError
            } else {
                Fault::None
            }
        };
        if fault != Fault::None {
            self.injected.fetch_add(1, Ordering::SeqCst);
        }
        fault
    }

    /// Requests seen and faults injected so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.served.load(Ordering::SeqCst),
            self.injected.load(Ordering::SeqCst),
        )
    }

    fn next_f64(&self) -> f64 {
        self.dice.lock().unwrap_or_else(|e| e.into_inner()).unit()
    }
}
