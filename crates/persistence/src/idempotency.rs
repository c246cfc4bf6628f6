//! Stored first responses of creates sent with an `Idempotency-Key`, so a
//! retry over a flaky mobile network replays the response instead of
//! creating a second record.
//!
//! A key is claimed in its own short transaction (so a concurrent duplicate
//! sees it as in progress), and completed in the *same* transaction as the
//! record it created: either both exist or neither does.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::DbConn;
use crate::clock::now;
use crate::error::StoreError;
use crate::schema::idempotency_keys::dsl;

/// How long a key is remembered (architecture.md: 24 h).
pub const KEY_TTL: Duration = Duration::hours(24);
/// How long a claimed key stays locked before a retry may take it over (the
/// first request died without completing or releasing it).
pub const LOCK_TTL: Duration = Duration::seconds(60);

const IN_PROGRESS: &str = "in_progress";
const COMPLETED: &str = "completed";

/// Who sent the key and which key: keys are private to their sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRef {
    /// The caller (empty until identity lands).
    pub principal: String,
    /// The client's `Idempotency-Key`.
    pub key: String,
    /// Method, path and a hash of the request body.
    pub fingerprint: String,
}

/// A response as it was first sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status code.
    pub status: u16,
    /// Headers worth replaying (`Location`, `ETag`, `Content-Type`).
    pub headers: Vec<(String, String)>,
    /// The body, as sent.
    pub body: String,
}

/// The outcome of presenting a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First use (or an abandoned earlier one): go ahead and create.
    Claimed,
    /// Already done: answer with this response and create nothing.
    Replay(StoredResponse),
    /// The first request with this key is still running.
    InProgress,
    /// The key was used for a different request.
    Mismatch,
}

#[derive(Queryable)]
struct KeyRow {
    id: i64,
    fingerprint: String,
    state: String,
    response_status: Option<i32>,
    response_headers: Option<String>,
    response_body: Option<String>,
    locked_until: NaiveDateTime,
    expires_at: NaiveDateTime,
}

/// Presents a key; run it inside a write transaction of its own.
pub fn claim(conn: &mut DbConn, key: &KeyRef) -> Result<Claim, StoreError> {
    let now = now();
    let existing = dsl::idempotency_keys
        .filter(dsl::principal.eq(&key.principal))
        .filter(dsl::idempotency_key.eq(&key.key))
        .select((
            dsl::id,
            dsl::fingerprint,
            dsl::state,
            dsl::response_status,
            dsl::response_headers,
            dsl::response_body,
            dsl::locked_until,
            dsl::expires_at,
        ))
        .first::<KeyRow>(conn)
        .optional()?;
    match existing {
        Some(row) if row.expires_at <= now => {
            diesel::delete(dsl::idempotency_keys.find(row.id)).execute(conn)?;
        }
        Some(row) if row.fingerprint != key.fingerprint => return Ok(Claim::Mismatch),
        Some(row) if row.state == COMPLETED => return replay(row),
        Some(row) if row.locked_until > now => return Ok(Claim::InProgress),
        Some(row) => {
            // Abandoned by a request that died: take it over, unless a
            // concurrent retry just did.
            let taken = diesel::update(
                dsl::idempotency_keys
                    .find(row.id)
                    .filter(dsl::locked_until.le(now)),
            )
            .set(dsl::locked_until.eq(now + LOCK_TTL))
            .execute(conn)?;
            return Ok(if taken == 1 {
                Claim::Claimed
            } else {
                Claim::InProgress
            });
        }
        None => {}
    }
    let insert = diesel::insert_into(dsl::idempotency_keys)
        .values((
            dsl::principal.eq(&key.principal),
            dsl::idempotency_key.eq(&key.key),
            dsl::fingerprint.eq(&key.fingerprint),
            dsl::state.eq(IN_PROGRESS),
            dsl::locked_until.eq(now + LOCK_TTL),
            dsl::created_at.eq(now),
            dsl::expires_at.eq(now + KEY_TTL),
        ))
        .on_conflict_do_nothing();
    // A concurrent request with the same key may have inserted it since we
    // looked: on PostgreSQL the insert waits for that request's commit and
    // then does nothing. (`ON CONFLICT` does not compile through the
    // MultiConnection enum, hence one branch per backend.)
    let inserted = match conn {
        DbConn::Pg(pg) => insert.execute(pg)?,
        DbConn::Sqlite(sqlite) => insert.execute(sqlite)?,
    };
    Ok(if inserted == 1 {
        Claim::Claimed
    } else {
        Claim::InProgress
    })
}

fn replay(row: KeyRow) -> Result<Claim, StoreError> {
    let status = row
        .response_status
        .and_then(|s| u16::try_from(s).ok())
        .ok_or_else(|| StoreError::Internal("completed key without a status".into()))?;
    let headers = match row.response_headers {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| StoreError::Internal(format!("stored headers unreadable: {e}")))?,
        None => Vec::new(),
    };
    Ok(Claim::Replay(StoredResponse {
        status,
        headers,
        body: row.response_body.unwrap_or_default(),
    }))
}

/// Stores the response of a claimed key; call it in the transaction that
/// created the record.
pub fn complete(
    conn: &mut DbConn,
    key: &KeyRef,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    let headers = serde_json::to_string(&response.headers)
        .map_err(|e| StoreError::Internal(format!("headers not serialisable: {e}")))?;
    diesel::update(
        dsl::idempotency_keys
            .filter(dsl::principal.eq(&key.principal))
            .filter(dsl::idempotency_key.eq(&key.key)),
    )
    .set((
        dsl::state.eq(COMPLETED),
        dsl::response_status.eq(Some(i32::from(response.status))),
        dsl::response_headers.eq(Some(headers)),
        dsl::response_body.eq(Some(&response.body)),
    ))
    .execute(conn)?;
    Ok(())
}

/// Forgets a claimed key whose request failed, so a retry can succeed.
pub fn release(conn: &mut DbConn, key: &KeyRef) -> Result<(), StoreError> {
    diesel::delete(
        dsl::idempotency_keys
            .filter(dsl::principal.eq(&key.principal))
            .filter(dsl::idempotency_key.eq(&key.key))
            .filter(dsl::state.eq(IN_PROGRESS)),
    )
    .execute(conn)?;
    Ok(())
}

/// Deletes expired keys; returns how many.
pub fn purge_expired(conn: &mut DbConn) -> Result<usize, StoreError> {
    Ok(diesel::delete(dsl::idempotency_keys.filter(dsl::expires_at.le(now()))).execute(conn)?)
}
