//! The bodies of the read, change and archive handlers every versioned
//! resource has, so a resource's handlers say only what differs: the
//! permission, its storage functions and its output type. Each authorises
//! the caller inside its database work, passes the resulting data scope to
//! storage, and writes the audit event in the same transaction as the
//! change. Creates and lists stay in the resource (their inputs differ too
//! much to share).

use actix_web::HttpResponse;
use serde::Serialize;
use wuye_domain::access::{DataScope, Permission};
use wuye_persistence::audit::Audited;
use wuye_persistence::{Db, DbConn, StoreError, Versioned};

use crate::auth::Caller;
use crate::concurrency::{IfMatch, ok_versioned};
use crate::error::{ApiError, ApiResult};

/// Runs read-only `work` within the caller's scope for `permission`: the
/// body of every list handler, and of reads with no version to answer.
pub async fn query<T, F>(db: &Db, caller: Caller, permission: Permission, work: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: Fn(&mut DbConn, &DataScope) -> Result<T, StoreError> + Send + 'static,
{
    db.read(move |conn| {
        let scope = caller.authorize(conn, permission)?;
        Ok::<_, ApiError>(work(conn, &scope)?)
    })
    .await
}

/// Loads one record by id within the caller's scope for `permission`:
/// `200` with the record as `T` and its `ETag`.
pub async fn read<R, T>(
    db: &Db,
    caller: Caller,
    permission: Permission,
    id: i64,
    get: fn(&mut DbConn, &DataScope, i64) -> Result<R, StoreError>,
) -> ApiResult<HttpResponse>
where
    R: Versioned + Send + 'static,
    T: From<R> + Serialize,
{
    let row = db
        .read(move |conn| {
            let scope = caller.authorize(conn, permission)?;
            Ok::<_, ApiError>(get(conn, &scope, id)?)
        })
        .await?;
    Ok(respond::<R, T>(row))
}

/// Applies `changes` under `If-Match` in one transaction, with an `update`
/// audit event listing `request` (the fields as sent): `200` with the
/// changed record and its new `ETag`.
#[allow(clippy::too_many_arguments)] // each is one concern of every change
pub async fn change<R, T, C, B>(
    db: &Db,
    caller: Caller,
    permission: Permission,
    id: i64,
    if_match: IfMatch,
    request: B,
    changes: C,
    get: fn(&mut DbConn, &DataScope, i64) -> Result<R, StoreError>,
    update: fn(&mut DbConn, &DataScope, i64, i32, &C) -> Result<R, StoreError>,
) -> ApiResult<HttpResponse>
where
    R: Versioned + Audited + Send + 'static,
    T: From<R> + Serialize,
    C: Send + 'static,
    B: Serialize + Send + 'static,
{
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, permission)?;
            let expected =
                if_match.expected_version(|| get(conn, &scope, id).map(|row| row.version()))?;
            let row = update(conn, &scope, id, expected, &changes)?;
            crate::audit::record(conn, caller.actor(), "update", row.audit_target(), &request)?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(respond::<R, T>(row))
}

/// Archives under `If-Match` in one transaction, with an `archive` audit
/// event: `200` with the archived record and its new `ETag`.
pub async fn archive<R, T>(
    db: &Db,
    caller: Caller,
    permission: Permission,
    id: i64,
    if_match: IfMatch,
    get: fn(&mut DbConn, &DataScope, i64) -> Result<R, StoreError>,
    archive: fn(&mut DbConn, &DataScope, i64, i32) -> Result<R, StoreError>,
) -> ApiResult<HttpResponse>
where
    R: Versioned + Audited + Send + 'static,
    T: From<R> + Serialize,
{
    let row = db
        .write(move |conn| {
            let scope = caller.authorize(conn, permission)?;
            let expected =
                if_match.expected_version(|| get(conn, &scope, id).map(|row| row.version()))?;
            let row = archive(conn, &scope, id, expected)?;
            crate::audit::record(
                conn,
                caller.actor(),
                "archive",
                row.audit_target(),
                &serde_json::Map::new(),
            )?;
            Ok::<_, ApiError>(row)
        })
        .await?;
    Ok(respond::<R, T>(row))
}

fn respond<R: Versioned, T: From<R> + Serialize>(row: R) -> HttpResponse {
    let version = row.version();
    ok_versioned(&T::from(row), version)
}
