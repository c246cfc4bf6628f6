//! Wuye's HTTP API: the actix-web app, its handlers and DTOs, the shared
//! API conventions, and the OpenAPI contract generated from the same route
//! registration the server uses.
//!
//! Reading order for a new module: [`org`] (the template resource
//! handlers), then the conventions they use: [`error`], [`extract`],
//! [`validate`], [`pagination`], [`concurrency`], [`idempotency`].

use std::sync::Arc;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::{App, Error, web};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_swagger_ui::SwaggerUi;
use wuye_persistence::Db;

pub mod audit;
pub mod auth;
pub mod concurrency;
pub mod error;
pub mod extract;
pub mod i18n;
pub mod idempotency;
pub mod identity;
pub mod metrics;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod org;
pub mod pagination;
pub mod residents;
pub mod resource;
mod time;
pub mod validate;
pub mod wechat;

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Sign-in and tokens (the secret has no default).
    pub auth: auth::AuthConfig,
    /// The WeChat mini-program's server API.
    pub wechat: wechat::WechatConfig,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            body_limit: 1024 * 1024,
            auth: auth::AuthConfig::default(),
            wechat: wechat::WechatConfig::default(),
        }
    }
}

/// What every worker shares: built once, cloned into each app.
#[derive(Clone)]
pub struct AppState {
    db: web::Data<Db>,
    metrics: web::Data<metrics::Metrics>,
    openapi: web::Data<ops::OpenApiJson>,
    routes: web::Data<ops::RouteTable>,
    auth: web::Data<auth::Auth>,
    wechat: web::Data<wechat::WechatClient>,
    body_limit: usize,
}

impl AppState {
    /// Builds the shared state (and the contract, once); fails without a
    /// usable signing secret.
    pub fn new(db: Db, config: ApiConfig) -> Result<Self, auth::AuthSetupError> {
        let document = openapi::document();
        let routes = openapi::route_table(&document);
        let json = openapi::to_json(&document);
        Ok(Self {
            db: web::Data::new(db),
            metrics: web::Data::new(metrics::Metrics::default()),
            openapi: web::Data::new(ops::OpenApiJson(Arc::new(json))),
            routes: web::Data::new(routes),
            auth: web::Data::new(auth::Auth::new(config.auth)?),
            wechat: web::Data::new(wechat::WechatClient::new(config.wechat)),
            body_limit: config.body_limit,
        })
    }

    /// The database handle.
    pub fn db(&self) -> &Db {
        &self.db
    }
}

/// Registers every documented route; used by the server and by
/// [`openapi::document`], so the contract cannot miss a route.
pub fn register(cfg: &mut ServiceConfig) {
    cfg.service(ops::healthz)
        .service(ops::readyz)
        .service(ops::metrics)
        .service(
            utoipa_actix_web::scope("/api/v1")
                .configure(identity::routes)
                .configure(org::routes)
                .configure(residents::routes),
        );
}

/// The whole application.
pub fn app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<BoxBody>,
        Error = Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(register)
        .split_for_parts();
    app.app_data(state.db)
        .app_data(state.metrics)
        .app_data(state.openapi)
        .app_data(state.routes)
        .app_data(state.auth)
        .app_data(state.wechat)
        .app_data(web::PayloadConfig::new(state.body_limit))
        .app_data(extract::query_config())
        .app_data(extract::path_config())
        .route("/openapi.json", web::get().to(ops::openapi_json))
        .route("/docs", web::get().to(ops::docs_redirect))
        .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", Default::default()))
        .default_service(web::to(ops::fallback))
        .wrap(from_fn(middleware::method_override))
        .wrap(from_fn(middleware::request_context))
}
