//! Access tokens (RFC 8725 JWTs, HS256 only), refresh tokens and integration
//! keys. Refresh tokens and keys are random and opaque; only their SHA-256
//! hashes are stored.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The one signing algorithm accepted: a token naming any other (`none`,
/// `RS256` — the HS/RS confusion attack) is refused before its signature
/// is looked at.
pub const ALGORITHM: Algorithm = Algorithm::HS256;
/// Value of the `typ` claim of access tokens; refresh tokens are not JWTs,
/// so nothing else can be presented as one.
pub const ACCESS_TYPE: &str = "access";
/// Prefix of integration keys.
pub const API_KEY_PREFIX: &str = "wuye_sk_";
/// Shortest signing secret accepted in production, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;

/// The claims of an access token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Subject: `staff:<id>` or `resident:<id>`.
    pub sub: String,
    /// Issued at (Unix seconds).
    pub iat: u64,
    /// Expires (Unix seconds).
    pub exp: u64,
    /// Token type: always [`ACCESS_TYPE`].
    pub typ: String,
    /// The session (refresh-token family) it belongs to.
    pub sid: i64,
}

/// Who a verified access token speaks for: the subject of its session.
pub use wuye_persistence::access::sessions::Subject;

fn subject_claim(subject: Subject) -> String {
    match subject {
        Subject::Staff(id) => format!("staff:{id}"),
        Subject::Resident(id) => format!("resident:{id}"),
    }
}

fn parse_subject(claim: &str) -> Option<Subject> {
    let (kind, id) = claim.split_once(':')?;
    let id: i64 = id.parse().ok()?;
    match kind {
        "staff" => Some(Subject::Staff(id)),
        "resident" => Some(Subject::Resident(id)),
        _ => None,
    }
}

/// Why a signing secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// Fewer than [`MIN_SECRET_BYTES`] bytes.
    #[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes")]
    TooShort,
    /// Long enough but with almost no variety (`aaaa…`, `1234…`).
    #[error("the JWT secret is too predictable; use 32+ random bytes")]
    Predictable,
}

/// Checks a configured signing secret is strong enough for production.
pub fn check_secret(secret: &[u8]) -> Result<(), SecretError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort);
    }
    let mut distinct = secret.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    if distinct.len() < 12 {
        return Err(SecretError::Predictable);
    }
    Ok(())
}

/// Signs and verifies access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl: Duration,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenKeys")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

/// The token keys could not be built from the secret.
#[derive(Debug, thiserror::Error)]
#[error("unusable JWT secret: {0}")]
pub struct KeyError(String);

impl TokenKeys {
    /// Keys for `secret`, issuing tokens for `audience` by `issuer` that
    /// live `access_ttl`.
    pub fn new(
        secret: &[u8],
        issuer: &str,
        audience: &str,
        access_ttl: Duration,
    ) -> Result<Self, KeyError> {
        let encoding = EncodingKey::from_secret(secret).map_err(|e| KeyError(e.to_string()))?;
        let decoding = DecodingKey::from_secret(secret).map_err(|e| KeyError(e.to_string()))?;
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 30;
        Ok(Self {
            encoding,
            decoding,
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            access_ttl,
        })
    }

    /// How long access tokens live.
    pub fn access_ttl(&self) -> Duration {
        self.access_ttl
    }

    /// An access token for `subject` in session `session_id`.
    pub fn issue(&self, subject: Subject, session_id: i64) -> Result<String, KeyError> {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub: subject_claim(subject),
            iat: now,
            exp: now + self.access_ttl.as_secs(),
            typ: ACCESS_TYPE.to_owned(),
            sid: session_id,
        };
        let mut header = Header::new(ALGORITHM);
        header.typ = Some("at+jwt".to_owned());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|e| KeyError(e.to_string()))
    }

    /// The subject and session of a valid access token, or `None` for any
    /// token that is malformed, of another algorithm, badly signed, of
    /// another issuer or audience, expired, or not an access token.
    pub fn verify(&self, token: &str) -> Option<(Subject, i64)> {
        let data =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).ok()?;
        if data.header.alg != ALGORITHM || data.claims.typ != ACCESS_TYPE {
            return None;
        }
        Some((parse_subject(&data.claims.sub)?, data.claims.sid))
    }
}

/// `bytes` random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// A new opaque refresh token (256 random bits, URL-safe).
pub fn new_refresh_token() -> Result<String, getrandom::Error> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

/// A new integration key, `wuye_sk_` + 256 random bits.
pub fn new_api_key() -> Result<String, getrandom::Error> {
    Ok(format!(
        "{API_KEY_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(random_bytes::<32>()?)
    ))
}

/// SHA-256 of a token or key, hex: what is stored and looked up.
pub fn digest(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &[u8], audience: &str) -> TokenKeys {
        TokenKeys::new(secret, "wuye", audience, Duration::from_secs(900)).unwrap()
    }

    #[test]
    fn issued_tokens_verify_only_with_the_same_secret_and_audience() {
        let secret = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let token = keys(secret, "wuye-api")
            .issue(Subject::Staff(7), 3)
            .unwrap();
        assert_eq!(
            keys(secret, "wuye-api").verify(&token),
            Some((Subject::Staff(7), 3))
        );
        assert_eq!(keys(secret, "other").verify(&token), None);
        assert_eq!(
            keys(b"another secret of enough length!!!", "wuye-api").verify(&token),
            None
        );
    }

    #[test]
    fn weak_secrets_are_refused() {
        assert_eq!(check_secret(b"short"), Err(SecretError::TooShort));
        assert_eq!(check_secret(&[b'a'; 64]), Err(SecretError::Predictable));
        assert!(check_secret(&random_bytes::<32>().unwrap()).is_ok());
    }

    #[test]
    fn keys_and_tokens_are_random_and_hashed() {
        let key = new_api_key().unwrap();
        assert!(key.starts_with(API_KEY_PREFIX) && key.len() > 40);
        assert_ne!(key, new_api_key().unwrap());
        assert_eq!(digest(&key).len(), 64);
        assert_ne!(new_refresh_token().unwrap(), new_refresh_token().unwrap());
    }
}
