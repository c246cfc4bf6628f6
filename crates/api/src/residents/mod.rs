//! Residents (住户) of the WeChat mini-program and their houses: a resident
//! signed in with WeChat (`POST /api/v1/auth/wechat`) asks to be bound to a
//! house (住户绑定申请), staff of the house's management office approve or
//! reject the request, and an approved request binds the resident to the
//! house.
//!
//! - [`me`]: the resident's own routes, `/api/v1/me/*` — resident tokens
//!   only; a request's phone number comes from WeChat, never from the
//!   client.
//! - [`bindings`]: the staff routes, `/api/v1/binding-requests*`, scoped by
//!   the house's office; phones are masked unless revealed (audited).
//!
//! The review rules (and how an automatic approval rule is added) are in
//! `wuye_domain::residents`; storage is `wuye_persistence::residents`.

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use wuye_domain::residents::BindingError;
use wuye_persistence::residents::bindings::{self as store, BindingFailure};
use wuye_persistence::{DbConn, StoreError};

use crate::error::ApiError;
use crate::i18n::Text;

pub mod bindings;
pub mod me;

/// Registers the area's routes (under `/api/v1`).
pub fn routes(cfg: &mut ServiceConfig) {
    me::routes(cfg);
    bindings::routes(cfg);
}

/// Where a house is, as people say it: 小区 楼栋 单元 房号.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(examples(json!({
    "estate": "阳光小区", "building": "1号楼", "unit": "1单元", "number": "1502"
})))]
pub struct HouseAddress {
    /// Estate (小区) name.
    pub estate: String,
    /// Building (楼栋) name.
    pub building: String,
    /// Unit (单元) name.
    pub unit: String,
    /// House number (房号).
    pub number: String,
}

impl From<store::HouseAddress> for HouseAddress {
    fn from(address: store::HouseAddress) -> Self {
        Self {
            estate: address.estate,
            building: address.building,
            unit: address.unit,
            number: address.number,
        }
    }
}

/// Pairs each row with the address of its house, loaded in one query.
pub(crate) fn with_addresses<R>(
    conn: &mut DbConn,
    rows: Vec<R>,
    house_of: impl Fn(&R) -> i64,
) -> Result<Vec<(R, HouseAddress)>, StoreError> {
    let ids: Vec<i64> = rows.iter().map(&house_of).collect();
    let addresses: HashMap<i64, store::HouseAddress> = store::addresses(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let house_id = house_of(&row);
            // A request's house can be archived but never deleted, so a
            // missing one means the data is broken, not the request.
            let address = addresses
                .get(&house_id)
                .cloned()
                .ok_or_else(|| StoreError::Internal(format!("house {house_id} has no address")))?;
            Ok((row, address.into()))
        })
        .collect()
}

impl From<BindingFailure> for ApiError {
    fn from(failure: BindingFailure) -> Self {
        match failure {
            BindingFailure::Store(error) => error.into(),
            BindingFailure::Rule(rule) => binding_error(rule),
        }
    }
}

fn binding_error(error: BindingError) -> ApiError {
    match error {
        BindingError::AlreadyBound => ApiError::conflict(
            "conflict.already_bound",
            Text::new(
                "您已绑定该房屋，无需再次申请",
                "You are already bound to this house",
            ),
        ),
        BindingError::AlreadyPending => ApiError::conflict(
            "conflict.already_pending",
            Text::new(
                "您对该房屋的绑定申请正在审核中，请耐心等待",
                "Your request for this house is still waiting for review",
            ),
        ),
        BindingError::NotPending { status } => ApiError::conflict(
            "conflict.not_pending",
            Text::owned(
                format!("该申请已{}，只能审核待审核的申请", status_zh(status)),
                format!("The request is already {status}; only pending requests can be reviewed"),
            ),
        ),
        BindingError::HouseArchived => ApiError::conflict(
            "conflict.house_archived",
            Text::new(
                "房屋已归档，不能再绑定，只能驳回该申请",
                "The house is archived: nothing can be bound to it; reject the request instead",
            ),
        ),
    }
}

fn status_zh(status: wuye_domain::residents::BindingStatus) -> &'static str {
    use wuye_domain::residents::BindingStatus;
    match status {
        BindingStatus::Pending => "待审核",
        BindingStatus::Approved => "通过",
        BindingStatus::Rejected => "驳回",
    }
}
