//! Organisation and estate storage (domain.md §1): company settings, offices,
//! estates, buildings, units and houses. One file per resource, each with the
//! same shape: row types, `create`, `get`, `list`, `update`, `archive`.

pub mod buildings;
pub mod company;
pub mod estates;
pub mod houses;
pub mod offices;
pub mod units;
