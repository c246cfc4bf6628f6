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

diesel::joinable!(estates -> offices (office_id));
diesel::joinable!(buildings -> estates (estate_id));
diesel::joinable!(units -> buildings (building_id));
diesel::joinable!(houses -> units (unit_id));

diesel::allow_tables_to_appear_in_same_query!(
    idempotency_keys,
    company_settings,
    offices,
    estates,
    buildings,
    units,
    houses,
);
