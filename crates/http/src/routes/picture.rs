//! `GET /v1/picture/{name}`: the generated display picture every user's `displayPictureUrl`
//! points at until one is uploaded: an SVG with the name's initials. Public, like an avatar URL.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};

#[utoipa::path(
    get,
    path = "/v1/picture/{name}",
    operation_id = "retrieve-display-picture",
    tag = "users",
    summary = "A generated display picture",
    description = "Public, like an avatar URL: every user's `displayPictureUrl` points here.",
    params(("name" = String, Path, description = "The display name whose initials the picture shows")),
    responses(
        (status = 200, description = "An SVG with the name's initials", body = String, content_type = "image/svg+xml"),
    ),
)]
pub async fn get(req: HttpRequest) -> HttpResponse {
    let name = req.match_info().get("name").unwrap_or_default();
    let initials: String =
        name.split_whitespace().filter_map(|w| w.chars().next()).take(2).flat_map(char::to_uppercase).collect();
    let initials = if initials.is_empty() { "?".to_owned() } else { initials };
    // A stable hue per name.
    let hue = name.bytes().fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b))) % 360;
    let escaped: String = initials
        .chars()
        .map(|c| match c {
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '&' => "&amp;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"128\" height=\"128\" viewBox=\"0 0 128 128\">\
<rect width=\"128\" height=\"128\" fill=\"hsl({hue},55%,45%)\"/>\
<text x=\"50%\" y=\"50%\" dy=\".35em\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"52\" fill=\"#fff\">{escaped}</text></svg>"
    );
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .insert_header((header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'"))
        .body(svg)
}
