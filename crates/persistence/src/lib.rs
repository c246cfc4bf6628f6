//! Wuye's storage: one diesel code path over SQLite and PostgreSQL.
//!
//! - [`Db`] is the pool; [`Db::read`] and [`Db::write`] run work on blocking
//!   threads, `write` inside one transaction.
//! - Repository functions take `&mut DbConn` and return [`StoreError`], never
//!   an HTTP type, so they compose inside a transaction and stay testable.
//! - One module per business area (`org`, …), one file per resource.

pub mod access;
pub mod audit;
pub mod clock;
mod db;
mod error;
pub mod idempotency;
mod migrations;
pub mod org;
pub mod page;
pub mod residents;
pub mod schema;
mod versioned;

pub use db::{Backend, DEFAULT_DATABASE_URL, Db, DbConfig, DbConn, SqliteSynchronous};
pub use error::{ReferenceProblem, StoreError};
pub use versioned::Versioned;
