//! Organisation and estate (domain.md §1): company settings, management
//! offices (管理处), estates (小区), buildings (楼栋), units (单元) and
//! houses (房屋).
//!
//! Every resource follows one shape — the template for every later module:
//! `POST /x` (create, `Idempotency-Key`), `GET /x` (filters, `sort`, cursor
//! pages), `GET /x/{id}`, `PATCH /x/{id}` (`If-Match`) and
//! `POST /x/{id}/archive` (`If-Match`). DTOs and handlers of a resource live
//! in its own file; storage is `wuye_persistence::org::<resource>`.

use utoipa_actix_web::service_config::ServiceConfig;

pub mod buildings;
pub mod company;
pub mod estates;
pub mod houses;
pub mod offices;
pub mod units;

/// Registers the area's routes (under `/api/v1`).
pub fn routes(cfg: &mut ServiceConfig) {
    company::routes(cfg);
    offices::routes(cfg);
    estates::routes(cfg);
    buildings::routes(cfg);
    units::routes(cfg);
    houses::routes(cfg);
}
