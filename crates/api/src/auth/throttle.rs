//! Sign-in throttling: too many failures for one account or from one client
//! address within a window answer 429 with `Retry-After`, before the
//! password is even checked. Accounts are keyed by the username as typed
//! (normalised), so unknown usernames are throttled exactly like real ones.
//!
//! The counters live in memory: one server process is the deployment this
//! version supports; a restart forgets them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Limits on failed sign-ins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed per account within the window.
    pub per_account: usize,
    /// Failures allowed per client address within the window.
    pub per_address: usize,
    /// The window.
    pub window: Duration,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            per_account: 5,
            per_address: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// Bounds memory: beyond this many tracked keys, stale ones are dropped.
const MAX_TRACKED: usize = 100_000;

/// Failure counters per account and per address.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    accounts: Mutex<HashMap<String, VecDeque<Instant>>>,
    addresses: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// Counters under `policy`.
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// `Some(wait)` when the account or the address must wait before trying
    /// again.
    pub fn blocked(&self, account: &str, address: &str) -> Option<Duration> {
        let now = Instant::now();
        let window = self.policy.window;
        let account_wait = wait(
            &self.accounts,
            account,
            self.policy.per_account,
            window,
            now,
        );
        let address_wait = wait(
            &self.addresses,
            address,
            self.policy.per_address,
            window,
            now,
        );
        account_wait.max(address_wait)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, account: &str, address: &str) {
        let now = Instant::now();
        let window = self.policy.window;
        record(&self.accounts, account, now, window);
        record(&self.addresses, address, now, window);
    }

    /// Forgets an account's failures after it signs in.
    pub fn succeeded(&self, account: &str) {
        if let Ok(mut map) = self.accounts.lock() {
            map.remove(account);
        }
    }
}

fn wait(
    map: &Mutex<HashMap<String, VecDeque<Instant>>>,
    key: &str,
    limit: usize,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
    let mut map = map.lock().ok()?;
    let failures = map.get_mut(key)?;
    while failures
        .front()
        .is_some_and(|t| now.duration_since(*t) >= window)
    {
        failures.pop_front();
    }
    if failures.len() < limit {
        return None;
    }
    // The oldest failure leaving the window frees one attempt.
    let oldest = *failures.front()?;
    Some(window.saturating_sub(now.duration_since(oldest)))
}

fn record(
    map: &Mutex<HashMap<String, VecDeque<Instant>>>,
    key: &str,
    now: Instant,
    window: Duration,
) {
    let Ok(mut map) = map.lock() else { return };
    if map.len() >= MAX_TRACKED {
        map.retain(|_, failures| {
            failures
                .back()
                .is_some_and(|t| now.duration_since(*t) < window)
        });
    }
    let failures = map.entry(key.to_owned()).or_default();
    failures.push_back(now);
    // Only the most recent failures matter for any limit.
    while failures.len() > 64 {
        failures.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_per_account_and_per_address() {
        let throttle = LoginThrottle::new(ThrottlePolicy {
            per_account: 2,
            per_address: 3,
            window: Duration::from_secs(60),
        });
        assert_eq!(throttle.blocked("a", "1.1.1.1"), None);
        throttle.failed("a", "1.1.1.1");
        throttle.failed("a", "1.1.1.1");
        let wait = throttle.blocked("a", "9.9.9.9").unwrap();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert_eq!(throttle.blocked("b", "9.9.9.9"), None);
        throttle.failed("b", "1.1.1.1");
        assert!(throttle.blocked("c", "1.1.1.1").is_some(), "address limit");
        throttle.succeeded("a");
        assert_eq!(throttle.blocked("a", "9.9.9.9"), None);
    }
}
