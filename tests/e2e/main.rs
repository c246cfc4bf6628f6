//! End-to-end tests: the real app, over HTTP semantics, on a real database —
//! SQLite always, PostgreSQL too when `WUYE_TEST_POSTGRES_URL` is set. Every
//! test builds its own data in its own database.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

mod access;
mod contract;
mod conventions;
mod identity;
mod org;
mod residents;
mod server;
mod wechat_stub;
