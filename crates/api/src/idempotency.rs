//! `Idempotency-Key` on creates: a retry with the same key and body gets the
//! first response again and creates nothing; the same key with another body
//! is 422; while the first request is still running, 409. Keys are kept 24 h.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, ETAG, LOCATION};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use wuye_domain::access::{DataScope, Permission};
use wuye_persistence::audit::AuditTarget;
use wuye_persistence::idempotency::{self, Claim, KeyRef, StoredResponse};
use wuye_persistence::{Db, DbConn, StoreError};

use crate::auth::Caller;
use crate::concurrency::etag;
use crate::error::{ApiError, ApiResult};
use crate::i18n::Text;

/// The header that marks a retry-safe create.
pub const HEADER: &str = "Idempotency-Key";
/// Set on a replayed response.
pub const REPLAYED_HEADER: &str = "Idempotency-Replayed";
const MAX_KEY_LEN: usize = 255;

/// The `Idempotency-Key` header, as documented on every create operation.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyHeader {
    /// A unique value per intended create (a UUID is ideal), 1–255
    /// printable ASCII characters. Retrying with the same key and body
    /// returns the first response (with `Idempotency-Replayed: true`) and
    /// creates nothing; the same key with another body is 422; kept 24 h.
    #[serde(rename = "Idempotency-Key")]
    #[param(
        rename = "Idempotency-Key",
        required = false,
        nullable = false,
        min_length = 1,
        max_length = 255,
        pattern = "^[\\x21-\\x7E]+$",
        example = "5f0c7a4e-2b1d-4c38-9a57-0e6f1d2c3b4a"
    )]
    pub key: Option<String>,
}

/// The key a request carried, if any, with what identifies the request.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    key: Option<String>,
    method_and_path: String,
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<ApiResult<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let method_and_path = format!("{} {}", req.method(), req.path());
        let key = match req.headers().get(HEADER) {
            None => Ok(None),
            Some(value) => match value.to_str() {
                Ok(key)
                    if !key.is_empty()
                        && key.len() <= MAX_KEY_LEN
                        && key.bytes().all(|b| b.is_ascii_graphic()) =>
                {
                    Ok(Some(key.to_owned()))
                }
                _ => Err(ApiError::bad_request(
                    "idempotency.invalid_key",
                    Text::new(
                        "Idempotency-Key 须为 1 到 255 个可见 ASCII 字符",
                        "Idempotency-Key must be 1 to 255 printable ASCII characters",
                    ),
                )),
            },
        };
        ready(key.map(|key| Self {
            key,
            method_and_path,
        }))
    }
}

/// A `201 Created` built inside the creating transaction, so that with a
/// key it can be stored in that same transaction, and the audit event
/// written there too.
#[derive(Debug, Clone)]
pub struct Created {
    location: String,
    version: i32,
    target: AuditTarget,
    body: String,
}

impl Created {
    /// The new record `target` at `location`, at `version`, answered as
    /// `body`.
    pub fn new<T: Serialize>(
        location: String,
        version: i32,
        target: AuditTarget,
        body: &T,
    ) -> Result<Self, StoreError> {
        let body = serde_json::to_string(body)
            .map_err(|e| StoreError::Internal(format!("response not serialisable: {e}")))?;
        Ok(Self {
            location,
            version,
            target,
            body,
        })
    }

    fn stored(&self) -> StoredResponse {
        StoredResponse {
            status: StatusCode::CREATED.as_u16(),
            headers: vec![
                (LOCATION.to_string(), self.location.clone()),
                (ETAG.to_string(), etag(self.version)),
                (CONTENT_TYPE.to_string(), "application/json".to_owned()),
            ],
            body: self.body.clone(),
        }
    }
}

impl IdempotencyKey {
    /// Runs a create for `caller`, who needs `permission`: `work` writes the
    /// record within the caller's scope and builds its [`Created`] answer,
    /// and a `create` audit event listing `body` is written, all in one
    /// transaction. With a key, the answer is stored in that transaction
    /// too, and a retry by the same caller gets it back without running
    /// `work`.
    pub async fn create<B, F>(
        self,
        db: &Db,
        caller: Caller,
        permission: Permission,
        body: &B,
        work: F,
    ) -> ApiResult<HttpResponse>
    where
        B: Serialize,
        F: Fn(&mut DbConn, &DataScope) -> Result<Created, StoreError> + Send + 'static,
    {
        self.create_with(
            db,
            caller,
            body,
            || async { Ok(()) },
            move |conn, caller, ()| {
                let scope = caller.authorize(conn, permission)?;
                Ok(work(conn, &scope)?)
            },
        )
        .await
    }

    /// The general form of [`IdempotencyKey::create`], for creates that
    /// are not authorised by a permission (a resident's own records) or
    /// that need a step outside the database first (exchanging a
    /// single-use WeChat code). `prepare` runs once, after a retry has been
    /// recognised — so a replay never repeats it — and before the
    /// transaction; `work` authorises `caller` itself and writes the record
    /// from what `prepare` gave. The `create` audit event and the stored
    /// answer are written as in [`IdempotencyKey::create`].
    pub async fn create_with<B, P, Fut, T, F>(
        self,
        db: &Db,
        caller: Caller,
        body: &B,
        prepare: P,
        work: F,
    ) -> ApiResult<HttpResponse>
    where
        B: Serialize,
        P: FnOnce() -> Fut,
        Fut: Future<Output = ApiResult<T>>,
        T: Send + Sync + 'static,
        F: Fn(&mut DbConn, &Caller, &T) -> ApiResult<Created> + Send + 'static,
    {
        let request = serde_json::to_value(body).map_err(|e| ApiError::internal(&e))?;
        let principal = caller.principal();
        let caller_for_claim = caller.clone();
        let create = move |conn: &mut DbConn, prepared: &T| -> ApiResult<Created> {
            let created = work(conn, &caller, prepared)?;
            crate::audit::record(
                conn,
                caller.actor(),
                "create",
                created.target.clone(),
                &request,
            )?;
            Ok(created)
        };
        let Some(key) = self.key else {
            let prepared = prepare().await?;
            let created = db.write(move |conn| create(conn, &prepared)).await?;
            return Ok(respond(&created.stored(), false));
        };
        let key_ref = KeyRef {
            principal,
            key,
            fingerprint: fingerprint(&self.method_and_path, body)?,
        };
        let claim_ref = key_ref.clone();
        let claimant = caller_for_claim.clone();
        // A signed-out or deactivated caller gets nothing, not even a
        // replay of their own earlier answer.
        let claim = db
            .write(move |conn| {
                claimant.grants(conn)?;
                Ok::<_, ApiError>(idempotency::claim(conn, &claim_ref)?)
            })
            .await?;
        match claim {
            Claim::Replay(stored) => return Ok(respond(&stored, true)),
            Claim::InProgress => return Err(in_progress()),
            Claim::Mismatch => return Err(key_reused()),
            Claim::Claimed => {}
        }
        let complete_ref = key_ref.clone();
        let outcome = match prepare().await {
            Ok(prepared) => {
                db.write(move |conn| {
                    let created = create(conn, &prepared)?;
                    let stored = created.stored();
                    idempotency::complete(conn, &complete_ref, &stored)?;
                    Ok::<_, ApiError>(stored)
                })
                .await
            }
            Err(error) => Err(error),
        };
        match outcome {
            Ok(stored) => Ok(respond(&stored, false)),
            Err(error) => {
                // Let a corrected retry use the key; if even this fails, the
                // claim's lock expires by itself.
                if let Err(release_error) = db
                    .write(move |conn| idempotency::release(conn, &key_ref))
                    .await
                {
                    tracing::warn!(error = %release_error, "could not release idempotency key");
                }
                Err(error)
            }
        }
    }
}

fn fingerprint<B: Serialize>(method_and_path: &str, body: &B) -> ApiResult<String> {
    let json = serde_json::to_vec(body).map_err(|e| ApiError::internal(&e))?;
    let mut hasher = Sha256::new();
    hasher.update(method_and_path.as_bytes());
    hasher.update([0]);
    hasher.update(&json);
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

fn respond(stored: &StoredResponse, replayed: bool) -> HttpResponse {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = HttpResponse::build(status);
    for (name, value) in &stored.headers {
        response.insert_header((name.as_str(), value.as_str()));
    }
    if replayed {
        response.insert_header((REPLAYED_HEADER, "true"));
    }
    response.body(stored.body.clone())
}

fn in_progress() -> ApiError {
    ApiError::conflict(
        "idempotency.in_progress",
        Text::new(
            "使用同一 Idempotency-Key 的请求正在处理中，请稍后重试",
            "A request with this Idempotency-Key is still being processed; retry shortly",
        ),
    )
}

fn key_reused() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency.key_reused",
        Text::new(
            "该 Idempotency-Key 已用于另一个不同的请求",
            "This Idempotency-Key was already used for a different request",
        ),
    )
}
