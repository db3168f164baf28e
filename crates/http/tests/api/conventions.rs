//! Issue 20's shared conventions, each over every resource family where it applies: paths with
//! and without `/v1`, the seed's headers, unsupported authorization schemes, bulk `ids=`, the
//! test resource.

use actix_web::test::TestRequest;
use serde_json::{json, Value};

use crate::helpers::TestApp;

/// One readable path per resource family, written with `/v1`.
async fn family_paths(t: &TestApp) -> Vec<String> {
    let user = t.create_user("family-jane").await;
    let channel = t
        .post_json(
            "/v1/channels",
            json!({"type": "PUBLIC", "name": "family-room", "creator": {"username": "family-jane"}}),
        )
        .await;
    assert_eq!(channel.status, 200, "{}", channel.body);
    let message = t
        .post_json(&format!("/v1/channels/{}/messages", channel.body["id"]), json!({"type": "TEXT", "body": "hi"}))
        .await;
    assert_eq!(message.status, 200, "{}", message.body);
    let thread = message.body["_links"]["thread"]["href"].as_str().unwrap().rsplit('/').next().unwrap().to_owned();
    vec![
        "/v1/application".into(),
        "/v1/application/settings".into(),
        "/v1/users".into(),
        format!("/v1/users/{}", user["id"]),
        format!("/v1/users/{}/channels", user["id"]),
        "/v1/channels".into(),
        format!("/v1/channels/{}", channel.body["id"]),
        format!("/v1/channels/{}/messages", channel.body["id"]),
        format!("/v1/channels/{}/members", channel.body["id"]),
        "/v1/messages".into(),
        format!("/v1/messages/{}", message.body["id"]),
        format!("/v1/threads/{thread}"),
        "/v1/applications/me/users".into(),
    ]
}

/// Every route answers at `/v1/…`, at `/…` (the newest official client's paths) and with a base
/// path that ended in a slash (`/v1//…`); links keep the form the request used.
#[actix_web::test]
async fn every_family_answers_with_and_without_the_version() {
    for t in TestApp::each().await {
        for path in family_paths(&t).await {
            let with = t.get(&path).await;
            assert_eq!(with.status, 200, "{path} {}: {}", t.label(), with.body);
            let bare = path.strip_prefix("/v1").unwrap();
            let without = t.get(bare).await;
            assert_eq!(without.status, 200, "{bare} {}: {}", t.label(), without.body);
            let doubled = t.get(&path.replacen("/v1/", "/v1//", 1)).await;
            assert_eq!(doubled.status, 200, "{path} doubled");
            assert_eq!(doubled.body, with.body, "{path}: a doubled slash reads the same resource");
            // Same resource, links in the form asked for.
            let self_with = with.body["_links"]["self"]["href"].as_str().unwrap_or_default().to_owned();
            let self_without = without.body["_links"]["self"]["href"].as_str().unwrap_or_default().to_owned();
            assert!(self_with.contains("/v1/"), "{path}: {self_with}");
            assert!(!self_without.contains("/v1/"), "{bare}: {self_without}");
            assert_eq!(self_with.replacen("/v1/", "/", 1), self_without, "{path}");
        }
        // Writes too, and an unknown path without the version is still a 404 in the error shape.
        let created = t.post_json("/users", json!({"name": "bare-bob", "displayName": "Bob"})).await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert!(!created.body["_links"]["self"]["href"].as_str().unwrap().contains("/v1/"));
        let nowhere = t.get("/users/1/nowhere").await;
        assert_eq!(nowhere.status, 404);
        assert_eq!(nowhere.body["error"], "ResourceNotFoundError");
    }
}

/// The seed's response headers (seed 000) on every API answer, errors included.
#[actix_web::test]
async fn every_answer_carries_the_seeds_headers() {
    for t in TestApp::each().await {
        let paths = family_paths(&t).await;
        let mut replies = Vec::new();
        for path in &paths {
            replies.push((path.clone(), t.get(path).await));
        }
        replies.push(("/v1/nowhere".into(), t.get("/v1/nowhere").await));
        replies.push(("no token".into(), t.send(TestRequest::get().uri("/v1/users")).await));
        for (path, reply) in replies {
            assert_eq!(reply.header("cache-control"), Some("no-cache, no-store, max-age=0, must-revalidate"), "{path}");
            assert_eq!(reply.header("pragma"), Some("no-cache"), "{path}");
            assert_eq!(reply.header("expires"), Some("0"), "{path}");
            assert_eq!(reply.header("x-xss-protection"), Some("1; mode=block"), "{path}");
            let vary = reply.header("vary").unwrap_or_default().to_ascii_lowercase();
            assert!(vary.contains("accept") && vary.contains("origin"), "{path}: vary {vary}");
        }
    }
}

/// `DELETE /v1/{users,channels,messages}?ids=…`: all or nothing; an unknown or foreign id is a
/// 404 naming it and nothing is deleted; more than 100 ids or an empty list is a 400; `ids` never
/// falls back to "everything".
#[actix_web::test]
async fn bulk_deletes_are_all_or_nothing() {
    for t in TestApp::each().await {
        let (_, other_token) = t.other_application().await;
        let foreign = t
            .send(
                TestRequest::post()
                    .uri("/v1/users")
                    .insert_header(("authorization", format!("Bearer {other_token}")))
                    .set_json(json!({"name": "foreign", "displayName": "Foreign"})),
            )
            .await;
        let foreign_id = foreign.body["id"].as_i64().unwrap();
        let mut users = Vec::new();
        for name in ["bulk-a", "bulk-b", "bulk-c"] {
            users.push(t.create_user(name).await["id"].as_i64().unwrap());
        }
        let mut channels = Vec::new();
        for name in ["bulk-1", "bulk-2"] {
            let made = t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": name})).await;
            channels.push(made.body["id"].as_i64().unwrap());
        }
        let mut messages = Vec::new();
        for body in ["one", "two", "three"] {
            let made = t
                .post_json(&format!("/v1/channels/{}/messages", channels[0]), json!({"type": "TEXT", "body": body}))
                .await;
            messages.push(made.body["id"].as_i64().unwrap());
        }
        let reply = t
            .post_json(&format!("/v1/messages/{}/replies", messages[0]), json!({"type": "TEXT", "body": "a reply"}))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let delete = |uri: String| t.call(TestRequest::delete().uri(&uri));

        // One unknown (another application's) id: 404 naming it, nothing deleted.
        let refused = delete(format!("/v1/users?ids={},{foreign_id}", list(&users))).await;
        assert_eq!(refused.status, 404, "{} {}", t.label(), refused.body);
        assert!(refused.body["explanation"].as_str().unwrap().contains(&foreign_id.to_string()), "{}", refused.body);
        for id in &users {
            assert_eq!(t.get(&format!("/v1/users/{id}")).await.status, 200, "user {id} survived a refused bulk delete");
        }
        let refused = delete(format!("/v1/messages?ids={},999999999", list(&messages))).await;
        assert_eq!(refused.status, 404);
        assert_eq!(t.get(&format!("/v1/messages/{}", messages[2])).await.status, 200);

        // Empty, malformed and oversized lists are refused; `ids` never means "all".
        for query in ["ids=", "ids=,", "ids=a,b"] {
            assert_eq!(delete(format!("/v1/messages?{query}")).await.status, 400, "{query}");
        }
        let too_many: Vec<i64> = (1..=101).collect();
        assert_eq!(delete(format!("/v1/users?ids={}", list(&too_many))).await.status, 400);
        assert_eq!(delete("/v1/users".into()).await.status, 400, "bulk delete without ids");

        // Accepted: exactly those, in one go (repeated `ids` works too, duplicates are one).
        let deleted = delete(format!("/v1/users?ids={}&ids={}&ids={}", users[0], users[1], users[0])).await;
        assert_eq!(deleted.status, 200, "{}", deleted.body);
        assert_eq!(deleted.body["id"], t.app.application.id.0, "answers with the application");
        assert_eq!(t.get(&format!("/v1/users/{}", users[0])).await.status, 404);
        assert_eq!(t.get(&format!("/v1/users/{}", users[1])).await.status, 404);
        assert_eq!(t.get(&format!("/v1/users/{}", users[2])).await.status, 200);

        let deleted = delete(format!("/v1/messages?ids={},{}", messages[0], messages[1])).await;
        assert_eq!(deleted.status, 200, "{}", deleted.body);
        let left = t.get(&format!("/v1/channels/{}/messages", channels[0])).await;
        let bodies: Vec<&str> =
            left.body["_embedded"]["messages"].as_array().unwrap().iter().filter_map(|m| m["body"].as_str()).collect();
        assert_eq!(bodies, ["three"], "only the named messages (and the reply of one) went: {}", left.body);
        assert_eq!(t.get(&format!("/v1/messages/{}", reply.body["id"])).await.status, 404, "its reply went with it");

        let deleted = delete(format!("/v1/channels?ids={}", list(&channels))).await;
        assert_eq!(deleted.status, 200, "{}", deleted.body);
        for id in &channels {
            assert_eq!(t.get(&format!("/v1/channels/{id}")).await.status, 404);
        }
        assert_eq!(
            t.get(&format!("/v1/messages/{}", messages[2])).await.status,
            404,
            "a channel's messages go with it"
        );
    }
}

/// `/v1/tests`: no token, any method, and the answer says how the request was read.
#[actix_web::test]
async fn the_test_resource_echoes_the_request() {
    for t in TestApp::each().await {
        let json_body = t
            .send(
                TestRequest::patch()
                    .uri("/v1/tests/42?fields=name&sort=a&sort=b")
                    .insert_header(("x-options", "snake"))
                    .set_json(json!({"name": "jane", "tags": ["a"]})),
            )
            .await;
        assert_eq!(json_body.status, 200, "{}", json_body.body);
        assert_eq!(json_body.body["method"], "PATCH");
        assert_eq!(json_body.body["path"], "/v1/tests/42");
        assert_eq!(json_body.body["pathParameters"], json!({"id": "42"}));
        assert_eq!(json_body.body["query"], json!({"fields": "name", "sort": ["a", "b"]}));
        assert_eq!(json_body.body["options"], "snake");
        assert_eq!(json_body.body["casing"], "snake");
        assert_eq!(json_body.body["fields"], json!({"keep": ["name"], "drop": []}));
        assert_eq!(json_body.body["empty"], false);
        assert_eq!(json_body.body["body"], json!({"name": "jane", "tags": ["a"]}));

        let form = t
            .send(
                TestRequest::post()
                    .uri("/tests")
                    .insert_header(("content-type", "application/x-www-form-urlencoded"))
                    .set_payload("name=jane&properties%5Bcolor%5D=red"),
            )
            .await;
        assert_eq!(form.status, 200);
        assert_eq!(form.body["path"], "/tests", "the form the client used");
        assert_eq!(form.body["body"], json!({"name": "jane", "properties[color]": "red"}));
        let other = t
            .send(TestRequest::put().uri("/v1/tests").insert_header(("content-type", "text/plain")).set_payload("x"))
            .await;
        assert_eq!(other.status, 415);
        assert_eq!(t.send(TestRequest::get().uri("/v1/tests")).await.body["body"], Value::Null);
    }
}

/// Whether any of the answer's own names (outside user data, HAL keys and relation names) has
/// an upper-case letter, other than `isGuest`, which the newer spec keeps.
fn has_camel_names(value: &Value) -> bool {
    match value {
        Value::Object(fields) => fields.iter().any(|(name, value)| match name.as_str() {
            "properties" | "_links" => false,
            "_embedded" => value.as_object().is_some_and(|r| r.values().any(has_camel_names)),
            "isGuest" => false,
            n => n.chars().any(|c| c.is_ascii_uppercase()) || has_camel_names(value),
        }),
        Value::Array(items) => items.iter().any(has_camel_names),
        _ => false,
    }
}

const VND: &str = "application/vnd.chatkitty+json, */*;q=0.8";

/// Output casing on every family: the vendor `Accept` selects snake_case and its media type;
/// `_case` and `X-Options` win over it; the two casings have different ETags; `Vary: Accept`.
#[actix_web::test]
async fn every_family_answers_in_either_casing() {
    for t in TestApp::each().await {
        for path in family_paths(&t).await {
            let camel = t.get(&path).await;
            let snake = t.call(TestRequest::get().uri(&path).insert_header(("accept", VND))).await;
            assert_eq!(snake.status, 200, "{path}: {}", snake.body);
            assert_eq!(snake.header("content-type"), Some("application/vnd.chatkitty+json;charset=UTF-8"), "{path}");
            assert!(has_camel_names(&camel.body), "{path}: {}", camel.body);
            assert!(!has_camel_names(&snake.body), "{path} in snake_case: {}", snake.body);
            assert_ne!(snake.header("etag"), camel.header("etag"), "{path}: one ETag per representation");
            assert!(snake.header("vary").unwrap_or_default().contains("Accept"));

            let forced =
                t.call(TestRequest::get().uri(&format!("{path}?_case=camel")).insert_header(("accept", VND))).await;
            assert!(has_camel_names(&forced.body) == has_camel_names(&camel.body), "{path}: _case=camel wins");
            let by_header = t.call(TestRequest::get().uri(&path).insert_header(("x-options", "snake"))).await;
            assert!(!has_camel_names(&by_header.body), "{path}: X-Options: snake");
            assert_eq!(by_header.header("content-type"), Some("application/hal+json;charset=UTF-8"));
        }
    }
}

/// Input in either casing: body fields, user data kept as sent, query names and sort keys.
#[actix_web::test]
async fn input_is_read_in_either_casing() {
    for t in TestApp::each().await {
        let created = t
            .call(
                TestRequest::post()
                    .uri("/users")
                    .insert_header(("accept", VND))
                    .insert_header(("content-type", "application/vnd.chatkitty+json"))
                    .set_payload(
                        json!({"name": "snake-jane", "display_name": "Jane S", "is_guest": false, "properties": {"favorite_color": "red"}})
                            .to_string(),
                    ),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        assert_eq!(created.body["display_name"], "Jane S");
        assert_eq!(created.body["isGuest"], false, "the newer spec keeps isGuest");
        assert_eq!(created.body["properties"], json!({"favorite_color": "red"}), "user data as sent");
        // Read back by a camelCase client.
        let read = t.get(&format!("/v1/users/{}", created.body["id"])).await;
        assert_eq!(read.body["displayName"], "Jane S");
        assert_eq!(read.body["properties"], json!({"favorite_color": "red"}));

        let patched = t
            .call(
                TestRequest::patch()
                    .uri(&format!("/v1/users/{}", created.body["id"]))
                    .insert_header(("content-type", "application/json+merge-patch"))
                    .set_payload(json!({"display_name": "Jane Snake"}).to_string()),
            )
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(patched.body["displayName"], "Jane Snake");

        t.create_user("snake-bob").await;
        let sorted = t.get("/v1/users?sort=display_name,desc&size=2").await;
        assert_eq!(sorted.status, 200, "{}", sorted.body);
        let sorted_camel = t.get("/v1/users?sort=displayName,desc&size=2").await;
        assert_eq!(sorted.body["_embedded"], sorted_camel.body["_embedded"]);
    }
}

/// The three operations the newest official client adds, and `listUsers?unread=`.
#[actix_web::test]
async fn unread_counts_summaries_and_reported_messages() {
    for t in TestApp::each().await {
        let jane = t.create_user("count-jane").await;
        let bob = t.create_user("count-bob").await;
        t.create_user("count-eve").await;
        let room = t
            .post_json(
                "/v1/channels",
                json!({"type": "PRIVATE", "name": "count-room", "members": [{"username": "count-jane"}, {"username": "count-bob"}]}),
            )
            .await;
        assert_eq!(room.status, 200, "{}", room.body);
        let messages = format!("/v1/channels/{}/messages", room.body["id"]);
        t.post_json(&messages, json!({"type": "TEXT", "body": "welcome"})).await;
        for body in ["one", "two"] {
            let sent =
                t.post_json(&messages, json!({"type": "TEXT", "body": body, "user": {"username": "count-jane"}})).await;
            assert_eq!(sent.status, 200, "{}", sent.body);
        }
        let count = |user: &Value| format!("/users/{}/messages/unread/count", user["id"]);
        let bobs = t.get(&count(&bob)).await;
        assert_eq!(bobs.status, 200, "{}", bobs.body);
        assert_eq!(bobs.body, json!({"count": 3}), "{}", t.label());
        let listed = t.get(&format!("/v1/users/{}/messages?unread=true", bob["id"])).await;
        assert_eq!(
            listed.body["_embedded"]["messages"].as_array().unwrap().len(),
            3,
            "the count is what the list lists"
        );
        assert_eq!(t.get(&count(&jane)).await.body, json!({"count": 1}), "one's own messages are not unread");

        let summaries = t.get("/application/message-read-receipt-summaries").await;
        assert_eq!(summaries.status, 200, "{}", summaries.body);
        let rows: Vec<(String, u64)> = summaries.body["_embedded"]["summaries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["user"]["name"].as_str().unwrap().to_owned(), s["count"].as_u64().unwrap()))
            .collect();
        assert!(rows.contains(&("count-bob".into(), 3)) && rows.contains(&("count-jane".into(), 1)), "{rows:?}");
        assert_eq!(summaries.body["_embedded"]["summaries"][0]["channel"]["name"], "count-room");
        assert_eq!(summaries.body["page"]["totalElements"], 2);

        let with_unread = t.get("/v1/users?unread=true").await;
        let names: Vec<&str> = with_unread.body["_embedded"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|u| u["name"].as_str())
            .collect();
        assert_eq!(names, ["count-jane", "count-bob"], "{}", t.label());
        assert_eq!(t.get("/v1/users?unread=maybe").await.status, 400);
        assert_eq!(t.get("/v1/users?unread=false").await.body["page"]["totalElements"], 3);

        // Bob reads up to the newest: nothing unread, and he leaves the summaries and the filter.
        let newest = t.get(&messages).await.body["_embedded"]["messages"][0]["id"].as_i64().unwrap();
        let read = t
            .post_json(&format!("/v1/messages/{newest}/read-receipts"), json!({"user": {"username": "count-bob"}}))
            .await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(t.get(&count(&bob)).await.body, json!({"count": 0}));
        assert_eq!(t.get("/v1/application/message-read-receipt-summaries").await.body["page"]["totalElements"], 1);
        let names = t.get("/v1/users?unread=true").await.body["_embedded"]["users"].as_array().unwrap().len();
        assert_eq!(names, 1);
        assert_eq!(t.get("/v1/users/999999999/messages/unread/count").await.status, 404);

        let reported = t.get(&format!("/channels/{}/reported-messages", room.body["id"])).await;
        assert_eq!(reported.status, 200, "{}", reported.body);
        assert_eq!(reported.body["page"]["totalElements"], 0, "no reports before end users can report");
        assert_eq!(t.get("/v1/channels/999999999/reported-messages").await.status, 404);
    }
}

/// Seed 000's application-scoped paths, for every family: `me` or the token's own application id
/// reach the same resources as the top-level paths; another application's id is a 404.
#[actix_web::test]
async fn every_family_answers_under_the_applications_path() {
    for t in TestApp::each().await {
        let own = t.app.application.id.0;
        for path in family_paths(&t).await {
            if path.starts_with("/v1/applications/") {
                continue;
            }
            let rest = path.strip_prefix("/v1/application").or_else(|| path.strip_prefix("/v1")).unwrap();
            let top = t.get(&path).await;
            for app in ["me".to_owned(), own.to_string()] {
                let scoped = t.get(&format!("/v1/applications/{app}{rest}")).await;
                assert_eq!(scoped.status, 200, "/v1/applications/{app}{rest} {}: {}", t.label(), scoped.body);
                assert_eq!(scoped.body["id"], top.body["id"], "{rest}");
            }
            assert_eq!(t.get(&format!("/v1/applications/{}{rest}", own + 1)).await.status, 404, "{rest}");
        }
        // Seed 000's own example: a channel created under the application's path.
        let created = t
            .post_json(
                &format!("/v1/applications/{own}/channels"),
                json!({"type": "PUBLIC", "name": "daily-discussion"}),
            )
            .await;
        assert_eq!(created.status, 200, "{}", created.body);
        let found = t.get("/v1/applications/me/users?name=family-jane").await;
        assert_eq!(found.body["page"]["totalElements"], 1);
    }
}

/// `GET /` is public; with a token it also carries every link of `GET /v1` (seed 000).
#[actix_web::test]
async fn the_root_page_carries_the_api_links_for_a_token() {
    for t in TestApp::each().await {
        let api = t.get("/v1").await;
        let public = t.send(TestRequest::get().uri("/")).await;
        let with_token = t.get("/").await;
        assert_eq!(public.status, 200);
        assert_eq!(with_token.status, 200);
        for relation in api.body["_links"].as_object().unwrap().keys().filter(|r| *r != "self") {
            assert!(with_token.body["_links"].get(relation).is_some(), "{relation} missing: {}", with_token.body);
            assert!(
                public.body["_links"].get(relation).is_none() || relation == "api",
                "{relation} shown without a token"
            );
        }
        let bad = t.send(TestRequest::get().uri("/").insert_header(("authorization", "Bearer rat_nope"))).await;
        assert_eq!(bad.status, 200, "a bad token still gets the public page");
    }
}

fn form(req: TestRequest, body: &str) -> TestRequest {
    req.insert_header(("content-type", "application/x-www-form-urlencoded")).set_payload(body.to_owned())
}

/// Every create and update also takes a form: bracket keys nest, values take their field's type,
/// names in either casing; any other media type is a 415 naming the accepted ones.
#[actix_web::test]
async fn writes_accept_form_bodies() {
    for t in TestApp::each().await {
        let user = t
            .call(form(
                TestRequest::post().uri("/v1/users"),
                "name=form-jane&display_name=Jane&is_guest=false&properties%5Bfavorite_color%5D=red",
            ))
            .await;
        assert_eq!(user.status, 200, "{} {}", t.label(), user.body);
        assert_eq!((user.body["displayName"].as_str(), user.body["isGuest"].as_bool()), (Some("Jane"), Some(false)));
        assert_eq!(user.body["properties"], json!({"favorite_color": "red"}));
        let numeric_name = t.call(form(TestRequest::post().uri("/v1/users"), "name=123&displayName=Numbers")).await;
        assert_eq!(numeric_name.status, 200, "a value takes its field's type: {}", numeric_name.body);
        assert_eq!(numeric_name.body["name"], "123");

        let patched = t
            .call(form(TestRequest::patch().uri(&format!("/v1/users/{}", user.body["id"])), "displayName=Jane+F"))
            .await;
        assert_eq!(patched.status, 200, "{}", patched.body);
        assert_eq!(patched.body["displayName"], "Jane F");

        let room = t.call(form(TestRequest::post().uri("/v1/channels"), "type=PUBLIC&name=form-room")).await;
        assert_eq!(room.status, 200, "{}", room.body);
        let sent = t
            .call(form(
                TestRequest::post().uri(&format!("/v1/channels/{}/messages", room.body["id"])),
                "type=TEXT&body=hello+there&user%5Busername%5D=form-jane",
            ))
            .await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        assert_eq!(
            (sent.body["body"].as_str(), sent.body["user"]["name"].as_str()),
            (Some("hello there"), Some("form-jane"))
        );
        // Array fields: a comma list or repeated names; a comma inside a text stays.
        let bob = t.create_user("form-bob").await;
        let lists = [
            ("form-list", "members=form-jane,form-bob", &["form-jane", "form-bob"][..]),
            ("form-repeat", "members=form-jane&members=form-bob", &["form-jane", "form-bob"]),
            ("form-one", "members=form-bob", &["form-bob"]),
            // The name has the members' value too: the member list is the field split.
            ("form-bob", "members=form-bob", &["form-bob"]),
            ("form-ids", &format!("members%5B0%5D%5Bid%5D={}", bob["id"]), &["form-bob"]),
        ];
        for (name, members, expected) in lists {
            let direct = t
                .call(form(
                    TestRequest::post().uri("/v1/channels"),
                    &format!("type=PRIVATE&name={name}&displayName=Doe%2C+Jane&{members}"),
                ))
                .await;
            assert_eq!(direct.status, 200, "{members}: {}", direct.body);
            assert_eq!(direct.body["displayName"], "Doe, Jane");
            let listed = t.get(&format!("/v1/channels/{}/members", direct.body["id"])).await;
            let names: Vec<&str> = listed.body["_embedded"]["users"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|u| u["name"].as_str())
                .collect();
            assert!(expected.iter().all(|e| names.contains(e)), "{members}: {names:?}");
        }
        let settings = t.call(form(TestRequest::put().uri("/v1/application/settings"), "guestUsers=ENABLED")).await;
        assert_eq!(settings.status, 200, "{}", settings.body);
        assert_eq!(settings.body["guestUsers"], "ENABLED");

        let bad = t.call(form(TestRequest::post().uri("/v1/users"), "name=x&isGuest=perhaps")).await;
        assert_eq!(bad.status, 400, "{}", bad.body);
        let plain = t
            .call(
                TestRequest::post()
                    .uri("/v1/users")
                    .insert_header(("content-type", "text/plain"))
                    .set_payload("name=x"),
            )
            .await;
        assert_eq!(plain.status, 415);
        let explanation = plain.body["explanation"].as_str().unwrap_or_default().to_owned()
            + plain.body["message"].as_str().unwrap_or_default();
        assert!(explanation.contains("application/x-www-form-urlencoded"), "{}", plain.body);
    }
}

/// `PATCH /v1/{users,channels,messages}?ids=…`: one merge patch applied to each, all or none
/// (an unknown id, or an invalid change to any one of them, changes nothing), in the order of
/// `ids`; the same limits on `ids` as bulk deletes.
#[actix_web::test]
async fn bulk_patches_are_all_or_nothing() {
    for t in TestApp::each().await {
        let mut users = Vec::new();
        for name in ["bp-a", "bp-b"] {
            users.push(t.create_user(name).await["id"].as_i64().unwrap());
        }
        let mut channels = Vec::new();
        for name in ["bp-1", "bp-2"] {
            channels.push(
                t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": name})).await.body["id"].as_i64().unwrap(),
            );
        }
        let mut messages = Vec::new();
        for body in ["one", "two"] {
            let made = t
                .post_json(&format!("/v1/channels/{}/messages", channels[0]), json!({"type": "TEXT", "body": body}))
                .await;
            messages.push(made.body["id"].as_i64().unwrap());
        }
        // (collection, ids, embedded name, a valid patch and the field it sets, an invalid patch)
        let rows = [
            ("users", &users, json!({"displayName": "Bulk"}), "displayName", json!({"displayName": ""})),
            ("channels", &channels, json!({"displayName": "Bulk"}), "displayName", json!({"displayName": ""})),
            ("messages", &messages, json!({"body": "bulk"}), "body", json!({"body": ""})),
        ];
        for (family, ids, patch, field, invalid) in rows {
            let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            let send = |query: String, body: &serde_json::Value| {
                t.call(TestRequest::patch().uri(&format!("/v1/{family}?{query}")).set_json(body.clone()))
            };
            let reversed: Vec<i64> = ids.iter().rev().copied().collect();
            let done = send(format!("ids={}", list(&reversed)), &patch).await;
            assert_eq!(done.status, 200, "{family} {}: {}", t.label(), done.body);
            let items = done.body["_embedded"][family].as_array().unwrap();
            let answered: Vec<i64> = items.iter().map(|i| i["id"].as_i64().unwrap()).collect();
            assert_eq!(answered, reversed, "{family}: in the order of ids");
            for id in ids.iter() {
                let read = t.get(&format!("/v1/{family}/{id}")).await;
                assert_eq!(read.body[field], patch[field], "{family} {id} was updated");
            }
            let unknown = send(format!("ids={},999999999", list(ids)), &json!({field: "never"})).await;
            assert_eq!(unknown.status, 404, "{family}: {}", unknown.body);
            assert!(unknown.body["explanation"].as_str().unwrap_or_default().contains("999999999"));
            let refused = send(format!("ids={}", list(ids)), &invalid).await;
            assert_eq!(refused.status, 400, "{family}: {}", refused.body);
            for id in ids.iter() {
                let read = t.get(&format!("/v1/{family}/{id}")).await;
                assert_eq!(read.body[field], patch[field], "{family} {id}: a refused bulk update changed nothing");
            }
            assert_eq!(send("ids=".into(), &patch).await.status, 400, "{family}: empty ids");
            let too_many: Vec<i64> = (1..=101).collect();
            assert_eq!(send(format!("ids={}", list(&too_many)), &patch).await.status, 400);
        }
    }
}

/// Cursor pages carry `page.total`, the items of the whole list, on every cursor listing; it
/// follows posts, replies and deletes.
#[actix_web::test]
async fn cursor_pages_carry_the_total() {
    for t in TestApp::each().await {
        let jane = t.create_user("total-jane").await;
        let room = t
            .post_json(
                "/v1/channels",
                json!({"type": "PUBLIC", "name": "total-room", "members": [{"username": "total-jane"}]}),
            )
            .await;
        assert_eq!(room.status, 200, "{}", room.body);
        let room = format!("/v1/channels/{}", room.body["id"]);
        let mut ids = Vec::new();
        for n in 0..5 {
            let body = json!({"type": "TEXT", "body": format!("m{n}"), "user": {"username": "total-jane"}});
            ids.push(t.post_json(&format!("{room}/messages"), body).await.body["id"].as_i64().unwrap());
        }
        let reply =
            t.post_json(&format!("/v1/messages/{}/replies", ids[0]), json!({"type": "TEXT", "body": "r"})).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let total = |path: String| {
            let t = &t;
            async move {
                let page = t.get(&path).await;
                assert_eq!(page.status, 200, "{path}: {}", page.body);
                page.body["page"]["total"].as_u64().unwrap_or_else(|| panic!("{path}: no total in {}", page.body))
            }
        };
        assert_eq!(total(format!("{room}/messages?size=2")).await, 5, "top-level messages, whatever the page size");
        assert_eq!(total(format!("{room}/messages?size=2&next={}", ids[2])).await, 5, "on every page");
        assert_eq!(total(format!("/v1/messages/{}/replies", ids[0])).await, 1);
        assert_eq!(total(format!("{room}/messages?query=m1")).await, 1, "filters count");
        assert_eq!(total("/v1/messages".into()).await, 6, "the application's messages");
        assert_eq!(total(format!("/v1/users/{}/messages", jane["id"])).await, 5, "what jane sent");
        assert_eq!(total(format!("/v1/users/{}/notifications", jane["id"])).await, 1, "the reply notified jane");
        assert_eq!(t.call(TestRequest::delete().uri(&format!("/v1/messages/{}", ids[4]))).await.status, 200);
        assert_eq!(total(format!("{room}/messages")).await, 4, "a delete counts");
        assert_eq!(t.call(TestRequest::delete().uri(&format!("/v1/messages/{}", reply.body["id"]))).await.status, 200);
        assert_eq!(total(format!("/v1/messages/{}/replies", ids[0])).await, 0);
        assert_eq!(total(format!("{room}/messages")).await, 4, "a reply is not top-level");
    }
}
