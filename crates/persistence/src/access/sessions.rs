//! Sign-in sessions and their rotating refresh tokens. A session is one
//! refresh-token family: each token is used once, and presenting a used one
//! again (a stolen copy, or a replay) revokes the whole family (RFC 9700 §4.14).

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{refresh_tokens, sessions};
use crate::{DbConn, StoreError, clock};

/// Who a session belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// A staff account.
    Staff(i64),
    /// A resident (WeChat).
    Resident(i64),
}

/// Starts a session whose first refresh token has hash `token_hash`;
/// returns the session id. The session (and so every token of it) ends
/// after `lifetime` at the latest.
pub fn start(
    conn: &mut DbConn,
    subject: Subject,
    token_hash: &str,
    lifetime: Duration,
) -> Result<i64, StoreError> {
    let now = clock::now();
    let (user_id, resident_id) = match subject {
        Subject::Staff(id) => (Some(id), None),
        Subject::Resident(id) => (None, Some(id)),
    };
    let session_id: i64 = diesel::insert_into(sessions::table)
        .values((
            sessions::user_id.eq(user_id),
            sessions::resident_id.eq(resident_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(now + lifetime),
        ))
        .returning(sessions::id)
        .get_result(conn)?;
    add_token(conn, session_id, token_hash, now + lifetime)?;
    Ok(session_id)
}

fn add_token(
    conn: &mut DbConn,
    session_id: i64,
    token_hash: &str,
    expires_at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::token_hash.eq(token_hash),
            refresh_tokens::created_at.eq(clock::now()),
            refresh_tokens::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// What presenting a refresh token led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rotation {
    /// The token was good: it is now used, and `new_hash` replaces it.
    Rotated {
        /// The session (unchanged).
        session_id: i64,
        /// Whose it is.
        subject: Subject,
    },
    /// The token had been used before: the whole session is now revoked.
    /// The caller must commit this outcome, then refuse the request.
    Reused {
        /// The revoked session.
        session_id: i64,
    },
    /// Unknown, expired, or of an ended session.
    Invalid,
}

/// Exchanges the refresh token with hash `presented` for one with hash
/// `new_hash` in the same session.
pub fn rotate(
    conn: &mut DbConn,
    presented: &str,
    new_hash: &str,
    idle_lifetime: Duration,
) -> Result<Rotation, StoreError> {
    let now = clock::now();
    let found: Option<(i64, NaiveDateTime, Option<NaiveDateTime>)> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(presented))
        .select((
            refresh_tokens::session_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
        ))
        .first(conn)
        .optional()?;
    let Some((session_id, expires_at, used_at)) = found else {
        return Ok(Rotation::Invalid);
    };
    if used_at.is_some() {
        revoke(conn, session_id)?;
        return Ok(Rotation::Reused { session_id });
    }
    let session: Option<(Option<i64>, Option<i64>, NaiveDateTime)> = sessions::table
        .find(session_id)
        .filter(sessions::revoked_at.is_null())
        .select((
            sessions::user_id,
            sessions::resident_id,
            sessions::expires_at,
        ))
        .first(conn)
        .optional()?;
    let subject = match session {
        Some((Some(user), _, ends)) if ends > now && expires_at > now => Subject::Staff(user),
        Some((_, Some(resident), ends)) if ends > now && expires_at > now => {
            Subject::Resident(resident)
        }
        _ => return Ok(Rotation::Invalid),
    };
    // Marking the token used only if it still is unused makes two
    // concurrent refreshes with one token end in one success and one reuse.
    let marked = diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(presented))
            .filter(refresh_tokens::used_at.is_null()),
    )
    .set(refresh_tokens::used_at.eq(Some(now)))
    .execute(conn)?;
    if marked == 0 {
        revoke(conn, session_id)?;
        return Ok(Rotation::Reused { session_id });
    }
    let session_ends = sessions::table
        .find(session_id)
        .select(sessions::expires_at)
        .first::<NaiveDateTime>(conn)?;
    add_token(
        conn,
        session_id,
        new_hash,
        (now + idle_lifetime).min(session_ends),
    )?;
    Ok(Rotation::Rotated {
        session_id,
        subject,
    })
}

/// The session a refresh token belongs to, if the token is known.
pub fn session_of_token(conn: &mut DbConn, token_hash: &str) -> Result<Option<i64>, StoreError> {
    Ok(refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .select(refresh_tokens::session_id)
        .first(conn)
        .optional()?)
}

/// Ends a session: its refresh tokens and access tokens stop working.
pub fn revoke(conn: &mut DbConn, session_id: i64) -> Result<(), StoreError> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(clock::now())))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of a staff member except `keep` (after a password
/// change, or when the account is deactivated).
pub fn revoke_all_of_user(
    conn: &mut DbConn,
    user_id: i64,
    keep: Option<i64>,
) -> Result<(), StoreError> {
    diesel::update(
        sessions::table
            .filter(sessions::user_id.eq(user_id))
            .filter(sessions::id.ne(keep.unwrap_or(0)))
            .filter(sessions::revoked_at.is_null()),
    )
    .set(sessions::revoked_at.eq(Some(clock::now())))
    .execute(conn)?;
    Ok(())
}

/// How long an ended session is kept (for investigations that follow a
/// revocation) before its rows are purged.
pub const ENDED_SESSION_RETENTION_DAYS: i64 = 1;

/// Deletes sessions that ended (expired or revoked) more than
/// [`ENDED_SESSION_RETENTION_DAYS`] ago, with their refresh tokens; live
/// sessions keep every token, used ones included, so a replay is still
/// recognised. Returns how many sessions went.
pub fn purge_ended(conn: &mut DbConn) -> Result<usize, StoreError> {
    let cutoff = clock::now() - Duration::days(ENDED_SESSION_RETENTION_DAYS);
    let ended = sessions::table
        .filter(
            sessions::expires_at
                .le(cutoff)
                .or(sessions::revoked_at.le(cutoff)),
        )
        .select(sessions::id);
    diesel::delete(refresh_tokens::table.filter(refresh_tokens::session_id.eq_any(ended)))
        .execute(conn)?;
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::expires_at
                .le(cutoff)
                .or(sessions::revoked_at.le(cutoff)),
        ),
    )
    .execute(conn)?)
}
