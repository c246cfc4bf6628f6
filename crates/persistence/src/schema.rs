//! The one portable schema for both backends (hand-written: only types that
//! mean the same on SQLite and PostgreSQL). Keep it in step with
//! `migrations/sqlite` and `migrations/postgres`.

#![allow(missing_docs)]

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        principal -> Text,
        idempotency_key -> Text,
        fingerprint -> Text,
        state -> Text,
        response_status -> Nullable<Integer>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        locked_until -> Timestamp,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    company_settings (id) {
        id -> BigInt,
        name -> Text,
        vip_card_prefix -> Text,
        time_zone -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    offices (id) {
        id -> BigInt,
        name -> Text,
        code -> Nullable<Text>,
        phone -> Nullable<Text>,
        address -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    estates (id) {
        id -> BigInt,
        office_id -> BigInt,
        name -> Text,
        address -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    buildings (id) {
        id -> BigInt,
        office_id -> BigInt,
        estate_id -> BigInt,
        name -> Text,
        floors_above -> Nullable<Integer>,
        floors_below -> Nullable<Integer>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    units (id) {
        id -> BigInt,
        office_id -> BigInt,
        estate_id -> BigInt,
        building_id -> BigInt,
        name -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    houses (id) {
        id -> BigInt,
        office_id -> BigInt,
        estate_id -> BigInt,
        building_id -> BigInt,
        unit_id -> BigInt,
        number -> Text,
        floor -> Integer,
        building_area -> BigInt,
        usable_area -> BigInt,
        house_type -> Text,
        state -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    roles (id) {
        id -> BigInt,
        code -> Nullable<Text>,
        name -> Text,
        description -> Nullable<Text>,
        permissions -> Text,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        office_id -> Nullable<BigInt>,
        username -> Text,
        display_name -> Text,
        mobile -> Nullable<Text>,
        password_hash -> Text,
        active -> Bool,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        archived_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    role_assignments (id) {
        id -> BigInt,
        user_id -> BigInt,
        role_id -> BigInt,
        scope_kind -> Text,
        scope_offices -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    residents (id) {
        id -> BigInt,
        openid -> Text,
        unionid -> Nullable<Text>,
        created_at -> Timestamp,
        last_login_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> BigInt,
        user_id -> Nullable<BigInt>,
        resident_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        session_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    api_keys (id) {
        id -> BigInt,
        name -> Text,
        prefix -> Text,
        key_hash -> Text,
        permissions -> Text,
        scope_kind -> Text,
        scope_offices -> Text,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    binding_requests (id) {
        id -> BigInt,
        resident_id -> BigInt,
        house_id -> BigInt,
        office_id -> BigInt,
        relation -> Text,
        name -> Text,
        phone -> Text,
        status -> Text,
        reviewed_by -> Nullable<BigInt>,
        review_rule -> Nullable<Text>,
        reviewed_at -> Nullable<Timestamp>,
        review_note -> Nullable<Text>,
        version -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    house_bindings (id) {
        id -> BigInt,
        resident_id -> BigInt,
        house_id -> BigInt,
        office_id -> BigInt,
        relation -> Text,
        request_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        occurred_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<BigInt>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Nullable<BigInt>,
        office_id -> Nullable<BigInt>,
        changes -> Text,
        request_id -> Text,
        client_addr -> Text,
    }
}

diesel::joinable!(estates -> offices (office_id));
diesel::joinable!(buildings -> estates (estate_id));
diesel::joinable!(units -> buildings (building_id));
diesel::joinable!(houses -> units (unit_id));
diesel::joinable!(role_assignments -> roles (role_id));
diesel::joinable!(role_assignments -> users (user_id));
diesel::joinable!(sessions -> users (user_id));
diesel::joinable!(sessions -> residents (resident_id));
diesel::joinable!(refresh_tokens -> sessions (session_id));
diesel::joinable!(house_bindings -> houses (house_id));
diesel::joinable!(binding_requests -> houses (house_id));

diesel::allow_tables_to_appear_in_same_query!(
    idempotency_keys,
    company_settings,
    offices,
    estates,
    buildings,
    units,
    houses,
    roles,
    users,
    role_assignments,
    residents,
    sessions,
    refresh_tokens,
    api_keys,
    binding_requests,
    house_bindings,
    audit_events,
);
