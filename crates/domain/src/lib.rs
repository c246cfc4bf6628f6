//! Wuye's business rules, free of I/O: value objects that parse rather than
//! validate, the states a record can be in, and the policies that decide what
//! may happen to it. Nothing here knows about HTTP or SQL, so every rule is
//! testable in milliseconds.
//!
//! One module per business area, mirroring `wuye-persistence` and `wuye-api`.

pub mod access;
mod macros;
pub mod org;
pub mod personal;
pub mod residents;
pub mod text;

pub use macros::UnknownValue;
pub use text::{Label, TextError};
