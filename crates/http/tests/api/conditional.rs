//! Caching and concurrency (RFC 9110 §8.8, §13) and partial output, over every resource family:
//! validators on reads, 304s, stale preconditions on writes, one winner of two writers holding
//! the same ETag, `ROOST_REQUIRE_PRECONDITIONS`, `fields=` and `_empty`.

use actix_web::test::TestRequest;
use futures_util::future::join_all;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use roost_http::HttpSettings;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

/// A user, a channel with a message from them, and the paths of every single resource and
/// collection that exists for them.
struct Family {
    user: String,
    channel: String,
    message: String,
    thread: String,
}

async fn family(t: &TestApp, tag: &str) -> Family {
    let user = t.create_user(&format!("cond-{tag}")).await;
    let channel = t
        .post_json(
            "/v1/channels",
            json!({"type": "PUBLIC", "name": format!("cond-{tag}"), "creator": {"username": format!("cond-{tag}")}}),
        )
        .await;
    assert_eq!(channel.status, 200, "{}", channel.body);
    let message = t
        .post_json(&format!("/v1/channels/{}/messages", channel.body["id"]), json!({"type": "TEXT", "body": "hi"}))
        .await;
    assert_eq!(message.status, 200, "{}", message.body);
    let thread = message.body["_links"]["thread"]["href"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    Family {
        user: format!("/v1/users/{}", user["id"]),
        channel: format!("/v1/channels/{}", channel.body["id"]),
        message: format!("/v1/messages/{}", message.body["id"]),
        thread: format!("/v1/threads/{thread}"),
    }
}

impl Family {
    fn single_resources(&self) -> Vec<String> {
        vec![
            "/v1/application".into(),
            "/v1/application/settings".into(),
            self.user.clone(),
            self.channel.clone(),
            self.message.clone(),
            self.thread.clone(),
        ]
    }

    fn collections(&self) -> Vec<String> {
        vec![
            "/v1/users".into(),
            "/v1/channels".into(),
            format!("{}/messages", self.channel),
            format!("{}/members", self.channel),
            "/v1/messages".into(),
            format!("{}/channels", self.user),
        ]
    }
}

async fn get_with(t: &TestApp, path: &str, header: (&str, &str)) -> Reply {
    t.call(TestRequest::get().uri(path).insert_header(header)).await
}

fn etag(reply: &Reply) -> String {
    reply.header("etag").unwrap_or_default().to_owned()
}

/// Every single resource has a strong ETag and Last-Modified, every collection a weak ETag;
/// each answers If-None-Match and If-Modified-Since with an empty 304, and a failed If-Match
/// on a read with 412.
#[actix_web::test]
async fn reads_carry_validators_and_answer_conditional_requests() {
    for t in TestApp::each().await {
        let f = family(&t, "reads").await;
        for path in f.single_resources() {
            let first = t.get(&path).await;
            assert_eq!(first.status, 200, "{path}: {}", first.body);
            let tag = etag(&first);
            assert!(tag.starts_with('"'), "{path}: a strong ETag, got {tag:?}");
            let modified = first.header("last-modified").unwrap_or_default().to_owned();
            assert!(modified.ends_with(" GMT"), "{path}: Last-Modified {modified:?}");

            let again = get_with(&t, &path, ("if-none-match", &tag)).await;
            assert_eq!(again.status, 304, "{path}");
            assert!(again.raw.is_empty(), "{path}: a 304 has no body");
            assert_eq!(etag(&again), tag, "{path}: a 304 carries the ETag");
            let since = get_with(&t, &path, ("if-modified-since", &modified)).await;
            assert_eq!(since.status, 304, "{path}: not modified since its own Last-Modified");
            let older = get_with(&t, &path, ("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")).await;
            assert_eq!(older.status, 200, "{path}: modified since 2001");
            // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
            let both = t
                .call(
                    TestRequest::get()
                        .uri(&path)
                        .insert_header(("if-none-match", "\"other\""))
                        .insert_header(("if-modified-since", modified.as_str())),
                )
                .await;
            assert_eq!(both.status, 200, "{path}");
            let failed = get_with(&t, &path, ("if-match", "\"other\"")).await;
            assert_eq!(failed.status, 412, "{path}");
            assert_eq!(failed.body["error"], "RESOURCE_MODIFIED", "{path}");
            // The two casings are two representations.
            let snake = t.get(&format!("{path}?_case=snake")).await;
            assert_ne!(etag(&snake), tag, "{path}: casings have different ETags");
        }
        for path in f.collections() {
            let first = t.get(&path).await;
            assert_eq!(first.status, 200, "{path}: {}", first.body);
            let tag = etag(&first);
            assert!(tag.starts_with("W/\""), "{path}: a weak ETag, got {tag:?}");
            assert_eq!(get_with(&t, &path, ("if-none-match", &tag)).await.status, 304, "{path}");
        }
        // A change moves the validators of what shows it.
        let before = t.get(&f.user).await;
        let patched = t.call(TestRequest::patch().uri(&f.user).set_json(json!({"displayName": "Renamed"}))).await;
        assert_eq!(patched.status, 200);
        assert_ne!(etag(&patched), etag(&before));
        assert_eq!(get_with(&t, &f.user, ("if-none-match", &etag(&before))).await.status, 200);
        assert_eq!(etag(&t.get(&f.user).await), etag(&patched), "a PATCH answers with the new ETag");
    }
}

/// One row per conditional write: the resource read for its ETag, and the write.
struct Write {
    read: String,
    method: &'static str,
    path: String,
    body: Option<Value>,
}

fn request(write: &Write, header: Option<(&str, &str)>) -> TestRequest {
    let mut req = match write.method {
        "PATCH" => TestRequest::patch(),
        "PUT" => TestRequest::put(),
        _ => TestRequest::delete(),
    }
    .uri(&write.path);
    if let Some(body) = &write.body {
        req = req.set_json(body);
    }
    if let Some(header) = header {
        req = req.insert_header(header);
    }
    req
}

fn writes(f: &Family, tag: &str) -> Vec<Write> {
    let secret = format!("{}/secrets/api-key", f.user);
    let row = |read: &str, method, path: &str, body| Write { read: read.into(), method, path: path.into(), body };
    vec![
        row(&f.user, "PATCH", &f.user, Some(json!({"displayName": format!("U {tag}")}))),
        row(&f.channel, "PATCH", &f.channel, Some(json!({"displayName": format!("C {tag}")}))),
        row(&f.message, "PATCH", &f.message, Some(json!({"body": format!("edited {tag}")}))),
        row("/v1/application/settings", "PUT", "/v1/application/settings", Some(json!({"guestUsers": "ENABLED"}))),
        row(&secret, "PUT", &secret, Some(json!({"secret": tag}))),
        row(&secret, "DELETE", &secret, None),
        row(&f.message, "DELETE", &f.message, None),
        row(&f.channel, "DELETE", &f.channel, None),
        row(&f.user, "DELETE", &f.user, None),
    ]
}

/// On every writable resource: a stale `If-Match` or an old `If-Unmodified-Since` is a 412
/// that changes nothing; the current ETag succeeds once, and then it is stale.
#[actix_web::test]
async fn stale_preconditions_fail_on_every_write() {
    for t in TestApp::each().await {
        let f = family(&t, "writes").await;
        let secret = t
            .call(TestRequest::put().uri(&format!("{}/secrets/api-key", f.user)).set_json(json!({"secret": "s0"})))
            .await;
        assert_eq!(secret.status, 200, "{}", secret.body);
        for write in writes(&f, "1") {
            let what = format!("{} {} ({})", write.method, write.path, t.label());
            let current = t.get(&write.read).await;
            assert_eq!(current.status, 200, "{what}: {}", current.body);
            let tag = etag(&current);

            for stale in [("if-match", "\"0123456789abcdef0123456789abcdef\""), ("if-match", &format!("W/{tag}"))] {
                let refused = t.call(request(&write, Some(stale))).await;
                assert_eq!(refused.status, 412, "{what} with {stale:?}: {}", refused.body);
                assert_eq!(refused.body["error"], "RESOURCE_MODIFIED", "{what}");
            }
            let old = ("if-unmodified-since", "Mon, 01 Jan 2001 00:00:00 GMT");
            assert_eq!(t.call(request(&write, Some(old))).await.status, 412, "{what}: modified since 2001");
            assert_eq!(etag(&t.get(&write.read).await), tag, "{what}: a refused write changes nothing");

            let done = t.call(request(&write, Some(("if-match", &tag)))).await;
            assert_eq!(done.status, 200, "{what}: {}", done.body);
            if write.path.contains("/secrets/") {
                // The answer is the user: its ETag would not be the secret's (RFC 9110 §9.3.4).
                assert_eq!(done.header("etag"), None, "{what}");
            }
            let again = t.call(request(&write, Some(("if-match", &tag)))).await;
            // Once deleted, the request would be a 404 without its precondition, so it is one
            // (RFC 9110 §13.2.1: preconditions are ignored when the answer would not be 2xx).
            let expected = if write.method == "DELETE" { 404 } else { 412 };
            assert_eq!(again.status, expected, "{what}: the ETag it held is stale now: {}", again.body);
        }
    }
}

/// Two clients holding the same ETag write at once: exactly one wins, on both engines.
#[actix_web::test]
async fn of_two_writers_holding_one_etag_exactly_one_wins() {
    for t in TestApp::each().await {
        let f = family(&t, "race").await;
        let secret = format!("{}/secrets/api-key", f.user);
        assert_eq!(t.call(TestRequest::put().uri(&secret).set_json(json!({"secret": "s0"}))).await.status, 200);
        for round in 0..4 {
            for write in writes(&f, &format!("race {round}")).into_iter().filter(|w| w.method != "DELETE") {
                let tag = etag(&t.get(&write.read).await);
                let contenders = (0..2).map(|n| {
                    let mut body = write.body.clone();
                    // Different changes, so the loser's precondition cannot hold by accident.
                    if let Some(Value::Object(fields)) = &mut body {
                        for value in fields.values_mut().filter(|v| v.as_str().is_some_and(|s| s != "ENABLED")) {
                            *value = json!(format!("{} #{n}", value.as_str().unwrap_or_default()));
                        }
                        if write.path.ends_with("settings") {
                            fields.insert(
                                "guestUsers".into(),
                                json!(if (round + n) % 2 == 0 { "ENABLED" } else { "DISABLED" }),
                            );
                        }
                    }
                    let contender =
                        Write { body, read: write.read.clone(), method: write.method, path: write.path.clone() };
                    let req = request(&contender, Some(("if-match", tag.as_str())));
                    t.call(req)
                });
                let statuses: Vec<u16> = join_all(contenders).await.iter().map(|r| r.status.as_u16()).collect();
                let mut sorted = statuses.clone();
                sorted.sort_unstable();
                if write.path.ends_with("settings") {
                    // One of them sets the value it already has (which one depends on who won the
                    // round before): a no-op, so both may hold.
                    assert!(sorted == [200, 412] || sorted == [200, 200], "{} {}: {statuses:?}", write.path, t.label());
                } else {
                    assert_eq!(sorted, [200, 412], "{} {} round {round}: {statuses:?}", write.path, t.label());
                }
            }
        }
    }
}

/// A property over generated sequences of PATCHes to a user, a channel and a message: each
/// PATCH that changes the representation changes its ETag, to one never seen before, and any
/// ETag held from before a change fails as `If-Match`.
#[actix_web::test]
async fn any_sequence_of_patches_moves_the_etag_and_stale_ones_fail() {
    let t = TestApp::each().await.remove(0);
    let f = family(&t, "property").await;
    let targets = [(&f.user, "displayName"), (&f.channel, "displayName"), (&f.message, "body")];
    let step = (0..targets.len(), "[a-z]{1,8}", proptest::bool::ANY);
    let strategy = proptest::collection::vec(step, 1..8);
    let mut runner = TestRunner::deterministic();
    let mut counter = 0;
    for case in 0..12 {
        let steps = strategy.new_tree(&mut runner).unwrap().current();
        let mut seen: Vec<Vec<String>> = targets.iter().map(|_| Vec::new()).collect();
        for (index, (target, text, in_properties)) in steps.iter().enumerate() {
            let (path, field) = targets[*target];
            counter += 1;
            // Unique values: every step changes the representation.
            let value = format!("{text}-{counter}");
            let patch = if *in_properties { json!({"properties": {"p": value}}) } else { json!({field: value}) };
            let before = etag(&t.get(path).await);
            seen[*target].push(before.clone());
            let done = t
                .call(TestRequest::patch().uri(path).insert_header(("if-match", before.as_str())).set_json(&patch))
                .await;
            assert_eq!(done.status, 200, "case {case} step {index} {steps:?}: {}", done.body);
            let after = etag(&done);
            assert!(!seen[*target].contains(&after), "case {case} step {index}: ETag {after} seen before: {steps:?}");
            for stale in &seen[*target] {
                let refused = t
                    .call(TestRequest::patch().uri(path).insert_header(("if-match", stale.as_str())).set_json(&patch))
                    .await;
                assert_eq!(refused.status, 412, "case {case} step {index}: stale {stale} held: {steps:?}");
            }
        }
    }
}

/// `ROOST_REQUIRE_PRECONDITIONS=true`: an unconditional PUT, PATCH or DELETE is a 428 on every
/// family; `If-Match: *` or a current ETag lets it through; reads, creates and the test
/// resource are not affected.
#[actix_web::test]
async fn required_preconditions_refuse_unconditional_writes() {
    let settings = HttpSettings { require_preconditions: true, ..HttpSettings::default() };
    for t in TestApp::each_with(settings).await {
        let f = family(&t, "required").await;
        for write in writes(&f, "2") {
            let what = format!("{} {}", write.method, write.path);
            let refused = t.call(request(&write, None)).await;
            assert_eq!(refused.status, 428, "{what}: {}", refused.body);
            assert_eq!(refused.body["error"], "PRECONDITION_REQUIRED", "{what}");
        }
        let user = t.create_user("required-any").await;
        let path = format!("/v1/users/{}", user["id"]);
        let any = t
            .call(
                TestRequest::patch().uri(&path).insert_header(("if-match", "*")).set_json(json!({"displayName": "A"})),
            )
            .await;
        assert_eq!(any.status, 200, "{}", any.body);
        let bulk = t.call(TestRequest::delete().uri(&format!("/v1/users?ids={}", user["id"]))).await;
        assert_eq!(bulk.status, 428, "bulk deletes too");
        let bulk = t
            .call(TestRequest::delete().uri(&format!("/v1/users?ids={}", user["id"])).insert_header(("if-match", "*")))
            .await;
        assert_eq!(bulk.status, 200, "{}", bulk.body);
        // `If-None-Match: *` is a precondition too: create-only.
        let owner = t.create_user("required-secret").await;
        let secret = format!("/v1/users/{}/secrets/fresh", owner["id"]);
        let created = t
            .call(TestRequest::put().uri(&secret).insert_header(("if-none-match", "*")).set_json(json!({"secret": 1})))
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        let again = t
            .call(TestRequest::put().uri(&secret).insert_header(("if-none-match", "*")).set_json(json!({"secret": 2})))
            .await;
        assert_eq!(again.status, 412, "it exists now: {}", again.body);
        let echo = t.send(TestRequest::patch().uri("/v1/tests/1").set_json(json!({"a": 1}))).await;
        assert_eq!(echo.status, 200, "the test resource echoes without preconditions");
    }
}

/// `fields=` on single resources and on every item of a page, dotted paths, `-` to drop, either
/// casing, unknown names refused; `_empty` / `X-Options: empty` shows blank fields as null.
#[actix_web::test]
async fn partial_output_and_blank_fields() {
    for t in TestApp::each().await {
        let f = family(&t, "fields").await;
        let user = t.get(&format!("{}?fields=displayName", f.user)).await;
        assert_eq!(user.status, 200, "{}", user.body);
        let mut keys: Vec<&str> = user.body.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["_links", "displayName", "id"], "{}", user.body);

        let snake = t.get(&format!("{}?fields=display_name&_case=snake", f.user)).await;
        assert!(snake.body.get("display_name").is_some() && snake.body.get("name").is_none(), "{}", snake.body);

        let dropped = t.get(&format!("{}?fields=-properties,-createdTime", f.user)).await;
        assert!(dropped.body.get("properties").is_none() && dropped.body.get("createdTime").is_none());
        assert!(dropped.body.get("displayName").is_some(), "{}", dropped.body);

        let page = t.get(&format!("{}/messages?fields=body", f.channel)).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for item in page.body["_embedded"]["messages"].as_array().unwrap() {
            assert!(item.get("type").is_none() && item.get("body").is_some() && item.get("id").is_some(), "{item}");
        }
        assert!(page.body.get("_links").is_some(), "the page keeps its own links");

        let channel = t.get(&format!("{}?fields=creator.displayName", f.channel)).await;
        assert_eq!(channel.status, 200, "{}", channel.body);
        let creator = channel.body["creator"].as_object().unwrap();
        assert!(creator.contains_key("displayName") && !creator.contains_key("name"), "{}", channel.body);

        let unknown = t.get(&format!("{}?fields=displayName,colour", f.user)).await;
        assert_eq!(unknown.status, 400);
        assert!(unknown.body["explanation"].as_str().unwrap_or_default().contains("colour"), "{}", unknown.body);

        // A message from no user (SYSTEM_TEXT) has blank fields: left out, or null when asked.
        let plain = t.get(&f.message).await;
        assert!(plain.body.get("groupTag").is_none(), "{}", plain.body);
        for blank in [t.get(&format!("{}?_empty=true", f.message)).await, {
            t.call(TestRequest::get().uri(&f.message).insert_header(("x-options", "empty"))).await
        }] {
            assert_eq!(blank.status, 200, "{}", blank.body);
            assert_eq!(blank.body.get("groupTag"), Some(&Value::Null), "{}", blank.body);
            assert_eq!(blank.body.get("lastEditedTime"), Some(&Value::Null), "{}", blank.body);
            assert_eq!(blank.body.get("mentions"), Some(&json!([])), "{}", blank.body);
        }
        assert_eq!(t.get(&format!("{}?_empty=maybe", f.message)).await.status, 400);
        // A bad option is refused before the write, not after it.
        let refused = t.post_json("/v1/users?fields=colour", json!({"name": "fields-never"})).await;
        assert_eq!(refused.status, 400, "{}", refused.body);
        assert_eq!(t.get("/v1/users?name=fields-never").await.body["page"]["totalElements"], 0, "nothing was created");
    }
}
