//! Attacks on access tokens (RFC 8725): every forged, foreign, stale or
//! misused token is a 401 — and a token built the same way with nothing
//! wrong in it is accepted, so each refusal is about the one thing changed.
//! Refresh tokens rotate, and presenting a used one ends the whole session.

use actix_web::http::Method;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use wuye_domain::access::{AssignmentScope, Permission};

use super::{expect_unauthorized, refresh, sign_in, tokens_of};
use crate::db_test;
use crate::support::{ADMIN_PASSWORD, ADMIN_USERNAME, As, Reply, TEST_JWT_SECRET, TestApp};

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

fn decode_part(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// The claims of a token, read without checking anything.
fn claims_of(token: &str) -> Value {
    decode_part(token.split('.').nth(1).expect("a JWT"))
}

/// `header.claims` signed with HMAC-SHA256 over `secret`, whatever
/// algorithm the header names.
fn hmac_signed(header: &Value, claims: &Value, secret: &[u8]) -> String {
    hmac_signed_with(header, claims, secret, Algorithm::HS256)
}

fn hmac_signed_with(header: &Value, claims: &Value, secret: &[u8], algorithm: Algorithm) -> String {
    let message = format!("{}.{}", encode_part(header), encode_part(claims));
    let signature = jsonwebtoken::crypto::sign(
        message.as_bytes(),
        &EncodingKey::from_secret(secret).expect("an HMAC key"),
        algorithm,
    )
    .expect("sign");
    format!("{message}.{signature}")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A GET as `token`.
async fn me(app: &TestApp, token: &str) -> Reply {
    app.call_as(As::Token(token), Method::GET, "/api/v1/auth/me", None, &[])
        .await
}

db_test!(forged_and_foreign_access_tokens_are_refused, |app| {
    let header = json!({"alg": "HS256", "typ": "at+jwt"});
    // The administrator's real claims, freshly dated: signed with the
    // server's secret they are a valid token.
    let mut good = claims_of(&app.admin_token);
    good["iat"] = json!(now());
    good["exp"] = json!(now() + 600);
    let control = hmac_signed(&header, &good, TEST_JWT_SECRET);
    assert_eq!(
        me(&app, &control).await.expect(200).body["username"],
        ADMIN_USERNAME
    );

    let with = |field: &str, value: Value| {
        let mut claims = good.clone();
        claims[field] = value;
        hmac_signed(&header, &claims, TEST_JWT_SECRET)
    };
    let without = |field: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().expect("claims").remove(field);
        hmac_signed(&header, &claims, TEST_JWT_SECRET)
    };
    let unsigned = |alg: &str| {
        format!(
            "{}.{}.",
            encode_part(&json!({"alg": alg, "typ": "JWT"})),
            encode_part(&good)
        )
    };
    let rs256 = json!({"alg": "RS256", "typ": "at+jwt"});
    let random_signature = URL_SAFE_NO_PAD.encode(
        (0..256u32)
            .map(|i| (i.wrapping_mul(151) % 251) as u8)
            .collect::<Vec<u8>>(),
    );

    let attacks: Vec<(&str, String)> = vec![
        ("alg none", unsigned("none")),
        ("alg None", unsigned("None")),
        (
            "alg none, no signature part",
            unsigned("none").trim_end_matches('.').to_owned(),
        ),
        // HS/RS confusion: RS256 named, the secret used as an HMAC key.
        (
            "RS256 header, HMAC signature",
            hmac_signed(&rs256, &good, TEST_JWT_SECRET),
        ),
        (
            "RS256 header, RSA-sized signature",
            format!(
                "{}.{}.{random_signature}",
                encode_part(&rs256),
                encode_part(&good)
            ),
        ),
        (
            "HS512 with the right secret",
            hmac_signed_with(
                &json!({"alg": "HS512", "typ": "at+jwt"}),
                &good,
                TEST_JWT_SECRET,
                Algorithm::HS512,
            ),
        ),
        (
            "another secret",
            hmac_signed(&header, &good, b"not the server's secret, 0123456789abcdef"),
        ),
        ("expired beyond the leeway", with("exp", json!(now() - 120))),
        ("wrong audience", with("aud", json!("another-api"))),
        ("wrong issuer", with("iss", json!("someone-else"))),
        ("refresh type", with("typ", json!("refresh"))),
        ("no type", without("typ")),
        ("no expiry", without("exp")),
        ("no session", without("sid")),
        ("unknown subject kind", with("sub", json!("admin:1"))),
    ];
    for (attack, token) in attacks {
        let reply = me(&app, &token).await;
        assert_eq!(reply.status, 401, "{attack} was accepted: {}", reply.raw);
        expect_unauthorized(reply, "auth.invalid_token");
    }

    // Tampered payload: someone else's real token, its subject changed to
    // the administrator, its signature kept.
    let staff = app
        .staff_token(&[Permission::OrgRead], AssignmentScope::Company)
        .await;
    let parts: Vec<&str> = staff.split('.').collect();
    let mut claims = decode_part(parts[1]);
    assert_ne!(claims["sub"], "staff:1");
    claims["sub"] = json!("staff:1");
    let tampered = format!("{}.{}.{}", parts[0], encode_part(&claims), parts[2]);
    expect_unauthorized(me(&app, &tampered).await, "auth.invalid_token");
    // The untouched one still works: the tampering is what was refused.
    me(&app, &staff).await.expect(200);

    // A refresh token is no access token, and an access token no refresh
    // token.
    let tokens = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    expect_unauthorized(me(&app, &tokens.refresh).await, "auth.invalid_token");
    refresh(&app, &tokens.access)
        .await
        .expect_problem(401, "auth.invalid_refresh_token");
});

db_test!(an_access_token_dies_with_its_session, |app| {
    let tokens = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    me(&app, &tokens.access).await.expect(200);
    app.call_as(
        As::Token(&tokens.access),
        Method::POST,
        "/api/v1/auth/logout",
        None,
        &[],
    )
    .await
    .expect(204);
    // Still signed and unexpired, but its session has ended: on every
    // route, not only on the caller's own profile.
    expect_unauthorized(me(&app, &tokens.access).await, "auth.session_ended");
    let houses = app
        .call_as(
            As::Token(&tokens.access),
            Method::GET,
            "/api/v1/houses",
            None,
            &[],
        )
        .await;
    expect_unauthorized(houses, "auth.session_ended");
    refresh(&app, &tokens.refresh)
        .await
        .expect_problem(401, "auth.invalid_refresh_token");
    // Other sessions of the same account are not affected.
    me(&app, &app.admin_token).await.expect(200);
});

db_test!(a_reused_refresh_token_ends_the_session, |app| {
    let first = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let reply = refresh(&app, &first.refresh).await.expect(200);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let second = tokens_of(&reply);
    assert_ne!(second.refresh, first.refresh);
    me(&app, &second.access).await.expect(200);

    // The first refresh token again: a stolen copy, or a replay.
    refresh(&app, &first.refresh)
        .await
        .expect_problem(401, "auth.refresh_token_reused");

    // Everything of that session is dead now, the rotated token included.
    refresh(&app, &second.refresh)
        .await
        .expect_problem(401, "auth.invalid_refresh_token");
    for access in [&first.access, &second.access] {
        expect_unauthorized(me(&app, access).await, "auth.session_ended");
    }
    // And stays dead: the reused token keeps being refused.
    refresh(&app, &first.refresh)
        .await
        .expect_problem(401, "auth.refresh_token_reused");
    // Only that session: the account's others go on.
    me(&app, &app.admin_token).await.expect(200);
});

db_test!(refresh_tokens_rotate_within_one_session, |app| {
    let mut tokens = sign_in(&app, ADMIN_USERNAME, ADMIN_PASSWORD).await;
    let session = claims_of(&tokens.access)["sid"].clone();
    for _ in 0..3 {
        let next = tokens_of(&refresh(&app, &tokens.refresh).await.expect(200));
        assert_eq!(claims_of(&next.access)["sid"], session, "same session");
        assert_eq!(claims_of(&next.access)["sub"], "staff:1");
        tokens = next;
    }
    me(&app, &tokens.access).await.expect(200);
});
