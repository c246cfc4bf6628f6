//! Identity and access (domain.md §1, R-ORG-1): signing in, staff accounts,
//! roles and their scoped assignments, integration keys, and the audit log.
//! How a request is authenticated and authorised is in [`crate::auth`].

use utoipa_actix_web::service_config::ServiceConfig;

pub mod api_keys;
pub mod audit_events;
pub mod roles;
pub mod session;
pub mod users;

/// Registers the area's routes (under `/api/v1`).
pub fn routes(cfg: &mut ServiceConfig) {
    session::routes(cfg);
    audit_events::routes(cfg);
    roles::routes(cfg);
    users::routes(cfg);
    api_keys::routes(cfg);
}
