//! The bodies of the read, change and archive handlers every versioned
//! resource has, so a resource's handlers say only what differs: its storage
//! functions and its output type. Creates and lists stay in the resource
//! (their inputs differ too much to share).

use actix_web::HttpResponse;
use serde::Serialize;
use wuye_persistence::{Db, DbConn, StoreError, Versioned};

use crate::concurrency::{IfMatch, ok_versioned};
use crate::error::{ApiError, ApiResult};

/// Loads one record by id: `200` with the record as `T` and its `ETag`.
pub async fn read<R, T>(
    db: &Db,
    id: i64,
    get: fn(&mut DbConn, i64) -> Result<R, StoreError>,
) -> ApiResult<HttpResponse>
where
    R: Versioned + Send + 'static,
    T: From<R> + Serialize,
{
    let row = db.read(move |conn| get(conn, id)).await?;
    Ok(respond::<R, T>(row))
}

/// Applies `changes` under `If-Match` in one transaction: `200` with the
/// changed record and its new `ETag`.
pub async fn change<R, T, C>(
    db: &Db,
    id: i64,
    if_match: IfMatch,
    changes: C,
    get: fn(&mut DbConn, i64) -> Result<R, StoreError>,
    update: fn(&mut DbConn, i64, i32, &C) -> Result<R, StoreError>,
) -> ApiResult<HttpResponse>
where
    R: Versioned + Send + 'static,
    T: From<R> + Serialize,
    C: Send + 'static,
{
    let row = db
        .write(move |conn| {
            let expected = if_match.expected_version(|| get(conn, id).map(|row| row.version()))?;
            Ok::<_, ApiError>(update(conn, id, expected, &changes)?)
        })
        .await?;
    Ok(respond::<R, T>(row))
}

/// Archives under `If-Match` in one transaction: `200` with the archived
/// record and its new `ETag`.
pub async fn archive<R, T>(
    db: &Db,
    id: i64,
    if_match: IfMatch,
    get: fn(&mut DbConn, i64) -> Result<R, StoreError>,
    archive: fn(&mut DbConn, i64, i32) -> Result<R, StoreError>,
) -> ApiResult<HttpResponse>
where
    R: Versioned + Send + 'static,
    T: From<R> + Serialize,
{
    let row = db
        .write(move |conn| {
            let expected = if_match.expected_version(|| get(conn, id).map(|row| row.version()))?;
            Ok::<_, ApiError>(archive(conn, id, expected)?)
        })
        .await?;
    Ok(respond::<R, T>(row))
}

fn respond<R: Versioned, T: From<R> + Serialize>(row: R) -> HttpResponse {
    let version = row.version();
    ok_versioned(&T::from(row), version)
}
