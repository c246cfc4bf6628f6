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
    accounts: Mutex<Counters>,
    addresses: Mutex<Counters>,
}

impl LoginThrottle {
    /// Counters under `policy`.
    pub fn new(policy: ThrottlePolicy) -> Self {
        Self {
            policy,
            ..Self::default()
        }
    }

    /// Starts an attempt: `Err(wait)` when the account or the address must
    /// wait; otherwise the attempt is counted as a failure right away, so a
    /// burst of parallel attempts cannot all pass before any has failed.
    /// [`LoginThrottle::succeeded`] takes it back.
    pub fn begin(&self, account: &str, address: &str) -> Result<(), Duration> {
        let now = Instant::now();
        let window = self.policy.window;
        // Both maps stay locked from the check to the count (always in this
        // order), so the check and the count are one step.
        let (Ok(mut accounts), Ok(mut addresses)) = (self.accounts.lock(), self.addresses.lock())
        else {
            return Ok(());
        };
        let account_wait = wait(&mut accounts, account, self.policy.per_account, window, now);
        let address_wait = wait(
            &mut addresses,
            address,
            self.policy.per_address,
            window,
            now,
        );
        if let Some(wait) = account_wait.max(address_wait) {
            return Err(wait);
        }
        record(&mut accounts, account, now, window);
        record(&mut addresses, address, now, window);
        Ok(())
    }

    /// Takes back a successful attempt: the account's failures are
    /// forgotten, and the address is charged nothing for it.
    pub fn succeeded(&self, account: &str, address: &str) {
        if let Ok(mut accounts) = self.accounts.lock() {
            accounts.remove(account);
        }
        if let Ok(mut addresses) = self.addresses.lock()
            && let Some(attempts) = addresses.get_mut(address)
        {
            attempts.pop_back();
        }
    }
}

type Counters = HashMap<String, VecDeque<Instant>>;

fn wait(
    map: &mut Counters,
    key: &str,
    limit: usize,
    window: Duration,
    now: Instant,
) -> Option<Duration> {
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

fn record(map: &mut Counters, key: &str, now: Instant, window: Duration) {
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
        assert_eq!(throttle.begin("a", "1.1.1.1"), Ok(()));
        assert_eq!(throttle.begin("a", "1.1.1.1"), Ok(()));
        let wait = throttle.begin("a", "9.9.9.9").unwrap_err();
        assert!(wait <= Duration::from_secs(60) && wait > Duration::from_secs(50));
        assert_eq!(throttle.begin("b", "1.1.1.1"), Ok(()));
        assert!(throttle.begin("c", "1.1.1.1").is_err(), "address limit");
        throttle.succeeded("a", "9.9.9.9");
        assert_eq!(throttle.begin("a", "9.9.9.9"), Ok(()));
    }

    #[test]
    fn a_success_costs_the_address_nothing() {
        let throttle = LoginThrottle::new(ThrottlePolicy {
            per_account: 5,
            per_address: 2,
            window: Duration::from_secs(60),
        });
        for account in ["a", "b", "c", "d"] {
            assert_eq!(throttle.begin(account, "10.0.0.1"), Ok(()));
            throttle.succeeded(account, "10.0.0.1");
        }
    }
}
