//! Residents (住户) of the WeChat mini-program: their identity (by openid,
//! never trusted from a client) and their bindings to houses.

pub mod accounts;
pub mod bindings;
