//! Display pictures and hosted-file downloads (the files seed): multipart uploads streamed to the
//! file store, type and size checks that leave nothing behind, downloads with `ETag`, `Range`
//! and a safe `Content-Disposition`, and bytes removed with what referenced them.

use actix_web::test::TestRequest;
use roost_http::HttpSettings;
use serde_json::{json, Value};

use crate::helpers::{Reply, TestApp};

/// A PNG's signature and a little more: what the picture check reads.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

const BOUNDARY: &str = "roost-test-boundary";

/// A `multipart/form-data` body with one file part and optional text parts.
fn multipart(file_name: &str, content_type: &str, bytes: &[u8], extra: &[(&str, &str)]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in extra {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn upload(t: &TestApp, user: &Value, body: Vec<u8>) -> Reply {
    t.call(
        TestRequest::post()
            .uri(&format!("/v1/users/{}/display-picture", user["id"]))
            .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
            .set_payload(body),
    )
    .await
}

/// The path of a user's picture, when hosted.
fn picture_path(user: &Value) -> String {
    let url = user["displayPictureUrl"].as_str().unwrap_or_default();
    let at = url.find("/v1/files/").unwrap_or_else(|| panic!("not a hosted picture: {url}"));
    url[at..].to_owned()
}

/// Upload, download whole, revalidate, in ranges, then replace: the old bytes go.
#[actix_web::test]
async fn a_picture_is_uploaded_served_and_replaced() {
    for t in TestApp::each_file_store(HttpSettings::default()).await {
        let jane = t.create_user("pic-jane").await;
        let picture: Vec<u8> = PNG.iter().copied().chain((0..200u8).cycle().take(4000)).collect();
        let uploaded = upload(&t, &jane, multipart("../../etc/passwd.png", "image/png", &picture, &[])).await;
        assert_eq!(uploaded.status, 200, "{} {}", t.label(), uploaded.body);
        let path = picture_path(&uploaded.body);
        assert_eq!(path.len(), "/v1/files/".len() + 32, "an unguessable key: {path}");

        let file = t.send(TestRequest::get().uri(&path)).await;
        assert_eq!(file.status, 200, "no token needed");
        assert_eq!(file.raw, picture);
        assert_eq!(file.header("content-type"), Some("image/png"));
        // Content-Length is written on the wire from the sized body (not in the test's headers).
        assert_eq!(file.header("accept-ranges"), Some("bytes"));
        assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
        let disposition = file.header("content-disposition").unwrap_or_default();
        assert!(disposition.starts_with("inline; filename=\"passwd.png\""), "{disposition}");
        let etag = file.header("etag").unwrap_or_default().to_owned();
        assert!(etag.starts_with('"') && etag.len() == 34, "{etag}");

        let again = t.send(TestRequest::get().uri(&path).insert_header(("if-none-match", etag.as_str()))).await;
        assert_eq!(again.status, 304);
        assert!(again.raw.is_empty());
        let part = t.send(TestRequest::get().uri(&path).insert_header(("range", "bytes=0-7"))).await;
        assert_eq!(part.status, 206);
        assert_eq!(part.raw, &picture[..8]);
        let size = picture.len();
        assert_eq!(part.header("content-range"), Some(format!("bytes 0-7/{size}").as_str()));
        let tail = t.send(TestRequest::get().uri(&path).insert_header(("range", "bytes=-5"))).await;
        assert_eq!(tail.raw, &picture[size - 5..]);
        let outside = t.send(TestRequest::get().uri(&path).insert_header(("range", "bytes=5000-"))).await;
        assert_eq!(outside.status, 416);
        assert_eq!(outside.header("content-range"), Some(format!("bytes */{size}").as_str()));
        assert_eq!(t.send(TestRequest::get().uri("/v1/files/0123456789abcdef0123456789abcdef")).await.status, 404);

        let read = t.get(&format!("/v1/users/{}", jane["id"])).await;
        assert_eq!(picture_path(&read.body), path, "the user's displayPictureUrl is the file");
        let replaced = upload(&t, &jane, multipart("new.gif", "image/gif", b"GIF89a\x01\0\x01\0\0\0\0;", &[])).await;
        assert_eq!(replaced.status, 200, "{}", replaced.body);
        assert_eq!(t.send(TestRequest::get().uri(&path)).await.status, 404, "the old picture is gone");
        assert_eq!(t.stored_files().await, 1, "and its bytes");
        let newer = t.send(TestRequest::get().uri(&picture_path(&replaced.body))).await;
        assert_eq!(newer.header("content-type"), Some("image/gif"));

        // Deleting the user removes its picture's bytes.
        assert_eq!(t.call(TestRequest::delete().uri(&format!("/v1/users/{}", jane["id"]))).await.status, 200);
        assert_eq!(t.stored_files().await, 0, "{}", t.label());
        assert_eq!(t.send(TestRequest::get().uri(&picture_path(&replaced.body))).await.status, 404);
    }
}

/// Refused uploads leave nothing in the store or the database.
#[actix_web::test]
async fn refused_pictures_leave_nothing_behind() {
    let settings = HttpSettings { picture_max_bytes: 1000, ..HttpSettings::default() };
    for t in TestApp::each_file_store(settings).await {
        let ben = t.create_user("pic-ben").await;
        let mismatch = upload(&t, &ben, multipart("a.jpg", "image/jpeg", PNG, &[])).await;
        assert_eq!(mismatch.status, 400, "{}", mismatch.body);
        assert!(mismatch.body.to_string().contains("image/png"), "{}", mismatch.body);
        let svg =
            upload(&t, &ben, multipart("a.svg", "image/svg+xml", b"<svg xmlns='http://www.w3.org/2000/svg'/>", &[]))
                .await;
        assert_eq!(svg.status, 400);
        let big: Vec<u8> = PNG.iter().copied().chain(std::iter::repeat_n(0, 2000)).collect();
        let too_large = upload(&t, &ben, multipart("big.png", "image/png", &big, &[])).await;
        assert_eq!(too_large.status, 413, "{}", too_large.body);
        let no_file = t
            .call(
                TestRequest::post()
                    .uri(&format!("/v1/users/{}/display-picture", ben["id"]))
                    .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
                    .set_payload(format!(
                        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\ny\r\n--{BOUNDARY}--\r\n"
                    )),
            )
            .await;
        assert_eq!(no_file.status, 400, "{}", no_file.body);
        let malformed = t
            .call(
                TestRequest::post()
                    .uri(&format!("/v1/users/{}/display-picture", ben["id"]))
                    .insert_header(("content-type", format!("multipart/form-data; boundary={BOUNDARY}")))
                    .set_payload("not multipart at all"),
            )
            .await;
        assert_eq!(malformed.status, 400, "{}", malformed.body);
        let unknown = upload(&t, &json!({"id": 1}), multipart("a.png", "image/png", PNG, &[])).await;
        assert_eq!(unknown.status, 404);
        assert_eq!(t.stored_files().await, 0, "{}: nothing in the store", t.label());
        assert_eq!(t.db.count("SELECT COUNT(*) FROM files"), 0, "nothing in the database");
        let user = t.get(&format!("/v1/users/{}", ben["id"])).await;
        assert!(user.body["displayPictureUrl"].as_str().unwrap_or_default().contains("/picture/"), "the default stays");
    }
}

/// An external reference (JSON) is the picture's URL.
#[actix_web::test]
async fn an_external_picture_is_a_reference() {
    for t in TestApp::each().await {
        let ann = t.create_user("pic-ann").await;
        let set = t
            .post_json(
                &format!("/v1/users/{}/display-picture", ann["id"]),
                json!({"url": "https://cdn.example.com/ann.png", "name": "ann.png", "contentType": "image/png", "size": 10}),
            )
            .await;
        assert_eq!(set.status, 200, "{}", set.body);
        assert_eq!(set.body["displayPictureUrl"], "https://cdn.example.com/ann.png");
        let bad = t
            .post_json(
                &format!("/v1/users/{}/display-picture", ann["id"]),
                json!({"url": "javascript:alert(1)", "name": "x", "contentType": "image/png", "size": 1}),
            )
            .await;
        assert_eq!(bad.status, 400, "{}", bad.body);
    }
}
