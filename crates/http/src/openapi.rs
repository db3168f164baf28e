//! Roost's OpenAPI 3.1 document, derived from the code (utoipa): the handlers' `#[utoipa::path]`
//! annotations, the representations' and request bodies' `ToSchema` derives, and the schemas
//! here for what roost-hal serializes (roost-hal knows nothing of OpenAPI). Served at
//! `GET /v1/openapi.json`; the HTTP tests check that it lists every route and validate every
//! response they record against it.
//!
//! [`ApiDoc`] lists the operations; [`Finish`] then adds what is the same for all of them: the
//! security schemes, the `default` error response, the plain-JSON alternative of every HAL
//! response, `304` for conditional reads, the snake_case aliases request bodies accept, and the
//! legacy application-scoped copies (`/v1/applications/{app_id}/…`) of every family's paths.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::LazyLock;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, Responder};
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat, Type,
};
use utoipa::openapi::security::{ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Scopes, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify, OpenApi, PartialSchema, ToSchema};

use crate::error::{ApiErrorBody, OAuthErrorBody};
use crate::negotiate::{Rendered, HAL_JSON_UTF8};
use crate::repr::application::{ApplicationRepr, SettingsRepr};
use crate::repr::chat::{
    ChannelRepr, EventRepr, InviteRepr, KeystrokesRepr, MembershipRepr, MessageRepr, NotificationRepr, ReceiptRepr,
    ThreadRepr,
};
use crate::repr::jobs::JobRepr;
use crate::repr::summaries::{ReportedMessageRepr, SummaryRepr};
use crate::repr::user::{ChatSessionRepr, UserRepr, UserSessionRepr};
use crate::repr::webhooks::{DeliveryRepr, WebhookRepr};
use crate::routes;

mod finish;
mod hal;
mod schemas;

pub use finish::Finish;
pub use hal::*;
pub use schemas::*;

/// The document, serialized once.
static DOCUMENT: LazyLock<Rendered> = LazyLock::new(|| {
    // Serializing utoipa's types to JSON cannot fail: every map key is a string.
    let json = serde_json::to_vec(&ApiDoc::openapi()).unwrap_or_default();
    Rendered::new("application/json", Bytes::from(json))
});

/// The OpenAPI document as served at `GET /v1/openapi.json` (JSON).
pub fn openapi_json() -> &'static [u8] {
    &DOCUMENT.body
}

/// `GET /v1/openapi.json`: the document, with a strong ETag. No token: it describes the API,
/// not a tenant.
pub async fn serve(req: HttpRequest) -> HttpResponse {
    DOCUMENT.clone().respond_to(&req)
}

/// The document: every operation of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Roost",
        version = env!("CARGO_PKG_VERSION"),
        description = "Roost's REST API: the ChatKitty Platform API 2.41.9 (users, channels, messages, threads, \
notifications, the application and its settings), served by Roost. Responses are HAL+JSON \
(`application/hal+json`) unless the client asks for `application/json`. Every `/v1` operation needs a \
bearer token from `POST /oauth/token` (OAuth 2.0 client credentials).",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later"),
    ),
    servers((url = "/", description = "This server")),
    paths(
        routes::oauth::token,
        routes::oauth::revoke,
        routes::oauth::introspect,
        routes::application::root,
        routes::application::get,
        routes::application::get_settings,
        routes::application::put_settings,
        routes::application::read_receipt_summaries,
        routes::picture::get,
        routes::files::download,
        routes::files::display_picture,
        routes::accounts::sign_up,
        routes::accounts::activate,
        routes::accounts::activate_link,
        routes::accounts::log_in,
        routes::accounts::log_out,
        routes::accounts::me,
        routes::accounts::list_sessions,
        routes::account_security::patch_me,
        routes::account_security::change_password,
        routes::account_security::request_reset,
        routes::account_security::reset,
        routes::me::stream,
        routes::me::threads,
        routes::me::send_direct,
        routes::me::list_blocks,
        routes::me::block,
        routes::me::unblock,
        routes::me::report,
        routes::users::list,
        routes::users::create,
        routes::users::exists,
        routes::users::get,
        routes::users::patch,
        routes::users::delete,
        routes::users::delete_many,
        routes::users::patch_many,
        routes::channels::of_user,
        routes::messages::of_user,
        routes::messages::unread_count,
        routes::notifications::of_user,
        routes::users::get_secret,
        routes::users::put_secret,
        routes::users::delete_secret,
        routes::channels::list,
        routes::channels::create,
        routes::channels::get,
        routes::channels::patch,
        routes::channels::delete,
        routes::channels::delete_many,
        routes::channels::patch_many,
        routes::members::members,
        routes::members::add_member,
        routes::members::remove_member,
        routes::members::memberships,
        routes::members::moderators,
        routes::members::add_moderator,
        routes::members::remove_moderator,
        routes::members::participants,
        routes::members::invites,
        routes::members::invite,
        routes::channels::messages,
        routes::channels::send,
        routes::channels::reported_messages,
        routes::channels::keystrokes_of_channel,
        routes::channels::event,
        routes::messages::list,
        routes::messages::delete_all,
        routes::messages::patch_many,
        routes::messages::get,
        routes::messages::patch,
        routes::messages::delete,
        routes::messages::replies,
        routes::messages::reply,
        routes::messages::react,
        routes::messages::unreact,
        routes::messages::receipts,
        routes::messages::mark_read,
        routes::threads::get,
        routes::threads::messages,
        routes::threads::send,
        routes::threads::keystrokes_of_thread,
        routes::events::events,
        routes::events::websocket,
        routes::events::ticket,
        routes::events::chat_sessions,
        routes::jobs::import_users,
        routes::jobs::import_channels,
        routes::jobs::import_members,
        routes::jobs::import_messages,
        routes::jobs::export_messages,
        routes::jobs::export_users,
        routes::jobs::list,
        routes::jobs::get,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::get,
        routes::webhooks::patch,
        routes::webhooks::delete,
        routes::webhooks::rotate_secret,
        routes::webhooks::deliveries,
        routes::webhooks::retry,
        routes::tests::get_all,
        routes::tests::post_all,
        routes::tests::put_all,
        routes::tests::patch_all,
        routes::tests::delete_all,
        routes::tests::get_one,
        routes::tests::post_one,
        routes::tests::put_one,
        routes::tests::patch_one,
        routes::tests::delete_one,
    ),
    components(schemas(ErrorSchema)),
    modifiers(&Finish),
    tags(
        (name = "oauth", description = "OAuth 2.0 tokens: client credentials (RFC 6749 §4.4), revocation (RFC 7009), introspection (RFC 7662)"),
        (name = "application", description = "The application a token speaks for, and its settings"),
        (name = "users", description = "Chat users"),
        (name = "accounts", description = "End users' own API: sign-up, activation, login (a session token that acts as the user), logout, their account"),
        (name = "channels", description = "Channels, their members, moderators, invites, messages and events"),
        (name = "messages", description = "Messages, replies, reactions and read receipts"),
        (name = "threads", description = "Reply threads"),
        (name = "tests", description = "Kayako's test resource: echoes how Roost reads a request"),
    )
)]
pub struct ApiDoc;

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails by panicking")]

    use serde::de::{self, Deserialize, Visitor};
    use serde_json::Value;

    use super::*;

    /// The field names (with aliases) a `Deserialize` struct accepts: serde hands them to
    /// `deserialize_struct`.
    fn serde_fields<T: for<'de> Deserialize<'de>>() -> Vec<&'static str> {
        struct Probe(Vec<&'static str>);
        #[derive(Debug)]
        struct Stop;
        impl std::fmt::Display for Stop {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("stop")
            }
        }
        impl std::error::Error for Stop {}
        impl de::Error for Stop {
            fn custom<M: std::fmt::Display>(_: M) -> Self {
                Stop
            }
        }
        impl<'de> de::Deserializer<'de> for &mut Probe {
            type Error = Stop;
            fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
                Err(Stop)
            }
            fn deserialize_struct<V: Visitor<'de>>(
                self,
                _: &'static str,
                fields: &'static [&'static str],
                _: V,
            ) -> Result<V::Value, Stop> {
                self.0 = fields.to_vec();
                Err(Stop)
            }
            serde::forward_to_deserialize_any! {
                bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
                unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
            }
        }
        let mut probe = Probe(Vec::new());
        let _ = T::deserialize(&mut probe);
        probe.0
    }

    fn document() -> Value {
        serde_json::from_slice(openapi_json()).unwrap()
    }

    /// Each request body's schema names exactly the fields (and aliases) serde accepts.
    #[test]
    fn body_schemas_name_what_serde_accepts() {
        let doc = document();
        let check = |schema: &str, mut accepted: Vec<&str>| {
            let properties = doc["components"]["schemas"][schema]["properties"]
                .as_object()
                .unwrap_or_else(|| panic!("no schema {schema}"));
            let mut documented: Vec<&str> = properties.keys().map(String::as_str).collect();
            documented.sort_unstable();
            accepted.sort_unstable();
            assert_eq!(documented, accepted, "{schema}");
        };
        use crate::routes::{application, bodies, channels, members, users};
        check("CreatePersonChatUserResource", serde_fields::<users::CreateUserBody>());
        check("SecretResource", serde_fields::<users::SecretBody>());
        check("ApplicationSettingsUpdate", serde_fields::<application::SettingsBody>());
        check("CreateChannelResource", serde_fields::<channels::CreateChannelBody>());
        check("CreateChannelGenericEventResource", serde_fields::<channels::EventBody>());
        check("CreateChannelInviteResource", serde_fields::<members::InviteBody>());
        check("CreateExternalFileProperties", serde_fields::<bodies::ExternalFileBody>());
        check("CreateMessageResource", serde_fields::<bodies::CreateMessageBody>());
        check("CreateMessageReadReceiptResource", serde_fields::<bodies::UserBody>());
        check("CreateDelegatedReplyThreadKeystrokesResource", serde_fields::<bodies::KeystrokesBody>());
        check("CreateMessageReactionResource", serde_fields::<bodies::ReactionBody>());
    }
}
