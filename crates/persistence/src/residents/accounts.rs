//! Resident identities, keyed by the openid WeChat returned to the server.

use diesel::prelude::*;

use crate::schema::residents::dsl;
use crate::{DbConn, StoreError, clock};

/// Finds or creates the resident with `openid`, keeps the unionid when
/// WeChat sent one, and records the sign-in; returns the resident id.
pub fn sign_in(conn: &mut DbConn, openid: &str, unionid: Option<&str>) -> Result<i64, StoreError> {
    let now = clock::now();
    let existing: Option<i64> = dsl::residents
        .filter(dsl::openid.eq(openid))
        .select(dsl::id)
        .first(conn)
        .optional()?;
    if let Some(id) = existing {
        let update = diesel::update(dsl::residents.find(id));
        match unionid {
            Some(unionid) => update
                .set((dsl::last_login_at.eq(now), dsl::unionid.eq(unionid)))
                .execute(conn)?,
            None => update.set(dsl::last_login_at.eq(now)).execute(conn)?,
        };
        return Ok(id);
    }
    Ok(diesel::insert_into(dsl::residents)
        .values((
            dsl::openid.eq(openid),
            dsl::unionid.eq(unionid),
            dsl::created_at.eq(now),
            dsl::last_login_at.eq(now),
        ))
        .returning(dsl::id)
        .get_result(conn)?)
}
