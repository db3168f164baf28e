//! End users keeping their accounts (issue 22): password change and reset, email change
//! confirmed by the new address, lockout after failed logins, and attempt limits.

use actix_web::test::TestRequest;
use roost_domain::model::account::AccountRules;
use roost_http::HttpSettings;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

async fn post_public(t: &TestApp, uri: &str, body: Value) -> Reply {
    t.send(TestRequest::post().uri(uri).set_json(body)).await
}

async fn as_session(t: &TestApp, req: TestRequest, token: &str) -> Reply {
    t.send(req.insert_header(("authorization", format!("Bearer {token}")))).await
}

/// The mails written to `to`, oldest first.
fn mails_to(t: &TestApp, to: &str) -> Vec<roost_domain::model::account::Mail> {
    t.state.service.outbox().unwrap().into_iter().filter(|m| m.to == to).collect()
}

/// The token in the newest mail to `to`, waiting for it (a reset's mail is written after the
/// answer) until `count` mails went there.
async fn mailed_token(t: &TestApp, to: &str, count: usize) -> String {
    for _ in 0..200 {
        let mails = mails_to(t, to);
        if mails.len() >= count {
            let body = &mails[count - 1].body;
            return body.split_whitespace().find(|w| w.starts_with("rmt_")).expect("a token").to_owned();
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("no mail number {count} to {to}: {:?}", mails_to(t, to));
}

async fn app_key(t: &TestApp) -> String {
    t.get("/v1/application").await.body["key"].as_str().unwrap().to_owned()
}

/// Signs up, activates and logs in `name`; its application key and session token.
async fn account(t: &TestApp, name: &str, email: &str, password: &str) -> (String, String) {
    let key = app_key(t).await;
    let put =
        t.call(TestRequest::put().uri("/v1/application/settings").set_json(json!({"userSignUp": "ENABLED"}))).await;
    assert_eq!(put.status, 200, "{}", put.body);
    let body = json!({"key": key, "username": name, "email": email, "password": password});
    let created = post_public(t, "/v1/accounts", body).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let token = mailed_token(t, email, 1).await;
    assert_eq!(post_public(t, "/v1/accounts/activate", json!({"token": token})).await.status, 200);
    let session = log_in(t, &key, name, password).await;
    assert_eq!(session.status, 200, "{}", session.body);
    (key, session.body["access_token"].as_str().unwrap().to_owned())
}

async fn log_in(t: &TestApp, key: &str, name: &str, password: &str) -> Reply {
    post_public(t, "/v1/sessions", json!({"key": key, "username": name, "password": password})).await
}

#[actix_web::test]
async fn a_password_change_ends_every_session_and_starts_a_new_one() {
    for t in TestApp::each().await {
        let (key, first) = account(&t, "sec-jane", "jane@example.com", "correct horse battery").await;
        let second = log_in(&t, &key, "sec-jane", "correct horse battery").await.body["access_token"].clone();
        let change = |old: &str, new: &str| {
            TestRequest::put().uri("/v1/me/password").set_json(json!({"oldPassword": old, "newPassword": new}))
        };
        let wrong = as_session(&t, change("not my password", "a brand new secret"), &first).await;
        assert_eq!(wrong.status, 400, "{}", wrong.body);
        assert_eq!(wrong.body["errors"][0]["field"], "oldPassword");
        assert_eq!(wrong.body["errors"].as_array().unwrap().len(), 1, "nothing but the message: {}", wrong.body);
        let weak = as_session(&t, change("correct horse battery", "short"), &first).await;
        assert_eq!(weak.body["errors"][0]["field"], "newPassword", "{}", weak.body);

        // A reset mailed before the change must not undo it.
        let ask = json!({"key": key, "email": "jane@example.com"});
        assert_eq!(post_public(&t, "/v1/accounts/password-reset", ask).await.status, 202);
        let pending = mailed_token(&t, "jane@example.com", 2).await;
        let changed = as_session(&t, change("correct horse battery", "a brand new secret"), &first).await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        assert_eq!(changed.header("cache-control"), Some("no-store"));
        assert_eq!(changed.body["user"]["name"], "sec-jane");
        let renewed = changed.body["access_token"].as_str().unwrap();
        assert_eq!(as_session(&t, TestRequest::get().uri("/v1/me"), renewed).await.status, 200);
        // Tokens go in the Authorization header only, never in a URL (RFC 6750 §2.3 is not offered).
        let in_query = t.send(TestRequest::get().uri(&format!("/v1/me?access_token={renewed}"))).await;
        assert_eq!(in_query.status, 401, "{}", in_query.body);
        for ended in [first.as_str(), second.as_str().unwrap()] {
            assert_eq!(as_session(&t, TestRequest::get().uri("/v1/me"), ended).await.status, 401, "{}", t.label());
        }
        assert_eq!(log_in(&t, &key, "sec-jane", "correct horse battery").await.status, 401);
        assert_eq!(log_in(&t, &key, "sec-jane", "a brand new secret").await.status, 200);
        let stale = TestRequest::post()
            .uri(&format!("/v1/accounts/password-reset/{pending}"))
            .set_json(json!({"newPassword": "the attacker's own"}));
        assert_eq!(t.send(stale).await.status, 400, "the password change used up the pending reset");
        let sessions = t.get("/v1/user-sessions?state=ACTIVE").await;
        assert_eq!(sessions.body["page"]["totalElements"], 2, "the renewed one and the last login");
        // A back end's token has no password to change.
        assert_eq!(t.call(change("correct horse battery", "whatever it is")).await.status, 403);
    }
}

#[actix_web::test]
async fn a_reset_token_sets_a_new_password_once_and_ends_every_session() {
    let settings = HttpSettings { public_url: Some("https://chat.example".into()), ..HttpSettings::default() };
    for t in TestApp::each_with(settings).await {
        let (key, session) = account(&t, "sec-rob", "rob@example.com", "an old passphrase").await;
        let ask = |email: &str| json!({"key": key, "email": email});
        let unknown = post_public(&t, "/v1/accounts/password-reset", ask("nobody@example.com")).await;
        assert_eq!(unknown.status, 202, "no account enumeration: {}", unknown.body);
        let bad_key = post_public(&t, "/v1/accounts/password-reset", json!({"key": "nope", "email": "a@b.co"})).await;
        assert_eq!(bad_key.status, 400);
        let not_an_email = post_public(&t, "/v1/accounts/password-reset", ask("rob")).await;
        assert_eq!(not_an_email.status, 400);

        let asked = post_public(&t, "/v1/accounts/password-reset", ask("ROB@example.com")).await;
        assert_eq!(asked.status, 202);
        let token = mailed_token(&t, "rob@example.com", 2).await;
        let mail = mails_to(&t, "rob@example.com").pop().unwrap();
        assert!(mail.body.contains("https://chat.example/v1/accounts/password-reset/rmt_"), "{}", mail.body);

        let reset = |token: &str, password: &str| {
            TestRequest::post()
                .uri(&format!("/v1/accounts/password-reset/{token}"))
                .set_json(json!({"newPassword": password}))
        };
        let weak = t.send(reset(&token, "sec-rob-1234")).await;
        assert_eq!(weak.body["errors"][0]["field"], "newPassword", "{}", weak.body);
        let done = t.send(reset(&token, "a fresh passphrase")).await;
        assert_eq!(done.status, 200, "{}: {}", t.label(), done.body);
        assert_eq!(done.body["name"], "sec-rob");
        assert_eq!(t.send(reset(&token, "yet another one!")).await.status, 400, "single use");
        assert_eq!(as_session(&t, TestRequest::get().uri("/v1/me"), &session).await.status, 401);
        assert_eq!(log_in(&t, &key, "sec-rob", "an old passphrase").await.status, 401);
        assert_eq!(log_in(&t, &key, "sec-rob", "a fresh passphrase").await.status, 200);

        // A few reset mails an hour at most: the third is the last (the answer is 202 anyway).
        for _ in 0..3 {
            assert_eq!(post_public(&t, "/v1/accounts/password-reset", ask("rob@example.com")).await.status, 202);
        }
        mailed_token(&t, "rob@example.com", 4).await;
        let app = roost_domain::ApplicationId(t.get("/v1/application").await.body["id"].as_i64().unwrap());
        let issued = roost_domain::service::IssuedSecret { secret: "rmt_x".into(), hash: "x".repeat(64) };
        let mail = roost_domain::service::MailToken { token: &issued, public_url: None };
        for _ in 0..50 {
            if mails_to(&t, "rob@example.com").len() == 4 {
                break;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        let sent = t.state.service.send_password_reset(app, "rob@example.com", AccountRules::default(), mail).unwrap();
        assert!(!sent, "{}: the fourth reset mail of the hour is not written", t.label());

        // Requests at once count in turn: never more than the cap, however they interleave.
        account(&t, "sec-many", "many@example.com", "many's passphrase").await;
        let racing: Vec<_> = (0..8)
            .map(|i| {
                let service = t.state.service.clone();
                std::thread::spawn(move || {
                    let issued =
                        roost_domain::service::IssuedSecret { secret: format!("rmt_{i}"), hash: format!("{i:064}") };
                    let mail = roost_domain::service::MailToken { token: &issued, public_url: None };
                    service.send_password_reset(app, "many@example.com", AccountRules::default(), mail).unwrap()
                })
            })
            .collect();
        let sent = racing.into_iter().filter_map(|r| r.join().ok()).filter(|sent| *sent).count();
        assert_eq!(sent, 3, "{}: {sent} reset mails at once", t.label());

        // An expired token does nothing.
        t.db.execute("UPDATE account_tokens SET expires_at = created_at");
        let stale = mailed_token(&t, "rob@example.com", 4).await;
        assert_eq!(t.send(reset(&stale, "an expired attempt")).await.status, 400);
    }
}

#[actix_web::test]
async fn a_new_email_takes_effect_once_the_new_address_confirms_it() {
    for t in TestApp::each().await {
        let (_, session) = account(&t, "sec-eve", "eve@example.com", "eve's passphrase").await;
        account(&t, "sec-max", "max@example.com", "max's passphrase").await;
        let patch = |body: Value| {
            TestRequest::patch()
                .uri("/v1/me")
                .insert_header(("content-type", "application/merge-patch+json"))
                .set_payload(body.to_string())
        };
        let profile = as_session(
            &t,
            patch(json!({"displayName": "Eve", "properties": {"description": "hi"}, "email": "Eve@New.example"})),
            &session,
        )
        .await;
        assert_eq!(profile.status, 200, "{}: {}", t.label(), profile.body);
        assert_eq!(profile.body["displayName"], "Eve", "at once");
        assert_eq!(profile.body["properties"]["description"], "hi");
        assert_eq!(profile.body["email"], "eve@example.com", "the old address until the new one confirms");
        let notice = mails_to(&t, "eve@example.com").pop().unwrap();
        assert!(notice.body.contains("eve@new.example") && !notice.body.contains("rmt_"), "{}", notice.body);
        let token = mailed_token(&t, "eve@new.example", 1).await;
        assert_eq!(post_public(&t, "/v1/accounts/activate", json!({"token": token})).await.status, 200);
        let me = as_session(&t, TestRequest::get().uri("/v1/me"), &session).await;
        assert_eq!(me.body["email"], "eve@new.example");

        let taken = as_session(&t, patch(json!({"email": "MAX@example.com"})), &session).await;
        assert_eq!(taken.status, 400, "{}", taken.body);
        assert_eq!(taken.body["errors"][0]["field"], "email");
        let not_an_email = as_session(&t, patch(json!({"email": "eve"})), &session).await;
        assert_eq!(not_an_email.status, 400);
        let rename = as_session(&t, patch(json!({"name": "someone-else"})), &session).await;
        assert_eq!(rename.status, 403, "{}", rename.body);
        let unguest = as_session(&t, patch(json!({"is_guest": true})), &session).await;
        assert_eq!(unguest.status, 403, "{}", unguest.body);
        // A refused email leaves the other fields as they were: nothing is written.
        let half = as_session(&t, patch(json!({"displayName": "Half", "email": "not-an-email"})), &session).await;
        assert_eq!(half.status, 400);
        let me = as_session(&t, TestRequest::get().uri("/v1/me"), &session).await;
        assert_eq!(me.body["displayName"], "Eve");
        // Sent mail older than a week goes (housekeeping); waiting mail stays whatever its age.
        let before = t.state.service.outbox().unwrap().len();
        t.db.execute("UPDATE outbox SET sent_at = '2000-01-01 00:00:00' WHERE recipient = 'eve@new.example'");
        t.db.execute("UPDATE outbox SET created_at = '2000-01-01 00:00:00' WHERE recipient = 'max@example.com'");
        assert_eq!(t.state.service.purge_sent_mail().unwrap(), 1, "{}", t.label());
        assert_eq!(t.state.service.outbox().unwrap().len(), before - 1);
        // Another user shown to a user has no email.
        let others = as_session(&t, TestRequest::get().uri("/v1/users?name=sec-max"), &session).await;
        assert!(!others.body.to_string().contains("max@example.com"), "{}", others.body);
    }
}

#[actix_web::test]
async fn failed_logins_lock_an_account_until_the_operator_unlocks_it() {
    let accounts = AccountRules { lockout_failures: 3, lockout_seconds: 900, ..AccountRules::default() };
    // The per-minute attempt limit is another test's: here only the lockout counts.
    let login_attempts_per_minute = std::num::NonZeroU32::new(100).unwrap();
    for t in TestApp::each_with(HttpSettings { accounts, login_attempts_per_minute, ..HttpSettings::default() }).await {
        let (key, _) = account(&t, "sec-lou", "lou@example.com", "lou's passphrase").await;
        for _ in 0..3 {
            assert_eq!(log_in(&t, &key, "sec-lou", "guessing wrong").await.status, 401);
        }
        let locked = log_in(&t, &key, "sec-lou", "lou's passphrase").await;
        assert_eq!(locked.status, 429, "{}: the right password while locked: {}", t.label(), locked.body);
        let wait: u64 = locked.header("retry-after").unwrap().parse().unwrap();
        assert!(wait > 800 && wait <= 900, "{wait}");
        let app = roost_domain::ApplicationId(t.get("/v1/application").await.body["id"].as_i64().unwrap());
        t.state.service.unlock_account(app, "sec-lou").unwrap();
        assert_eq!(log_in(&t, &key, "sec-lou", "lou's passphrase").await.status, 200);
        // A success starts the count again.
        for _ in 0..2 {
            assert_eq!(log_in(&t, &key, "sec-lou", "guessing wrong").await.status, 401);
        }
        assert_eq!(log_in(&t, &key, "sec-lou", "lou's passphrase").await.status, 200);
        assert_eq!(log_in(&t, &key, "sec-lou", "guessing wrong").await.status, 401);
        let after_one = log_in(&t, &key, "sec-lou", "lou's passphrase").await;
        assert_eq!(
            after_one.status,
            200,
            "{}: not locked after 1: {} {}",
            t.label(),
            after_one.body,
            t.db.count("SELECT failed_logins FROM users WHERE name = 'sec-lou'")
        );
        assert!(t.state.service.unlock_account(app, "nobody").is_err());
    }
}

#[actix_web::test]
async fn logins_are_limited_per_account_and_source() {
    let settings =
        HttpSettings { login_attempts_per_minute: std::num::NonZeroU32::new(4).unwrap(), ..HttpSettings::default() };
    for t in TestApp::each_with(settings).await {
        let key = app_key(&t).await;
        let attempt = |name: &str| {
            TestRequest::post()
                .uri("/v1/sessions")
                .peer_addr("203.0.113.9:40000".parse().unwrap())
                .set_json(json!({"key": key, "username": name, "password": "whatever it is"}))
        };
        for _ in 0..4 {
            assert_eq!(t.send(attempt("sec-nobody")).await.status, 401);
        }
        let limited = t.send(attempt("sec-nobody")).await;
        assert_eq!(limited.status, 429, "{}", limited.body);
        assert!(limited.header("retry-after").is_some());
        assert_eq!(t.send(attempt("sec-somebody")).await.status, 401, "another account from the same source");
    }
}
