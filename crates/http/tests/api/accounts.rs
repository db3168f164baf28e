//! End users' accounts (issue 22, first part): sign-up behind `userSignUp`, activation by the
//! mailed token, login for a session token that acts as the user, `GET /v1/me`, logout; and the
//! user principal refused on the Platform API.

use actix_web::test::TestRequest;
use roost_http::HttpSettings;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

async fn post_public(t: &TestApp, uri: &str, body: Value) -> Reply {
    t.send(TestRequest::post().uri(uri).set_json(body)).await
}

async fn as_session(t: &TestApp, req: TestRequest, token: &str) -> Reply {
    t.send(req.insert_header(("authorization", format!("Bearer {token}")))).await
}

/// The activation token in the newest mail to `to`.
fn mailed_token(t: &TestApp, to: &str) -> String {
    let outbox = t.state.service.outbox().unwrap();
    let mail = outbox.iter().rev().find(|m| m.to == to).unwrap_or_else(|| panic!("no mail to {to}: {outbox:?}"));
    let token = mail.body.split_whitespace().find(|w| w.starts_with("rmt_")).expect("a token in the mail");
    token.to_owned()
}

async fn app_key(t: &TestApp) -> String {
    t.get("/v1/application").await.body["key"].as_str().unwrap().to_owned()
}

async fn enable_sign_up(t: &TestApp) {
    let put =
        t.call(TestRequest::put().uri("/v1/application/settings").set_json(json!({"userSignUp": "ENABLED"}))).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert_eq!(put.body["userSignUp"], "ENABLED");
}

#[actix_web::test]
async fn sign_up_activate_log_in_and_out() {
    for t in TestApp::each().await {
        let key = app_key(&t).await;
        let jane = json!({"key": key, "username": "acc-jane", "email": "Jane@Example.com", "password": "correct horse battery"});
        let disabled = post_public(&t, "/v1/accounts", jane.clone()).await;
        assert_eq!(disabled.status, 403, "{}: sign-up is off by default: {}", t.label(), disabled.body);
        assert_eq!(t.get("/v1/application/settings").await.body["userSignUp"], "DISABLED");
        enable_sign_up(&t).await;

        let refused = [
            (
                json!({"key": "nope", "username": "acc-x", "email": "x@example.com", "password": "long enough pw"}),
                "key",
            ),
            (json!({"key": key, "username": "acc-x", "email": "x@example.com", "password": "short"}), "password"),
            (
                json!({"key": key, "username": "acc-x", "email": "x@example.com", "password": "acc-x-is-me!"}),
                "password",
            ),
            (json!({"key": key, "username": "acc-x", "email": "not-an-email", "password": "long enough pw"}), "email"),
        ];
        for (body, field) in refused {
            let reply = post_public(&t, "/v1/accounts", body).await;
            assert_eq!(reply.status, 400, "{}", reply.body);
            assert_eq!(reply.body["errors"][0]["field"], field, "{}", reply.body);
        }
        let created = post_public(&t, "/v1/accounts", jane.clone()).await;
        assert_eq!(created.status, 201, "{}: {}", t.label(), created.body);
        assert_eq!(created.body["name"], "acc-jane");
        assert!(!created.body.to_string().contains("horse"), "the password is never returned");
        let stored = t.db.count("SELECT COUNT(*) FROM users WHERE password_hash LIKE '$argon2id$%'");
        assert_eq!(stored, 1, "only an argon2id hash is stored");
        let twice = post_public(&t, "/v1/accounts", jane.clone()).await;
        assert_eq!(twice.status, 400, "{}", twice.body);
        let same_email =
            json!({"key": key, "username": "acc-jane2", "email": "jane@example.COM", "password": "another long one"});
        assert_eq!(post_public(&t, "/v1/accounts", same_email).await.status, 400, "an email is one account's");

        let login = |username: &str, password: &str| {
            TestRequest::post()
                .uri("/v1/sessions")
                .insert_header(("x-api-key", key.as_str()))
                .insert_header(("user-agent", "roost-test/1"))
                .set_json(json!({"username": username, "password": password}))
        };
        let early = t.send(login("acc-jane", "correct horse battery")).await;
        assert_eq!(early.status, 403, "not activated yet: {}", early.body);
        let wrong = t.send(login("acc-jane", "wrong horse battery")).await;
        let nobody = t.send(login("acc-nobody", "wrong horse battery")).await;
        assert_eq!((wrong.status.as_u16(), nobody.status.as_u16()), (401, 401));
        assert_eq!(wrong.body["error"], nobody.body["error"], "no hint whether the user exists");

        let token = mailed_token(&t, "Jane@Example.com");
        let activated = post_public(&t, "/v1/accounts/activate", json!({"token": token})).await;
        assert_eq!(activated.status, 200, "{}", activated.body);
        assert_eq!(post_public(&t, "/v1/accounts/activate", json!({"token": token})).await.status, 400, "single use");

        let session = t.send(login("acc-jane", "correct horse battery")).await;
        assert_eq!(session.status, 200, "{}", session.body);
        assert_eq!(session.header("cache-control"), Some("no-store"));
        assert_eq!(session.body["token_type"], "Bearer");
        assert!(session.body["expires_in"].as_i64().unwrap() > 0);
        assert_eq!(session.body["user"]["name"], "acc-jane");
        let bearer = session.body["access_token"].as_str().unwrap().to_owned();
        assert!(bearer.starts_with("rus_"));

        let me = as_session(&t, TestRequest::get().uri("/v1/me"), &bearer).await;
        assert_eq!(me.status, 200, "{}", me.body);
        assert_eq!((me.body["name"].as_str(), me.body["email"].as_str()), (Some("acc-jane"), Some("jane@example.com")));
        // A user session reads other users' public fields, never an email; the application's
        // settings are its back end's.
        let users = as_session(&t, TestRequest::get().uri("/v1/users"), &bearer).await;
        assert_eq!(users.status, 200, "{}", users.body);
        assert!(!users.body.to_string().contains("jane@example.com"), "{}", users.body);
        let settings = as_session(&t, TestRequest::get().uri("/v1/application/settings"), &bearer).await;
        assert_eq!(settings.status, 403, "{}", settings.body);
        assert!(!settings.body.to_string().contains("guestUsers"), "no settings in a refusal");
        assert_eq!(t.get("/v1/me").await.status, 403, "an application has no account");

        // The application sees its users' sessions (the spec's `GET /v1/user-sessions`).
        let sessions = t.get("/v1/user-sessions").await;
        assert_eq!(sessions.status, 200, "{}", sessions.body);
        let listed = &sessions.body["_embedded"]["sessions"][0];
        assert_eq!((listed["state"].as_str(), listed["userAgent"].as_str()), (Some("ACTIVE"), Some("roost-test/1")));
        assert_eq!(listed["user"]["name"], "acc-jane");
        assert!(listed.get("endTime").is_none(), "{listed}");
        assert_eq!(as_session(&t, TestRequest::get().uri("/v1/user-sessions"), &bearer).await.status, 403);

        let out = as_session(&t, TestRequest::delete().uri("/v1/sessions/current"), &bearer).await;
        assert_eq!(out.status, 204, "{}", out.body);
        let after = as_session(&t, TestRequest::get().uri("/v1/me"), &bearer).await;
        assert_eq!(after.status, 401, "the token ended with its session");
        let ended = t.get("/v1/user-sessions?state=ENDED").await;
        assert_eq!(ended.body["page"]["totalElements"], 1, "{}", ended.body);
        assert!(ended.body["_embedded"]["sessions"][0]["endTime"].is_string(), "{}", ended.body);
        assert_eq!(t.get("/v1/user-sessions?state=ACTIVE").await.body["page"]["totalElements"], 0);
        assert_eq!(t.get("/v1/user-sessions?state=SLEEPING").await.status, 400);
    }
}

/// The mailed link activates too; an unknown token is refused.
#[actix_web::test]
async fn the_activation_link_works_once() {
    let settings = HttpSettings { public_url: Some("https://chat.example".into()), ..HttpSettings::default() };
    for t in TestApp::each_with(settings).await {
        let key = app_key(&t).await;
        enable_sign_up(&t).await;
        let ann = json!({"key": key, "username": "acc-ann", "email": "ann@example.com", "password": "a long passphrase", "displayName": "Ann"});
        assert_eq!(post_public(&t, "/v1/accounts", ann).await.status, 201);
        let outbox = t.state.service.outbox().unwrap();
        let body = &outbox.iter().rev().find(|m| m.to == "ann@example.com").unwrap().body;
        assert!(body.contains("https://chat.example/v1/accounts/activate/rmt_"), "{body}");
        let token = mailed_token(&t, "ann@example.com");
        let link = t.send(TestRequest::get().uri(&format!("/v1/accounts/activate/{token}"))).await;
        assert_eq!(link.status, 200, "{}", link.body);
        assert_eq!(link.body["displayName"], "Ann");
        let again = t.send(TestRequest::get().uri(&format!("/v1/accounts/activate/{token}"))).await;
        assert_eq!(again.status, 400);
        let unknown = t.send(TestRequest::get().uri("/v1/accounts/activate/rmt_unknown")).await;
        assert_eq!(unknown.status, 400);
    }
}

/// Without a password, a guest session when `guestUsers` allows: the guest is made on first use,
/// found again after, and a name that belongs to an account is never a guest's.
#[actix_web::test]
async fn guests_log_in_without_a_password_when_allowed() {
    for t in TestApp::each().await {
        let key = app_key(&t).await;
        let guest = |username: &str| {
            TestRequest::post().uri("/v1/sessions").set_json(json!({"key": key, "username": username}))
        };
        let off = t.send(guest("acc-visitor")).await;
        assert_eq!(off.status, 403, "{}: guestUsers is off by default: {}", t.label(), off.body);
        let put =
            t.call(TestRequest::put().uri("/v1/application/settings").set_json(json!({"guestUsers": "ENABLED"}))).await;
        assert_eq!(put.status, 200, "{}", put.body);

        let first = t.send(guest("acc-visitor")).await;
        assert_eq!(first.status, 200, "{}", first.body);
        assert_eq!(first.body["user"]["isGuest"], true);
        let again = t.send(guest("acc-visitor")).await;
        assert_eq!(again.body["user"]["id"], first.body["user"]["id"], "the same guest");
        assert_ne!(again.body["access_token"], first.body["access_token"], "a session of its own");
        let bearer = first.body["access_token"].as_str().unwrap();
        let me = as_session(&t, TestRequest::get().uri("/v1/me"), bearer).await;
        assert_eq!((me.body["name"].as_str(), me.body["isGuest"].as_bool()), (Some("acc-visitor"), Some(true)));

        // A user the application made as a non-guest is nobody's guest session.
        t.create_user("acc-member").await;
        let taken = t.send(guest("acc-member")).await;
        assert_eq!(taken.status, 403, "{}", taken.body);
        // A guest has no password: logging in with one fails like any wrong password.
        let with_password = TestRequest::post()
            .uri("/v1/sessions")
            .set_json(json!({"key": key, "username": "acc-visitor", "password": "anything at all"}));
        assert_eq!(t.send(with_password).await.status, 401);
        assert_eq!(t.get("/v1/user-sessions").await.body["page"]["totalElements"], 2);
    }
}
