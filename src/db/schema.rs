//! Table definitions, identical on both backends (see `migrations/`).

diesel::table! {
    server_keys (name) {
        name -> Text,
        value -> Text,
    }
}

diesel::table! {
    sites (id) {
        id -> BigInt,
        slug -> Text,
        name -> Text,
        allowed_origins -> Text,
        settings -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    threads (id) {
        id -> BigInt,
        site_id -> BigInt,
        key -> Text,
        title -> Text,
        url -> Text,
        created_at -> Timestamp,
        closed -> Bool,
        approved_count -> BigInt,
    }
}

diesel::table! {
    comments (id) {
        id -> BigInt,
        thread_id -> BigInt,
        parent_id -> Nullable<BigInt>,
        root_id -> Nullable<BigInt>,
        depth -> Integer,
        author_name -> Text,
        email -> Nullable<Text>,
        website -> Nullable<Text>,
        body_markdown -> Text,
        body_html -> Text,
        status -> Text,
        held_reason -> Nullable<Text>,
        created_at -> Timestamp,
        edited_at -> Nullable<Timestamp>,
        client_ip -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        edit_token_hash -> Text,
        like_count -> BigInt,
        notify_replies -> Bool,
        pinned -> Bool,
        is_owner -> Bool,
        import_key -> Nullable<Text>,
        kind -> Text,
        body_format -> Text,
        fingerprint -> Nullable<Text>,
        reader_id -> Nullable<BigInt>,
        signed_in_with -> Nullable<Text>,
    }
}

diesel::table! {
    comment_votes (comment_id, kind, voter) {
        comment_id -> BigInt,
        voter -> Text,
        kind -> Text,
        reason -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_reactions (comment_id, reaction, voter) {
        comment_id -> BigInt,
        reaction -> Text,
        voter -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    comment_reaction_counts (comment_id, reaction) {
        comment_id -> BigInt,
        reaction -> Text,
        total -> BigInt,
        imported -> BigInt,
    }
}

diesel::table! {
    spam_tokens (site_id, token) {
        site_id -> BigInt,
        token -> Text,
        spam_count -> BigInt,
        ham_count -> BigInt,
    }
}

diesel::table! {
    used_pow (digest) {
        digest -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    mail_outbox (id) {
        id -> BigInt,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        body_html -> Text,
        unsubscribe_url -> Nullable<Text>,
        sender_name -> Text,
        comment_id -> Nullable<BigInt>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    mail_addresses (id) {
        id -> BigInt,
        site_id -> BigInt,
        email -> Text,
        confirmed_at -> Nullable<Timestamp>,
        unsubscribed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        frequency -> Text,
    }
}

diesel::table! {
    mail_subscriptions (thread_id, address_id) {
        thread_id -> BigInt,
        address_id -> BigInt,
        created_at -> Timestamp,
        frequency -> Nullable<Text>,
    }
}

diesel::table! {
    mail_used_links (nonce) {
        nonce -> Text,
        used_at -> Timestamp,
    }
}

diesel::table! {
    mail_notified_comments (comment_id) {
        comment_id -> BigInt,
        notified_at -> Timestamp,
    }
}

diesel::joinable!(mail_addresses -> sites (site_id));
diesel::joinable!(mail_subscriptions -> mail_addresses (address_id));
diesel::joinable!(mail_subscriptions -> threads (thread_id));
diesel::joinable!(threads -> sites (site_id));
diesel::joinable!(comments -> threads (thread_id));
diesel::joinable!(comment_votes -> comments (comment_id));
diesel::allow_tables_to_appear_in_same_query!(
    server_keys,
    sites,
    threads,
    comments,
    comment_votes,
    spam_tokens,
    used_pow,
);

diesel::table! {
    admins (id) {
        id -> BigInt,
        name -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
        display_name -> Text,
    }
}

diesel::table! {
    admin_sessions (token_hash) {
        token_hash -> Text,
        admin_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    admin_setup_tokens (token_hash) {
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        scope -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    bans (id) {
        id -> BigInt,
        kind -> Text,
        value -> Text,
        note -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    report_reviews (comment_id) {
        comment_id -> BigInt,
        reviewed_at -> Timestamp,
    }
}

diesel::joinable!(admin_sessions -> admins (admin_id));
diesel::allow_tables_to_appear_in_same_query!(admins, admin_sessions);
diesel::allow_tables_to_appear_in_same_query!(report_reviews, comments);
diesel::allow_tables_to_appear_in_same_query!(report_reviews, comment_votes);
diesel::allow_tables_to_appear_in_same_query!(
    mail_outbox,
    mail_addresses,
    mail_subscriptions,
    mail_used_links,
    mail_notified_comments
);
diesel::allow_tables_to_appear_in_same_query!(mail_addresses, comments);
diesel::allow_tables_to_appear_in_same_query!(mail_addresses, threads);
diesel::allow_tables_to_appear_in_same_query!(mail_addresses, sites);
diesel::allow_tables_to_appear_in_same_query!(mail_subscriptions, threads);
diesel::allow_tables_to_appear_in_same_query!(mail_subscriptions, sites);
diesel::allow_tables_to_appear_in_same_query!(mail_subscriptions, comments);

diesel::table! {
    mail_digests (id) {
        id -> BigInt,
        recipient_key -> Text,
        frequency -> Text,
        period_end -> Timestamp,
        outbox_id -> Nullable<BigInt>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    mail_digest_items (id) {
        id -> BigInt,
        recipient_key -> Text,
        site_id -> BigInt,
        address_id -> Nullable<BigInt>,
        comment_id -> BigInt,
        reason -> Text,
        frequency -> Text,
        created_at -> Timestamp,
        digest_id -> Nullable<BigInt>,
    }
}

diesel::table! {
    webhook_endpoints (id) {
        id -> BigInt,
        site_id -> BigInt,
        url -> Text,
        format -> Text,
        events -> Text,
        secret_salt -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        endpoint_id -> BigInt,
        event -> Text,
        body -> Text,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        last_status -> Nullable<Integer>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(webhook_endpoints -> sites (site_id));
diesel::joinable!(webhook_deliveries -> webhook_endpoints (endpoint_id));
diesel::allow_tables_to_appear_in_same_query!(webhook_endpoints, webhook_deliveries, sites);

diesel::table! {
    webmentions (id) {
        id -> BigInt,
        site_id -> BigInt,
        source -> Text,
        target -> Text,
        status -> Text,
        outcome -> Nullable<Text>,
        requests -> Integer,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
        comment_id -> Nullable<BigInt>,
        client_ip -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    readers (id) {
        id -> BigInt,
        site_id -> BigInt,
        provider -> Text,
        subject -> Text,
        email -> Nullable<Text>,
        display_name -> Text,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
    }
}

diesel::table! {
    reader_sessions (token_hash) {
        token_hash -> Text,
        reader_id -> BigInt,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    reader_signin_requests (id) {
        id -> BigInt,
        site_id -> BigInt,
        email -> Text,
        display_name -> Text,
        origin -> Text,
        browser_hash -> Text,
        code_hash -> Nullable<Text>,
        failures -> Integer,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        page -> Nullable<Text>,
    }
}

diesel::joinable!(reader_sessions -> readers (reader_id));
diesel::joinable!(comments -> readers (reader_id));
diesel::allow_tables_to_appear_in_same_query!(readers, reader_sessions);
diesel::allow_tables_to_appear_in_same_query!(readers, comments);
diesel::allow_tables_to_appear_in_same_query!(readers, threads);
diesel::allow_tables_to_appear_in_same_query!(readers, sites);

diesel::table! {
    oidc_flows (state_hash) {
        state_hash -> Text,
        site_id -> BigInt,
        provider -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        origin -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        poll_hash -> Nullable<Text>,
        binding_hash -> Nullable<Text>,
    }
}
