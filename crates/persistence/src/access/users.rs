//! Staff accounts (员工账号) and the roles they hold. An account belongs to a
//! management office or, with no office, to the company (R-ORG-1); data
//! scopes cut staff records by that office.

use std::collections::BTreeSet;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use wuye_domain::access::{AssignmentScope, DataScope, Permission, Username};

use crate::access::{scope_from_columns, scope_to_columns};
use crate::page::{After, ArchivedFilter, Page, PageRequest, SortValue};
use crate::schema::users::{self, dsl};
use crate::schema::{offices, role_assignments, roles};
use crate::{
    DbConn, ReferenceProblem, StoreError, clock, filter_archived, filter_scope, keyset,
    keyset_by_id, parent, versioned_repo,
};

/// A stored account; columns in schema order.
#[derive(Clone, Queryable)]
pub struct UserRow {
    /// Id.
    pub id: i64,
    /// Home office; `None` at company level.
    pub office_id: Option<i64>,
    /// Login name, lower-case, unique.
    pub username: String,
    /// Name shown to people.
    pub display_name: String,
    /// Mobile phone (personal data: masked in answers).
    pub mobile: Option<String>,
    /// argon2id PHC string. Never leaves persistence and the login path.
    pub password_hash: String,
    /// Whether the account may sign in.
    pub active: bool,
    /// Optimistic-concurrency version.
    pub version: i32,
    /// When created (UTC).
    pub created_at: NaiveDateTime,
    /// When last changed (UTC).
    pub updated_at: NaiveDateTime,
    /// When archived (UTC), if it is.
    pub archived_at: Option<NaiveDateTime>,
}

// By hand, so a stray `?row` in a log line shows no password hash.
impl std::fmt::Debug for UserRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("office_id", &self.office_id)
            .field("username", &self.username)
            .field("active", &self.active)
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// An account to create, already validated.
#[derive(Clone)]
pub struct NewUser {
    /// Home office, or `None` for company level.
    pub office_id: Option<i64>,
    /// Login name.
    pub username: Username,
    /// Display name.
    pub display_name: String,
    /// Normalised mobile phone.
    pub mobile: Option<String>,
    /// argon2id hash of the initial password.
    pub password_hash: String,
    /// Whether it may sign in.
    pub active: bool,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("office_id", &self.office_id)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = users)]
pub struct UserChanges {
    /// New display name.
    pub display_name: Option<String>,
    /// New or cleared mobile.
    pub mobile: Option<Option<String>>,
    /// Activate or deactivate.
    pub active: Option<bool>,
    /// New home office (`Some(None)`: company level).
    pub office_id: Option<Option<i64>>,
}

/// Which accounts a list shows.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    /// Only this office's.
    pub office_id: Option<i64>,
    /// Only active or only inactive ones.
    pub active: Option<bool>,
    /// Only those whose username or display name contains this text.
    pub text_contains: Option<String>,
    /// Archived or not.
    pub archived: ArchivedFilter,
}

/// The orders an account list can come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    /// Creation order.
    Id,
    /// Username.
    Username,
}

versioned_repo!(
    table: users,
    row: UserRow,
    changes: UserChanges,
    unique: "username",
    resource: "user",
    scope: (office: office_id)
);

fn check_office(
    conn: &mut DbConn,
    scope: &DataScope,
    office_id: Option<i64>,
) -> Result<(), StoreError> {
    match office_id {
        Some(id) => {
            let _: i64 = parent!(conn, scope, offices, office: id, id, "office_id", offices::id)?;
            Ok(())
        }
        // A company-level account is within company-wide scopes only.
        None if scope.is_company() => Ok(()),
        None => Err(StoreError::InvalidReference {
            field: "office_id",
            problem: ReferenceProblem::Missing,
        }),
    }
}

/// Creates an account in an office within `scope`.
pub fn create(conn: &mut DbConn, scope: &DataScope, new: &NewUser) -> Result<UserRow, StoreError> {
    check_office(conn, scope, new.office_id)?;
    let now = clock::now();
    diesel::insert_into(dsl::users)
        .values((
            dsl::office_id.eq(new.office_id),
            dsl::username.eq(new.username.as_str()),
            dsl::display_name.eq(&new.display_name),
            dsl::mobile.eq(&new.mobile),
            dsl::password_hash.eq(&new.password_hash),
            dsl::active.eq(new.active),
            dsl::version.eq(1),
            dsl::created_at.eq(now),
            dsl::updated_at.eq(now),
        ))
        .returning(users::all_columns)
        .get_result(conn)
        .map_err(StoreError::unique_on("username"))
}

/// What sign-in needs of an account, found by username (unscoped: nobody is
/// signed in yet). Archived accounts are not found.
pub fn for_login(conn: &mut DbConn, username: &str) -> Result<Option<UserRow>, StoreError> {
    Ok(dsl::users
        .filter(dsl::username.eq(username))
        .filter(dsl::archived_at.is_null())
        .select(users::all_columns)
        .first(conn)
        .optional()?)
}

/// The account of a signed-in staff member (their own record: unscoped).
pub fn own(conn: &mut DbConn, id: i64) -> Result<UserRow, StoreError> {
    Ok(dsl::users.find(id).select(users::all_columns).first(conn)?)
}

/// Replaces the password hash of an account (its own change, or an
/// administrator's reset); bumps the version.
pub fn set_password(conn: &mut DbConn, id: i64, password_hash: &str) -> Result<(), StoreError> {
    let changed = diesel::update(dsl::users.find(id))
        .set((
            dsl::password_hash.eq(password_hash),
            dsl::version.eq(dsl::version + 1),
            dsl::updated_at.eq(clock::now()),
        ))
        .execute(conn)?;
    if changed == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// One page of accounts within `scope`.
pub fn list(
    conn: &mut DbConn,
    scope: &DataScope,
    filter: &UserFilter,
    page: &PageRequest<UserSort>,
) -> Result<Page<UserRow>, StoreError> {
    let mut query = dsl::users.select(users::all_columns).into_boxed();
    query = filter_scope!(query, scope, office: dsl::office_id);
    if let Some(id) = filter.office_id {
        query = query.filter(dsl::office_id.eq(id));
    }
    if let Some(active) = filter.active {
        query = query.filter(dsl::active.eq(active));
    }
    if let Some(text) = &filter.text_contains {
        let pattern = crate::page::contains_pattern(text);
        query = query.filter(
            crate::page::lower(dsl::username)
                .like(pattern.clone())
                .escape('\\')
                .or(crate::page::lower(dsl::display_name)
                    .like(pattern)
                    .escape('\\')),
        );
    }
    query = filter_archived!(query, dsl::archived_at, filter.archived);
    let after = page.after.as_ref();
    query = match page.sort {
        UserSort::Id => keyset_by_id!(query, dsl::id, page.direction, after.map(|a| a.id)),
        UserSort::Username => {
            let after = after.map(After::text).transpose()?;
            keyset!(query, dsl::username, dsl::id, page.direction, after)
        }
    };
    let rows = query.limit(page.limit + 1).load::<UserRow>(conn)?;
    let sort = page.sort;
    Ok(Page::from_rows(rows, page.limit, |row| After {
        value: match sort {
            UserSort::Id => SortValue::Int(row.id),
            UserSort::Username => SortValue::Text(row.username.clone()),
        },
        id: row.id,
    }))
}

/// Applies changes to an account within `scope`; a new office must be
/// within it too. Deactivating ends the account's sessions.
pub fn update(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
    changes: &UserChanges,
) -> Result<UserRow, StoreError> {
    if let Some(office_id) = changes.office_id {
        check_office(conn, scope, office_id)?;
    }
    let row = update_versioned(conn, scope, id, expected_version, changes)?;
    if !row.active {
        crate::access::sessions::revoke_all_of_user(conn, id, None)?;
    }
    Ok(row)
}

/// Archives an account within `scope`; it can no longer sign in.
pub fn archive(
    conn: &mut DbConn,
    scope: &DataScope,
    id: i64,
    expected_version: i32,
) -> Result<UserRow, StoreError> {
    let row = mark_archived(conn, scope, id, expected_version)?;
    crate::access::sessions::revoke_all_of_user(conn, id, None)?;
    Ok(row)
}

/// A role held by an account, with its scope.
#[derive(Debug, Clone)]
pub struct AssignmentRow {
    /// Id.
    pub id: i64,
    /// The account.
    pub user_id: i64,
    /// The role.
    pub role_id: i64,
    /// The role's code (built-in roles) and name.
    pub role_code: Option<String>,
    /// The role's name.
    pub role_name: String,
    /// The role's permissions.
    pub role_permissions: BTreeSet<Permission>,
    /// Whether the role is active (an archived role grants nothing).
    pub role_active: bool,
    /// Where it applies.
    pub scope: AssignmentScope,
    /// When granted (UTC).
    pub created_at: NaiveDateTime,
}

type AssignmentColumns = (
    i64,
    i64,
    i64,
    Option<String>,
    String,
    String,
    Option<NaiveDateTime>,
    String,
    String,
    NaiveDateTime,
);

fn assignment_row(columns: AssignmentColumns) -> Result<AssignmentRow, StoreError> {
    let (
        id,
        user_id,
        role_id,
        role_code,
        role_name,
        permissions,
        role_archived_at,
        kind,
        offices,
        created_at,
    ) = columns;
    Ok(AssignmentRow {
        id,
        user_id,
        role_id,
        role_code,
        role_name,
        role_permissions: crate::access::permissions_from_text(&permissions),
        role_active: role_archived_at.is_none(),
        scope: scope_from_columns(&kind, &offices)?,
        created_at,
    })
}

/// The roles an account (within `scope`) holds.
pub fn assignments(
    conn: &mut DbConn,
    scope: &DataScope,
    user_id: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    get(conn, scope, user_id)?;
    own_assignments(conn, user_id)
}

/// The roles an account holds (for its own `/auth/me`).
pub fn own_assignments(conn: &mut DbConn, user_id: i64) -> Result<Vec<AssignmentRow>, StoreError> {
    role_assignments::table
        .inner_join(roles::table)
        .filter(role_assignments::user_id.eq(user_id))
        .order(role_assignments::id.asc())
        .select((
            role_assignments::id,
            role_assignments::user_id,
            role_assignments::role_id,
            roles::code,
            roles::name,
            roles::permissions,
            roles::archived_at,
            role_assignments::scope_kind,
            role_assignments::scope_offices,
            role_assignments::created_at,
        ))
        .load::<AssignmentColumns>(conn)?
        .into_iter()
        .map(assignment_row)
        .collect()
}

/// Gives an account (within `scope`) an active role with `assignment`
/// scope. Offices listed must exist.
pub fn assign(
    conn: &mut DbConn,
    scope: &DataScope,
    user_id: i64,
    role_id: i64,
    assignment: &AssignmentScope,
) -> Result<AssignmentRow, StoreError> {
    get(conn, scope, user_id)?;
    let _: i64 =
        parent!(conn, &DataScope::system(), roles, office: id, role_id, "role_id", roles::id)?;
    crate::access::ensure_offices_exist(conn, assignment)?;
    let (kind, offices) = scope_to_columns(assignment);
    let id: i64 = diesel::insert_into(role_assignments::table)
        .values((
            role_assignments::user_id.eq(user_id),
            role_assignments::role_id.eq(role_id),
            role_assignments::scope_kind.eq(kind),
            role_assignments::scope_offices.eq(offices),
            role_assignments::created_at.eq(clock::now()),
        ))
        .returning(role_assignments::id)
        .get_result(conn)?;
    own_assignments(conn, user_id)?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or(StoreError::NotFound)
}

/// Withdraws a role assignment of an account within `scope`.
pub fn unassign(
    conn: &mut DbConn,
    scope: &DataScope,
    user_id: i64,
    assignment_id: i64,
) -> Result<AssignmentRow, StoreError> {
    let assignment = assignments(conn, scope, user_id)?
        .into_iter()
        .find(|a| a.id == assignment_id)
        .ok_or(StoreError::NotFound)?;
    diesel::delete(role_assignments::table.find(assignment_id)).execute(conn)?;
    Ok(assignment)
}

/// Creates the first administrator (company level, the built-in
/// administrator role, company-wide): `wuye admin create`.
pub fn bootstrap_admin(
    conn: &mut DbConn,
    username: &Username,
    password_hash: &str,
) -> Result<UserRow, StoreError> {
    let scope = DataScope::system();
    let user = create(
        conn,
        &scope,
        &NewUser {
            office_id: None,
            username: username.clone(),
            display_name: username.as_str().to_owned(),
            mobile: None,
            password_hash: password_hash.to_owned(),
            active: true,
        },
    )?;
    let role_id: i64 = roles::table
        .filter(roles::code.eq(wuye_domain::access::ADMIN_ROLE))
        .select(roles::id)
        .first(conn)?;
    assign(conn, &scope, user.id, role_id, &AssignmentScope::Company)?;
    Ok(user)
}
