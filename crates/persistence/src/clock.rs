//! Timestamps as the database stores them.

use chrono::{NaiveDateTime, Timelike, Utc};

/// Now, in UTC, cut to microseconds: PostgreSQL keeps microseconds and SQLite
/// keeps what it is given, so both return exactly what was written.
pub fn now() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    let micros = now.nanosecond() / 1_000 * 1_000;
    now.with_nanosecond(micros).unwrap_or(now)
}
