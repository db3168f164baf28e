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
        version -> BigInt,
        updated_at -> Nullable<Timestamp>,
        user_sign_up -> Bool,
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
        display_picture_key -> Nullable<Text>,
        display_picture_url -> Nullable<Text>,
        email -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        activated_at -> Nullable<Timestamp>,
        failed_logins -> Integer,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    account_tokens (token_hash) {
        token_hash -> Text,
        application_id -> BigInt,
        user_id -> BigInt,
        purpose -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        new_email -> Nullable<Text>,
    }
}

diesel::table! {
    user_sessions (token_hash) {
        token_hash -> Text,
        id -> BigInt,
        application_id -> BigInt,
        user_id -> BigInt,
        user_agent -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        application_id -> BigInt,
        recipient -> Text,
        subject -> Text,
        body -> Text,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        abandoned_at -> Nullable<Timestamp>,
        attempts -> Integer,
        next_attempt_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
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

diesel::table! {
    events (application_id, seq) {
        application_id -> BigInt,
        seq -> BigInt,
        event_type -> Text,
        channel_id -> Nullable<BigInt>,
        user_id -> Nullable<BigInt>,
        resource -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    event_counters (application_id) {
        application_id -> BigInt,
        last_seq -> BigInt,
        purged_through -> BigInt,
    }
}

diesel::table! {
    stream_tickets (ticket_hash) {
        ticket_hash -> Text,
        token_hash -> Text,
        session -> Bool,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    stream_presence (node_id, user_id) {
        node_id -> BigInt,
        user_id -> BigInt,
        application_id -> BigInt,
        streams -> Integer,
    }
}

diesel::table! {
    open_streams (stream_id) {
        stream_id -> BigInt,
        node_id -> BigInt,
        application_id -> BigInt,
        user_id -> BigInt,
        session_id -> BigInt,
        opened_at -> Timestamp,
    }
}

diesel::table! {
    chat_sessions (id) {
        id -> BigInt,
        stream_id -> BigInt,
        application_id -> BigInt,
        user_id -> BigInt,
        session_id -> BigInt,
        channel_id -> BigInt,
        opened_at -> Timestamp,
    }
}

diesel::table! {
    jobs (id) {
        id -> BigInt,
        application_id -> BigInt,
        job_type -> Text,
        state -> Text,
        channel_id -> Nullable<BigInt>,
        input_key -> Nullable<Text>,
        result_key -> Nullable<Text>,
        processed -> BigInt,
        failed -> BigInt,
        errors -> Text,
        lease_until -> Nullable<Timestamp>,
        node_id -> Nullable<BigInt>,
        attempts -> Integer,
        created_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    import_keys (application_id, idempotency_key) {
        application_id -> BigInt,
        idempotency_key -> Text,
        message_id -> BigInt,
    }
}

diesel::table! {
    import_deferred (job_id, record_index) {
        job_id -> BigInt,
        record_index -> BigInt,
        record -> Text,
    }
}

diesel::table! {
    roost_nodes (node_id) {
        node_id -> BigInt,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        application_id -> BigInt,
        url -> Text,
        events -> Text,
        enabled -> Bool,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_until -> Nullable<Timestamp>,
        cursor_seq -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        application_id -> BigInt,
        event_seq -> BigInt,
        event_type -> Text,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        response_code -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        next_attempt_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(applications -> organizations (organization_id));
diesel::joinable!(users -> applications (application_id));

diesel::table! {
    channels (id) {
        id -> BigInt,
        application_id -> BigInt,
        channel_type -> Text,
        name -> Nullable<Text>,
        display_name -> Nullable<Text>,
        creator_id -> Nullable<BigInt>,
        properties -> Text,
        main_thread_id -> BigInt,
        direct_key -> Nullable<Text>,
        last_message_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        version -> BigInt,
        updated_at -> Nullable<Timestamp>,
        message_count -> BigInt,
    }
}

diesel::table! {
    channel_members (channel_id, user_id) {
        channel_id -> BigInt,
        user_id -> BigInt,
        application_id -> BigInt,
        moderator -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    channel_invites (channel_id, user_id) {
        channel_id -> BigInt,
        user_id -> BigInt,
        application_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    threads (id) {
        id -> BigInt,
        application_id -> BigInt,
        channel_id -> BigInt,
        thread_type -> Text,
        parent_message_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        application_id -> BigInt,
        channel_id -> BigInt,
        thread_id -> BigInt,
        message_type -> Text,
        user_id -> Nullable<BigInt>,
        body -> Nullable<Text>,
        file -> Nullable<Text>,
        file_key -> Nullable<Text>,
        group_tag -> Nullable<Text>,
        properties -> Text,
        mentions -> Text,
        links -> Text,
        nested_level -> BigInt,
        replies_count -> BigInt,
        parent_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        last_edited_at -> Nullable<Timestamp>,
        version -> BigInt,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    reactions (message_id, emoji, user_id) {
        message_id -> BigInt,
        emoji -> Text,
        user_id -> BigInt,
        application_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    read_marks (channel_id, user_id) {
        channel_id -> BigInt,
        user_id -> BigInt,
        application_id -> BigInt,
        last_read_message_id -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        application_id -> BigInt,
        user_id -> BigInt,
        channel_id -> BigInt,
        message_id -> BigInt,
        kind -> Text,
        mentioned_channel_id -> Nullable<BigInt>,
        title -> Text,
        body -> Text,
        muted -> Bool,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    files (file_key) {
        file_key -> Text,
        application_id -> BigInt,
        name -> Text,
        content_type -> Text,
        size -> BigInt,
        checksum -> Text,
        created_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (application_id, idempotency_key) {
        application_id -> BigInt,
        idempotency_key -> Text,
        fingerprint -> Text,
        status -> Nullable<BigInt>,
        content_type -> Nullable<Text>,
        etag -> Nullable<Text>,
        location -> Nullable<Text>,
        body -> Nullable<Binary>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    user_blocks (user_id, blocked_user_id) {
        user_id -> BigInt,
        blocked_user_id -> BigInt,
        application_id -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    message_reports (message_id, user_id) {
        message_id -> BigInt,
        user_id -> BigInt,
        application_id -> BigInt,
        channel_id -> BigInt,
        reason -> Text,
        created_at -> Timestamp,
    }
}

diesel::joinable!(channel_members -> users (user_id));
diesel::joinable!(channel_invites -> users (user_id));
diesel::joinable!(read_marks -> users (user_id));
diesel::joinable!(reactions -> users (user_id));
diesel::joinable!(chat_sessions -> users (user_id));

diesel::allow_tables_to_appear_in_same_query!(
    organizations,
    applications,
    oauth_clients,
    access_tokens,
    users,
    user_secrets,
    channels,
    channel_members,
    channel_invites,
    threads,
    messages,
    reactions,
    read_marks,
    notifications,
    idempotency_keys,
    files,
    account_tokens,
    user_sessions,
    outbox,
    user_blocks,
    message_reports,
    events,
    event_counters,
    stream_tickets,
    stream_presence,
    open_streams,
    chat_sessions,
    jobs,
    import_keys,
    import_deferred,
    roost_nodes,
    webhooks,
    webhook_deliveries,
);
