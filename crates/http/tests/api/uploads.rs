//! File messages uploaded as `multipart/form-data` (the files seed) on the three message
//! endpoints, on the local store and on S3: extra parts in both casings, what is refused (and
//! leaves nothing behind), bytes removed with their messages, and the sweep.

use actix_web::test::TestRequest;
use roost_http::HttpSettings;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

const BOUNDARY: &str = "roost-upload-boundary";

/// A part of a multipart body: a text field, or a file with its name and type.
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

fn form(parts: &[Part<'_>]) -> Vec<u8> {
    let mut body = Vec::new();
    for part in parts {
        match part {
            Part::Text(name, value) => body.extend_from_slice(
                format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            ),
            Part::File(file_name, content_type, bytes) => {
                body.extend_from_slice(
                    format!(
                        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                body.extend_from_slice(bytes);
                body.extend_from_slice(b"\r\n");
            }
        }
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(t: &TestApp, uri: &str, body: Vec<u8>) -> Reply {
    t.call(
        TestRequest::post()
            .uri(uri)
            .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
            .set_payload(body),
    )
    .await
}

/// The path part of a hosted file's URL.
fn file_path(message: &Value) -> String {
    let url = message["file"]["url"].as_str().unwrap_or_default();
    let at = url.find("/v1/files/").unwrap_or_else(|| panic!("not a hosted file: {message}"));
    url[at..].to_owned()
}

async fn channel_with(t: &TestApp, name: &str, creator: &str) -> Value {
    let reply =
        t.post_json("/v1/channels", json!({"type": "PUBLIC", "name": name, "creator": {"username": creator}})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// FILE and SYSTEM_FILE messages from uploads on every endpoint, the parts in either casing,
/// served back byte for byte; deleting a message, then the channel, removes their bytes.
#[actix_web::test]
async fn file_messages_are_uploaded_served_and_removed_with_their_messages() {
    for t in TestApp::each_file_store(HttpSettings::default()).await {
        let jane = t.create_user("up-jane").await;
        let channel = channel_with(&t, "uploads", "up-jane").await;
        let messages = format!("/v1/channels/{}/messages", channel["id"]);
        let report: Vec<u8> = (0..=255u8).cycle().take(100_000).collect();

        let from_jane = upload(
            &t,
            &messages,
            form(&[
                Part::Text("groupTag", "q3"),
                Part::File("../../etc/rapport é.pdf", "application/pdf", &report),
                Part::Text("username", "up-jane"),
                Part::Text("properties", r#"{"reviewed": true}"#),
            ]),
        )
        .await;
        assert_eq!(from_jane.status, 200, "{}: {}", t.label(), from_jane.body);
        let m = &from_jane.body;
        assert_eq!(m["type"], "FILE");
        assert_eq!(m["user"]["name"], "up-jane");
        assert_eq!(m["groupTag"], "q3");
        assert_eq!(m["properties"]["reviewed"], true);
        assert_eq!(m["file"]["type"], "HOSTED");
        assert_eq!(m["file"]["name"], "rapport é.pdf", "the path is dropped, the UTF-8 name kept");
        assert_eq!(m["file"]["contentType"], "application/pdf");
        assert_eq!(m["file"]["size"], 100_000);
        let path = file_path(m);
        assert_eq!(path.len(), "/v1/files/".len() + 32, "the key is random, not the name: {path}");
        let download = t.send(TestRequest::get().uri(&path)).await;
        assert_eq!(download.status, 200);
        assert_eq!(download.raw, report, "{}: the bytes round-trip", t.label());
        assert_eq!(download.header("content-type"), Some("application/pdf"));
        let disposition = download.header("content-disposition").unwrap_or_default();
        assert!(disposition.contains("filename*=UTF-8''rapport%20%C3%A9%2Epdf"), "{disposition}");
        let read = t.get(&format!("/v1/messages/{}", m["id"])).await;
        assert_eq!(file_path(&read.body), path, "the stored message renders the same URL");

        // No part names a user: the application sent it. snake_case parts, a JSON user reference.
        let system = upload(&t, &messages, form(&[Part::File("notes.txt", "text/plain", b"minutes")])).await;
        assert_eq!(system.body["type"], "SYSTEM_FILE", "{}", system.body);
        let by_id = format!(r#"{{"id": {}}}"#, jane["id"]);
        let snake = upload(
            &t,
            &format!("/v1/messages/{}/replies", m["id"]),
            form(&[
                Part::Text("group_tag", "answers"),
                Part::Text("user", &by_id),
                Part::File("reply.bin", "application/octet-stream", b"\0\x01"),
            ]),
        )
        .await;
        assert_eq!(snake.status, 200, "{}", snake.body);
        assert_eq!((snake.body["type"].as_str(), snake.body["groupTag"].as_str()), (Some("FILE"), Some("answers")));
        assert_eq!(snake.body["nestedLevel"], 1, "a reply");
        let thread = snake.body["_links"]["thread"]["href"].as_str().unwrap();
        let thread = &thread[thread.find("/v1/threads/").unwrap()..];
        let in_thread = upload(
            &t,
            &format!("{thread}/messages"),
            form(&[Part::Text("user", r#"{"username": "up-jane"}"#), Part::File("t.txt", "text/plain", b"t")]),
        )
        .await;
        assert_eq!(in_thread.body["type"], "FILE", "{}", in_thread.body);
        // An external reference is still JSON.
        let external = t
            .post_json(
                &messages,
                json!({"type": "FILE", "file": {"url": "https://cdn.example.com/a.pdf", "name": "a.pdf", "contentType": "application/pdf", "size": 3}}),
            )
            .await;
        assert_eq!(
            (external.body["type"].as_str(), external.body["file"]["type"].as_str()),
            (Some("SYSTEM_FILE"), Some("EXTERNAL"))
        );
        assert_eq!(t.stored_files().await, 4);
        assert_eq!(t.db.count("SELECT COUNT(*) FROM files"), 4);

        // Deleting a message removes its bytes and its replies' (here: the two thread files).
        assert_eq!(t.call(TestRequest::delete().uri(&format!("/v1/messages/{}", m["id"]))).await.status, 200);
        assert_eq!(t.stored_files().await, 1, "{}", t.label());
        assert_eq!(t.send(TestRequest::get().uri(&path)).await.status, 404);
        assert_eq!(t.call(TestRequest::delete().uri(&format!("/v1/channels/{}", channel["id"]))).await.status, 200);
        assert_eq!(t.stored_files().await, 0, "{}", t.label());
        assert_eq!(t.db.count("SELECT COUNT(*) FROM files"), 0);
    }
}

/// Every refused upload is a clear 4xx, and leaves no bytes and no row.
#[actix_web::test]
async fn refused_uploads_leave_nothing_behind() {
    let settings = HttpSettings { files_max_bytes: 1000, ..HttpSettings::default() };
    for t in TestApp::each_file_store(settings).await {
        t.create_user("up-ben").await;
        let channel = channel_with(&t, "refusals", "up-ben").await;
        let messages = format!("/v1/channels/{}/messages", channel["id"]);
        let small = Part::File("a.txt", "text/plain", b"hello");
        let big = vec![7u8; 1001];
        let cases: Vec<(&str, Vec<u8>, u16)> = vec![
            ("over the limit", form(&[Part::File("big.bin", "application/octet-stream", &big)]), 413),
            ("no file part", form(&[Part::Text("username", "up-ben")]), 400),
            ("two files", form(&[Part::File("a", "text/plain", b"a"), Part::File("b", "text/plain", b"b")]), 400),
            ("an unknown part", form(&[Part::Text("colour", "red"), Part::File("a", "text/plain", b"a")]), 400),
            ("properties not JSON", form(&[Part::File("a", "text/plain", b"a"), Part::Text("properties", "{")]), 400),
            ("a user that is not JSON", form(&[Part::File("a", "text/plain", b"a"), Part::Text("user", "ben")]), 400),
            (
                "two senders",
                form(&[
                    Part::Text("username", "up-ben"),
                    Part::Text("user", r#"{"username":"up-ben"}"#),
                    Part::File("a", "text/plain", b"a"),
                ]),
                400,
            ),
            ("an unknown user", form(&[small, Part::Text("username", "nobody")]), 400),
            // A body cut short, as when the client disconnects: no closing boundary.
            ("a truncated body", form(&[Part::File("a", "text/plain", &big)])[..600].to_vec(), 400),
        ];
        for (case, body, status) in cases {
            let reply = upload(&t, &messages, body).await;
            assert_eq!(reply.status.as_u16(), status, "{}: {case}: {}", t.label(), reply.body);
            assert_eq!(t.stored_files().await, 0, "{}: {case}: nothing in the store", t.label());
            assert_eq!(t.db.count("SELECT COUNT(*) FROM files"), 0, "{case}: nothing in the database");
        }
        let missing = upload(&t, "/v1/channels/1/messages", form(&[Part::File("a", "text/plain", b"a")])).await;
        assert_eq!(missing.status, 404);
        assert_eq!(t.stored_files().await, 0, "{}: an unknown channel", t.label());
        let over = upload(&t, &messages, form(&[Part::File("big.bin", "application/octet-stream", &big)])).await;
        assert!(over.body["explanation"].as_str().unwrap_or_default().contains("1000 bytes"), "{}", over.body);

        // A page a browser would run is served as an attachment.
        let page =
            upload(&t, &messages, form(&[Part::File("x.html", "text/html", b"<script>alert(1)</script>")])).await;
        let served = t.send(TestRequest::get().uri(&file_path(&page.body))).await;
        assert!(served.header("content-disposition").unwrap_or_default().starts_with("attachment"));
        assert_eq!(served.header("x-content-type-options"), Some("nosniff"));
        // The same bytes again get a key of their own (no deduplication).
        let again =
            upload(&t, &messages, form(&[Part::File("x.html", "text/html", b"<script>alert(1)</script>")])).await;
        assert_ne!(file_path(&again.body), file_path(&page.body));
        let bad_type =
            upload(&t, &messages, form(&[Part::Text("type", "TEXT"), Part::File("a", "text/plain", b"a")])).await;
        assert_eq!(bad_type.status, 400, "{}", bad_type.body);
    }
}

/// The sweep marks files nothing refers to, removes bytes no row records (once old enough) and
/// rows whose bytes are gone, and says what it did.
#[actix_web::test]
async fn the_sweep_reconciles_the_store_with_the_database() {
    for t in TestApp::each_file_store(HttpSettings::default()).await {
        t.create_user("up-cy").await;
        let channel = channel_with(&t, "sweeping", "up-cy").await;
        let messages = format!("/v1/channels/{}/messages", channel["id"]);
        let kept = upload(&t, &messages, form(&[Part::File("kept.txt", "text/plain", b"kept")])).await;
        let lost = upload(&t, &messages, form(&[Part::File("lost.txt", "text/plain", b"lost")])).await;
        // Bytes gone behind Roost's back, and bytes no row records (an upload that crashed).
        let lost_key = file_path(&lost.body).rsplit('/').next().unwrap().to_owned();
        t.files().delete(&lost_key).await.unwrap();
        let orphan = roost_files::Files::new_key();
        let stream = futures_util::stream::iter([Ok::<_, String>(actix_web::web::Bytes::from_static(b"orphan"))]);
        t.files().upload(&orphan, stream, 100).await.unwrap();

        // And a row nothing refers to (its message's reference lost, as by a bad manual edit).
        let unreferenced = upload(&t, &messages, form(&[Part::File("stray.txt", "text/plain", b"stray")])).await;
        t.db.execute(&format!("UPDATE messages SET file_key = NULL WHERE id = {}", unreferenced.body["id"]));

        let report = roost_http::file_cleanup::sweep(&t.state.service, t.files()).await.unwrap();
        assert_eq!((report.unreferenced, report.removed), (1, 1), "{}: {report:?}", t.label());
        assert_eq!(report.missing_bytes, 1, "{}: {report:?}", t.label());
        assert_eq!(report.recent_kept, 1, "a recent orphan may be an upload in flight: {report:?}");
        assert_eq!(t.stored_files().await, 2);
        assert_eq!(t.db.count("SELECT COUNT(*) FROM files"), 1);
        assert_eq!(t.send(TestRequest::get().uri(&file_path(&kept.body))).await.status, 200);
        if !t.s3 {
            // An hour later it is an orphan for sure (S3 cannot be made to age an object).
            let old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 3600);
            std::fs::File::options()
                .write(true)
                .open(t.files_dir.path().join(&orphan))
                .unwrap()
                .set_modified(old)
                .unwrap();
            let report = roost_http::file_cleanup::sweep(&t.state.service, t.files()).await.unwrap();
            assert_eq!((report.orphaned_bytes, report.recent_kept), (1, 0), "{report:?}");
            assert_eq!(t.stored_files().await, 1);
        }
        let again = roost_http::file_cleanup::sweep(&t.state.service, t.files()).await.unwrap();
        assert_eq!((again.missing_bytes, again.orphaned_bytes, again.unreferenced), (0, 0, 0), "{again:?}");
    }
}
