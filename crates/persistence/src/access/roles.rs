//! Roles (角色): named permission sets. The built-in ones mirror the seed's
//! positions and are kept in step with the domain at every start; the
//! company's own can be created, changed and archived. Roles are
//! company-level records.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::access::{BUILTIN_ROLES, DataScope, Permission};

use crate::access::{permissions_from_text, permissions_to_text};
use crate::page::{ArchivedFilter, Page, PageRequest};
use crate::schema::role_assignments;
use crate::schema::roles::{self, dsl};
use crate::{DbConn, StoreError, clock, filter_archived, keyset_by_id, versioned_repo};

/// A stored role; columns in schema order.
#[derive(Debug, Clone, Queryable)]
pub struct RoleRow {
    /// Id.
    pub id: i64,
    /// Built-in code; `None` for the company's own roles.
    pub code: Option<String>,
    /// Name, unique among active roles.
    pub name: String,
    /// What it is for.
    pub description: Option<String>,
    /// Permissions, space-separated codes (see [`RoleRow::permissions`]).
    pub permissions: String,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// When archived (UTC), if it is.
    pub archived_at: Option<NaiveDateTime>,
}

impl RoleRow {
    /// The permissions, parsed.
    pub fn permission_set(&self) -> BTreeSet<Permission> {
        permissions_from_text(&self.permissions)
    }

    /// Whether it ships with the product (and so cannot be changed).
    pub fn is_builtin(&self) -> bool {
        self.code.is_some()
    }
}

/// A role to create.
#[derive(Debug, Clone)]
pub struct NewRole {
    /// Name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// Permissions.
    pub permissions: BTreeSet<Permission>,
}

/// Changes to a role; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = roles)]
pub struct RoleChanges {
    /// New name.
    pub name: Option<String>,
    /// New or cleared description.
    pub description: Option<Option<String>>,
    /// New permissions (space-separated codes; see [`permissions_to_text`]).
    pub permissions: Option<String>,
}

/// Brings the built-in roles in line with the domain's list: inserts the
/// missing ones and resets the names and permissions of the others.
pub fn sync_builtin(conn: &mut DbConn) -> Result<(), StoreError> {
    let now = clock::now();
    for role in BUILTIN_ROLES {
        let permissions = permissions_to_text(&role.permissions.iter().copied().collect());
        let updated = diesel::update(dsl::roles.filter(dsl::code.eq(role.code)))
            .set((
                dsl::name.eq(role.name),
                dsl::permissions.eq(&permissions),
                dsl::archived_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        if updated == 0 {
            diesel::insert_into(dsl::roles)
                .values((
                    dsl::code.eq(role.code),
                    dsl::name.eq(role.name),
                    dsl::permissions.eq(&permissions),
                    dsl::version.eq(1),
                    dsl::created_at.eq(now),
                    dsl::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

versioned_repo!(
    table: roles,
    row: RoleRow,
    changes: RoleChanges,
    unique: "name",
    resource: "role",
    scope: (company_level)
);

/// Loads one role by id. Roles are company-wide definitions that every
/// holder of `access.read` sees, whatever offices their scope lists: an
/// office's administrator assigns them too.
pub fn read(conn: &mut DbConn, _scope: &DataScope, id: i64) -> Result<RoleRow, StoreError> {
    Ok(dsl::roles.find(id).select(roles::all_columns).first(conn)?)
}

/// One page of roles (creation order).
pub fn list(
    conn: &mut DbConn,
    archived: ArchivedFilter,
    page: &PageRequest<()>,
) -> Result<Page<RoleRow>, StoreError> {
    let mut query = dsl::roles.select(roles::all_columns).into_boxed();
    query = filter_archived!(query, dsl::archived_at, archived);
    let after = page.after.as_ref().map(|a| a.id);
    query = keyset_by_id!(query, dsl::id, page.direction, after);
    let rows = query.limit(page.limit + 1).load::<RoleRow>(conn)?;
    Ok(Page::from_rows(rows, page.limit, |row| {
        crate::page::After::id(row.id)
    }))
}

/// Creates a company role; only a company-wide scope may.
pub fn create(conn: &mut DbConn, scope: &DataScope, new: &NewRole) -> Result<RoleRow, StoreError> {
    StoreError::require_company(scope)?;
    let now = clock::now();
    diesel::insert_into(dsl::roles)
        .values((
            dsl::name.eq(&new.name),
            dsl::description.eq(&new.description),
            dsl::permissions.eq(permissions_to_text(&new.permissions)),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(roles::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("name"))
}

fn refuse_builtin(conn: &mut DbConn, id: i64) -> Result<(), StoreError> {
    let code: Option<String> = dsl::roles.find(id).select(dsl::code).first(conn)?;
    if code.is_some() {
        return Err(StoreError::Invalid {
            field: "id",
            code: "builtin_role_is_fixed",
        });
    }
    Ok(())
}

/// Changes a company role (never a built-in one).
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    changes: &RoleChanges,
) -> Result<RoleRow, StoreError> {
    StoreError::require_company(scope)?;
    refuse_builtin(conn, id)?;
    update_versioned(conn, scope, id, expected_version, changes)
}

/// Archives a company role no account holds any more.
pub fn archive(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
) -> Result<RoleRow, StoreError> {
    StoreError::require_company(scope)?;
    refuse_builtin(conn, id)?;
    let row = mark_archived(conn, scope, id, expected_version)?;
    let holders: i64 = role_assignments::table
        .filter(role_assignments::role_id.eq(id))
        .count()
        .get_result(conn)?;
    wuye_domain::org::ensure_archivable(holders).map_err(|blocked| {
        StoreError::HasActiveChildren {
            children: "role_assignments",
            active_children: blocked.active_children,
        }
    })?;
    Ok(row)
}
