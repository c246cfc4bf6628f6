//! Integration keys (集成密钥) for scripts: `wuye_sk_…`, shown once, kept as
//! SHA-256 hashes, each with permissions and a data scope like a user's.
//! Keys are company-level records: managing them needs a company-wide scope.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::access::{AssignmentScope, DataScope, Permission};

use crate::access::{
    permissions_from_text, permissions_to_text, scope_from_columns, scope_to_columns,
};
use crate::page::{Page, PageRequest};
use crate::schema::api_keys::dsl;
use crate::{DbConn, StoreError, clock, keyset_by_id};

/// A stored key (without its hash).
#[derive(Debug, Clone)]
pub struct ApiKeyRow {
    /// Id.
    pub id: i64,
    /// What it is for.
    pub name: String,
    /// Its first characters, to tell keys apart.
    pub prefix: String,
    /// What it may do.
    pub permissions: BTreeSet<Permission>,
    /// Where.
    pub scope: AssignmentScope,
    /// Who created it.
    pub created_by: Option<i64>,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last used (UTC).
    pub last_used_at: Option<NaiveDateTime>,
    /// When revoked (UTC), if it is.
    pub revoked_at: Option<NaiveDateTime>,
}

impl crate::audit::Audited for ApiKeyRow {
    fn audit_target(&self) -> crate::audit::AuditTarget {
        crate::audit::AuditTarget {
            resource_type: "api_key",
            resource_id: Some(self.id),
            office_id: None,
        }
    }
}

type Columns = (
    i64,
    String,
    String,
    String,
    String,
    String,
    Option<i64>,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

const COLUMNS: (
    dsl::id,
    dsl::name,
    dsl::prefix,
    dsl::permissions,
    dsl::scope_kind,
    dsl::scope_offices,
    dsl::created_by,
    dsl::created_at,
    dsl::last_used_at,
    dsl::revoked_at,
) = (
    dsl::id,
    dsl::name,
    dsl::prefix,
    dsl::permissions,
    dsl::scope_kind,
    dsl::scope_offices,
    dsl::created_by,
    dsl::created_at,
    dsl::last_used_at,
    dsl::revoked_at,
);

fn from_columns(c: Columns) -> Result<ApiKeyRow, StoreError> {
    Ok(ApiKeyRow {
        id: c.0,
        name: c.1,
        prefix: c.2,
        permissions: permissions_from_text(&c.3),
        scope: scope_from_columns(&c.4, &c.5)?,
        created_by: c.6,
        created_at: c.7,
        last_used_at: c.8,
        revoked_at: c.9,
    })
}

/// A key to store.
#[derive(Debug, Clone)]
pub struct NewApiKey {
    /// What it is for.
    pub name: String,
    /// Its first characters.
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    pub key_hash: String,
    /// What it may do.
    pub permissions: BTreeSet<Permission>,
    /// Where.
    pub scope: AssignmentScope,
    /// Who creates it.
    pub created_by: Option<i64>,
}

/// Stores a new key; the offices it lists must exist.
pub fn create(
    conn: &mut DbConn,
    scope: &DataScope,
    new: &NewApiKey,
) -> Result<ApiKeyRow, StoreError> {
    StoreError::require_company(scope)?;
    crate::access::ensure_offices_exist(conn, &new.scope)?;
    let (kind, offices) = scope_to_columns(&new.scope);
    let row: Columns = diesel::insert_into(dsl::api_keys)
        .values((
            dsl::name.eq(&new.name),
            dsl::prefix.eq(&new.prefix),
            dsl::key_hash.eq(&new.key_hash),
            dsl::permissions.eq(permissions_to_text(&new.permissions)),
            dsl::scope_kind.eq(kind),
            dsl::scope_offices.eq(offices),
            dsl::created_by.eq(new.created_by),
            dsl::created_at.eq(clock::now()),
        ))
        .returning(COLUMNS)
        .get_result(conn)?;
    from_columns(row)
}

/// One key (company-wide scope only).
pub fn get(conn: &mut DbConn, scope: &DataScope, id: i64) -> Result<ApiKeyRow, StoreError> {
    if !scope.is_company() {
        return Err(StoreError::NotFound);
    }
    from_columns(dsl::api_keys.find(id).select(COLUMNS).first(conn)?)
}

/// One page of keys, newest or oldest first (company-wide scope only; an
/// office-scoped caller sees an empty list).
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    include_revoked: bool,
    page: &PageRequest<()>,
) -> Result<Page<ApiKeyRow>, StoreError> {
    if !scope.is_company() {
        return Ok(Page::from_rows(Vec::new(), page.limit, |row| {
            crate::page::After::id(row.id)
        }));
    }
    let mut query = dsl::api_keys.select(COLUMNS).into_boxed();
    if !include_revoked {
        query = query.filter(dsl::revoked_at.is_null());
    }
    let after = page.after.as_ref().map(|a| a.id);
    query = keyset_by_id!(query, dsl::id, page.direction, after);
    let rows = query
        .limit(page.limit + 1)
        .load::<Columns>(conn)?
        .into_iter()
        .map(from_columns)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(rows, page.limit, |row| {
        crate::page::After::id(row.id)
    }))
}

/// Revokes a key for good; revoking a revoked key is `Archived`.
pub fn revoke(conn: &mut DbConn, scope: &DataScope, id: i64) -> Result<ApiKeyRow, StoreError> {
    let key = get(conn, scope, id)?;
    if key.revoked_at.is_some() {
        return Err(StoreError::Archived);
    }
    diesel::update(dsl::api_keys.find(id))
        .set(dsl::revoked_at.eq(Some(clock::now())))
        .execute(conn)?;
    get(conn, scope, id)
}
