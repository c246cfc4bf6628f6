//! Timestamps at the edge: stored as naive UTC, sent as RFC 3339 with `Z`.

use chrono::{DateTime, NaiveDateTime, Utc};

/// A stored UTC timestamp as the API sends it.
pub fn utc(stored: NaiveDateTime) -> DateTime<Utc> {
    stored.and_utc()
}
