//! What is the same for every operation, added after the operations are collected ([`Finish`]).

use super::*;

/// Snake_case (and other) spellings the request bodies accept besides their camelCase fields
/// (`#[serde(alias)]`): `(schema, alias, field)`. A unit test checks each body schema against
/// the names serde accepts.
pub(super) const ALIASES: &[(&str, &str, &str)] = &[
    ("CreatePersonChatUserResource", "display_name", "displayName"),
    ("CreatePersonChatUserResource", "is_guest", "isGuest"),
    ("CreatePersonChatUserResource", "guest", "isGuest"),
    ("ApplicationSettingsUpdate", "guest_users", "guestUsers"),
    ("ApplicationSettingsUpdate", "user_created_channels", "userCreatedChannels"),
    ("ApplicationSettingsUpdate", "user_sign_up", "userSignUp"),
    ("CreateChannelResource", "display_name", "displayName"),
    ("CreateExternalFileProperties", "content_type", "contentType"),
    ("CreateMessageResource", "group_tag", "groupTag"),
];

/// The legacy application-scoped prefix (seed 001): `/v1/applications/{app_id}` serves what
/// `/v1/application` does, and `/v1/applications/{app_id}/users…` what `/v1/users…` does.
pub(super) const LEGACY_PREFIX: &str = "/v1/applications/{app_id}";

/// Completes the document: security schemes, error responses, media types, aliases, legacy
/// paths.
pub struct Finish;

impl Modify for Finish {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "oauth2",
            SecurityScheme::OAuth2(OAuth2::with_description(
                [Flow::ClientCredentials(ClientCredentials::new("/oauth/token", Scopes::new()))],
                "OAuth 2.0 client credentials: an application's back end trades its client id and secret \
                     for a bearer token at `POST /oauth/token`.",
            )),
        );
        components.add_security_scheme(
            "client_basic",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "The OAuth client's id and secret (RFC 6749 §2.3.1); or `client_id` and `client_secret` \
                         in the form.",
                    ))
                    .build(),
            ),
        );
        for (schema, alias, field) in ALIASES {
            add_alias(components, schema, alias, field);
        }
        untagged_any_of(components, "ChatUserReference");
        for (path, item) in openapi.paths.paths.iter_mut() {
            if let Some(read) = item.get.as_mut() {
                add_not_modified(read);
            }
            if path.starts_with("/v1/") && !path.starts_with("/v1/tests") {
                add_request_headers(item);
            }
            for operation in operations_mut(item) {
                finish_operation(operation);
            }
        }
        add_legacy_paths(&mut openapi.paths);
    }
}

pub(super) fn add_alias(components: &mut utoipa::openapi::Components, schema: &str, alias: &str, field: &str) {
    if let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(schema) {
        if let Some(property) = object.properties.get(field).cloned() {
            let described = match property {
                RefOr::T(Schema::Object(mut inner)) => {
                    inner.description = Some(format!("Alias of `{field}`."));
                    RefOr::T(Schema::Object(inner))
                }
                other => other,
            };
            object.properties.insert(alias.to_owned(), described);
        }
    }
}

/// serde reads an untagged enum as its first variant that fits, so a value may fit more than one
/// (`{"id": 1, "username": "jane"}` is a reference by id): `anyOf`, where utoipa writes `oneOf`.
pub(super) fn untagged_any_of(components: &mut utoipa::openapi::Components, schema: &str) {
    if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get(schema) {
        let mut any_of = utoipa::openapi::schema::AnyOfBuilder::new().description(one_of.description.clone());
        for item in &one_of.items {
            any_of = any_of.item(item.clone());
        }
        components.schemas.insert(schema.to_owned(), any_of.into());
    }
}

/// Every operation of a path item.
pub(super) fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.options.as_mut(),
        item.head.as_mut(),
        item.patch.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The essence of the HAL media type (`application/hal+json`).
pub(super) fn hal_media_type() -> &'static str {
    HAL_JSON_UTF8.split(';').next().unwrap_or(HAL_JSON_UTF8)
}

/// A `GET` whose answer is HAL has a strong `ETag` and answers `304` to a matching
/// `If-None-Match` (see `negotiate::Rendered`).
pub(super) fn add_not_modified(read: &mut Operation) {
    let answers_hal = read.responses.responses.get("200").is_some_and(|r| match r {
        RefOr::T(r) => r.content.contains_key(hal_media_type()),
        RefOr::Ref(_) => false,
    });
    if answers_hal {
        read.responses.responses.insert(
            "304".into(),
            ResponseBuilder::new()
                .description("Not modified: the representation still has the `ETag` named in `If-None-Match`.")
                .build()
                .into(),
        );
    }
}

/// HAL responses are also available as plain JSON (`Accept: application/json`) and, for the
/// newest official client, as `application/vnd.chatkitty+json` with snake_case field names
/// (`crate::casing`: the schema's names in snake_case, user data as sent); every operation may
/// fail with an [`ErrorSchema`] body.
pub(super) fn finish_operation(operation: &mut Operation) {
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            if let Some(content) = response.content.get(hal_media_type()).cloned() {
                response.content.entry("application/json".to_owned()).or_insert(content.clone());
                let mut snake = content;
                snake.extensions.get_or_insert_with(Default::default).merge(
                    utoipa::openapi::extensions::ExtensionsBuilder::new().add("x-field-casing", "snake_case").build(),
                );
                response.content.entry(crate::casing::VND_CHATKITTY_JSON.to_owned()).or_insert(snake);
            }
        }
    }
    // Every JSON body may come as a form too (`crate::extract::Body`), but the OAuth endpoints'
    // forms, which are described as they are.
    if let Some(body) = operation.request_body.as_mut() {
        if let Some(json) = body.content.get("application/json").cloned() {
            body.content.entry("application/x-www-form-urlencoded".to_owned()).or_insert(json);
        }
    }
    let error = ContentBuilder::new().schema(Some(schema_ref("Error"))).build();
    operation.responses.responses.entry("default".into()).or_insert_with(|| {
        ResponseBuilder::new()
            .description(
                "An error. 4xx and 5xx answers of the API are `ApiError`s; a 401, and every error of the OAuth \
                 endpoints, is an `AuthenticationError` (RFC 6749 §5.2, RFC 6750 §3).",
            )
            .content("application/json", error)
            .build()
            .into()
    });
}

/// A request header the API reads.
fn header_parameter(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(utoipa::openapi::Required::False)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// `Idempotency-Key` on every `POST` (`crate::idempotency`); `If-Match` and
/// `If-Unmodified-Since` on every `PUT`, `PATCH` and `DELETE` (`crate::conditional`).
fn add_request_headers(item: &mut PathItem) {
    if let Some(post) = item.post.as_mut() {
        post.parameters.get_or_insert_with(Vec::new).push(header_parameter(
            "Idempotency-Key",
            "Makes a retry safe: the first answer to this key is kept 24 h and replayed (`Idempotent-Replayed: true`); \
             the same key with another request is a 422, a repeat while the first runs waits for it or gets a 409.",
        ));
    }
    for write in [item.put.as_mut(), item.patch.as_mut(), item.delete.as_mut()].into_iter().flatten() {
        let parameters = write.parameters.get_or_insert_with(Vec::new);
        parameters.push(header_parameter(
            "If-Match",
            "Only if the resource still has this `ETag` (or exists, for `*`); else 412 `RESOURCE_MODIFIED`.",
        ));
        parameters.push(header_parameter(
            "If-Unmodified-Since",
            "Only if the resource has not changed since this HTTP date; else 412 `RESOURCE_MODIFIED`.",
        ));
    }
}

pub(super) fn app_id_parameter() -> Parameter {
    ParameterBuilder::new()
        .name("app_id")
        .parameter_in(ParameterIn::Path)
        .required(utoipa::openapi::Required::True)
        .description(Some("`me`, or the id of the token's own application (any other id is a 404)."))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// Copies `/v1/application` and the `/v1/users…` path items under [`LEGACY_PREFIX`], with the
/// `app_id` parameter, their own operation ids, and marked deprecated.
pub(super) fn add_legacy_paths(paths: &mut utoipa::openapi::Paths) {
    let legacy: Vec<(String, PathItem)> = paths
        .paths
        .iter()
        .filter_map(|(path, item)| {
            // Every resource family answers under the application's path too (seed 000):
            // `/v1/application…` as `/v1/applications/{app_id}…`, `/v1/users…` as
            // `/v1/applications/{app_id}/users…`, and so on.
            let rest = if let Some(rest) = path.strip_prefix("/v1/application") {
                if !(rest.is_empty() || rest.starts_with('/')) {
                    return None;
                }
                rest
            } else {
                path.strip_prefix("/v1").filter(|rest| {
                    ["/users", "/channels", "/messages", "/threads"]
                        .iter()
                        .any(|family| *rest == *family || rest.starts_with(&format!("{family}/")))
                })?
            };
            let mut item = item.clone();
            for operation in operations_mut(&mut item) {
                operation.operation_id = operation.operation_id.take().map(|id| format!("{id}-in-application"));
                operation.deprecated = Some(utoipa::openapi::Deprecated::True);
                let mut parameters = vec![app_id_parameter()];
                parameters.extend(operation.parameters.take().unwrap_or_default());
                operation.parameters = Some(parameters);
            }
            Some((format!("{LEGACY_PREFIX}{rest}"), item))
        })
        .collect();
    for (path, item) in legacy {
        paths.paths.insert(path, item);
    }
}
