//! What a caller holds, read fresh on every request so that a revoked
//! session, a deactivated account or a withdrawn role takes effect at once.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::access::{Grant, Grants};

use crate::access::{permissions_from_text, scope_from_columns};
use crate::schema::{api_keys, residents, role_assignments, roles, sessions, users};
use crate::{DbConn, StoreError, clock};

/// The grants of a staff member signed in with session `session_id`, or
/// `None` when the session has ended or the account is inactive. One query
/// on every authorised request (the session, the account and its roles
/// joined), so it stays a single round trip.
pub fn for_staff(
    conn: &mut DbConn,
    user_id: i64,
    session_id: i64,
) -> Result<Option<Grants>, StoreError> {
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> = sessions::table
        .inner_join(users::table)
        .left_join(role_assignments::table.on(role_assignments::user_id.eq(users::id)))
        .left_join(
            roles::table.on(roles::id
                .eq(role_assignments::role_id)
                .and(roles::archived_at.is_null())),
        )
        .filter(sessions::id.eq(session_id))
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(clock::now()))
        .filter(users::active.eq(true))
        .filter(users::archived_at.is_null())
        .select((
            roles::permissions.nullable(),
            role_assignments::scope_kind.nullable(),
            role_assignments::scope_offices.nullable(),
        ))
        .load(conn)?;
    if rows.is_empty() {
        return Ok(None);
    }
    // A live session with no (active) role yields one row of NULLs.
    let grants = rows
        .into_iter()
        .filter_map(|row| match row {
            (Some(permissions), Some(kind), Some(offices)) => Some((permissions, kind, offices)),
            _ => None,
        })
        .map(|(permissions, kind, offices)| {
            Ok(Grant {
                permissions: permissions_from_text(&permissions),
                scope: scope_from_columns(&kind, &offices)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Some(Grants::new(grants, Some(user_id))))
}

/// Whether a resident's session is live (residents hold no staff grants).
pub fn resident_session_live(
    conn: &mut DbConn,
    resident_id: i64,
    session_id: i64,
) -> Result<bool, StoreError> {
    let live: Option<i64> = sessions::table
        .inner_join(residents::table)
        .filter(sessions::id.eq(session_id))
        .filter(sessions::resident_id.eq(resident_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(clock::now()))
        .select(residents::id)
        .first(conn)
        .optional()?;
    Ok(live.is_some())
}

/// An integration key found by its hash.
#[derive(Debug, Clone)]
pub struct KeyGrants {
    /// The key's id.
    pub key_id: i64,
    /// What it may do, and where.
    pub grants: Grants,
    /// When it was last used, to decide whether to record this use.
    pub last_used_at: Option<NaiveDateTime>,
}

/// The grants of the live key with this hash, if any: not revoked, and
/// its creator (when a staff member made it) still an active account — a
/// key must not outlive the access of the person who made it.
pub fn for_api_key(conn: &mut DbConn, key_hash: &str) -> Result<Option<KeyGrants>, StoreError> {
    let active_staff = users::table
        .filter(users::active.eq(true))
        .filter(users::archived_at.is_null())
        .select(users::id);
    let found: Option<(i64, String, String, String, Option<NaiveDateTime>)> = api_keys::table
        .filter(api_keys::key_hash.eq(key_hash))
        .filter(api_keys::revoked_at.is_null())
        .filter(
            api_keys::created_by
                .is_null()
                .or(api_keys::created_by.eq_any(active_staff.nullable())),
        )
        .select((
            api_keys::id,
            api_keys::permissions,
            api_keys::scope_kind,
            api_keys::scope_offices,
            api_keys::last_used_at,
        ))
        .first(conn)
        .optional()?;
    found
        .map(|(key_id, permissions, kind, offices, last_used_at)| {
            let grant = Grant {
                permissions: permissions_from_text(&permissions),
                scope: scope_from_columns(&kind, &offices)?,
            };
            Ok(KeyGrants {
                key_id,
                grants: Grants::new(vec![grant], None),
                last_used_at,
            })
        })
        .transpose()
}

/// Records that a key was used now.
pub fn touch_api_key(conn: &mut DbConn, key_id: i64) -> Result<(), StoreError> {
    diesel::update(api_keys::table.find(key_id))
        .set(api_keys::last_used_at.eq(Some(clock::now())))
        .execute(conn)?;
    Ok(())
}
