//! The one schema for both engines (see the migrations under `migrations/`).

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    applications (id) {
        id -> BigInt,
        organization_id -> BigInt,
        app_key -> Text,
        name -> Text,
        properties -> Text,
        guest_users -> Bool,
        user_created_channels -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    oauth_clients (client_id) {
        client_id -> Text,
        application_id -> BigInt,
        organization_id -> BigInt,
        secret_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    access_tokens (token_hash) {
        token_hash -> Text,
        client_id -> Text,
        application_id -> BigInt,
        organization_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        revoked -> Bool,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        application_id -> BigInt,
        name -> Text,
        display_name -> Text,
        user_type -> Text,
        is_guest -> Bool,
        presence_status -> Text,
        online -> Bool,
        properties -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    user_secrets (user_id, name) {
        user_id -> BigInt,
        name -> Text,
        application_id -> BigInt,
        secret -> Text,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(applications -> organizations (organization_id));
diesel::joinable!(users -> applications (application_id));
diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    applications,
    oauth_clients,
    access_tokens,
    users,
    user_secrets
);
