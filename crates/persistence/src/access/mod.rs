//! Identity and access: staff accounts, roles and their assignments,
//! sign-in sessions, integration keys, and the grants a caller holds.
//!
//! Secrets never reach this layer in clear: passwords arrive as argon2id
//! hashes, refresh tokens and API keys as SHA-256 hashes.

pub mod api_keys;
pub mod grants;
pub mod roles;
pub mod sessions;
pub mod users;

use std::collections::BTreeSet;

use diesel::prelude::*;
use wuye_domain::access::{AssignmentScope, Permission, ScopeKind};

use crate::schema::offices;
use crate::{DbConn, ReferenceProblem, StoreError};

/// Permissions as stored: codes separated by spaces, sorted.
pub fn permissions_to_text(permissions: &BTreeSet<Permission>) -> String {
    permissions
        .iter()
        .map(|p| p.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads stored permissions; an unknown code (from a newer version) is
/// skipped rather than failing every request of its holder.
pub fn permissions_from_text(text: &str) -> BTreeSet<Permission> {
    text.split_whitespace()
        .filter_map(|code| code.parse().ok())
        .collect()
}

/// A scope as stored: its kind and a comma-separated office list.
pub fn scope_to_columns(scope: &AssignmentScope) -> (&'static str, String) {
    let offices = scope
        .offices()
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    (scope.kind().as_str(), offices)
}

/// Reads a stored scope.
pub fn scope_from_columns(kind: &str, offices: &str) -> Result<AssignmentScope, StoreError> {
    let kind: ScopeKind = kind
        .parse()
        .map_err(|_| StoreError::Internal(format!("unknown scope kind {kind:?}")))?;
    let ids = offices
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::parse::<i64>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| StoreError::Internal("unreadable scope office list".to_owned()))?;
    AssignmentScope::new(kind, &ids)
        .map_err(|_| StoreError::Internal("inconsistent stored scope".to_owned()))
}

/// Checks that every office a scope lists exists (archived ones included:
/// their history is still theirs), else a 422 on `scope.office_ids`.
pub fn ensure_offices_exist(conn: &mut DbConn, scope: &AssignmentScope) -> Result<(), StoreError> {
    let listed = scope.offices();
    if listed.is_empty() {
        return Ok(());
    }
    let known: i64 = offices::table
        .filter(offices::id.eq_any(&listed))
        .count()
        .get_result(conn)?;
    if known != i64::try_from(listed.len()).unwrap_or(i64::MAX) {
        return Err(StoreError::InvalidReference {
            field: "scope.office_ids",
            problem: ReferenceProblem::Missing,
        });
    }
    Ok(())
}
