//! Roost's OpenAPI 3.1 document, derived from the code (utoipa): the handlers' `#[utoipa::path]`
//! annotations, the representations' and request bodies' `ToSchema` derives, and the schemas
//! here for what roost-hal serializes (roost-hal knows nothing of OpenAPI). Served at
//! `GET /v1/openapi.json`; the HTTP tests check that it lists every route and validate every
//! response they record against it.
//!
//! [`ApiDoc`] lists the operations; [`Finish`] then adds what is the same for all of them: the
//! security schemes, the `default` error response, the plain-JSON alternative of every HAL
//! response, `304` for conditional reads, the snake_case aliases request bodies accept, and the
//! legacy application-scoped copies of the `/v1/users…` paths.

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
    ReportedMessageRepr, SummaryRepr, ThreadRepr,
};
use crate::repr::user::UserRepr;
use crate::routes;

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
        routes::users::list,
        routes::users::create,
        routes::users::exists,
        routes::users::get,
        routes::users::patch,
        routes::users::delete,
        routes::users::delete_many,
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
        (name = "channels", description = "Channels, their members, moderators, invites, messages and events"),
        (name = "messages", description = "Messages, replies, reactions and read receipts"),
        (name = "threads", description = "Reply threads"),
        (name = "tests", description = "Kayako's test resource: echoes how Roost reads a request"),
    )
)]
pub struct ApiDoc;

// ---- Schemas of what roost-hal serializes ----------------------------------------------------

/// A representation with a collection name: what a page of it embeds its items under.
pub trait Embedded: ToSchema {
    /// The relation name under `_embedded`, e.g. `users`.
    const COLLECTION: &'static str;
}

macro_rules! embedded {
    ($($repr:ty => $name:literal),* $(,)?) => {
        $(impl Embedded for $repr { const COLLECTION: &'static str = $name; })*
    };
}

embedded!(
    UserRepr => "users",
    ChannelRepr => "channels",
    MessageRepr => "messages",
    NotificationRepr => "notifications",
    MembershipRepr => "memberships",
    InviteRepr => "invites",
    ReceiptRepr => "receipts",
    SummaryRepr => "summaries",
    ReportedMessageRepr => "messages",
);

/// `roost_hal::Resource<T>`: `T`'s properties, then `_links`. Named after `T`'s schema, with
/// `Resource` for `Properties` (`ChatUserProperties` → `ChatUserResource`), as ChatKitty names
/// them.
pub struct HalResource<T>(PhantomData<T>);

fn resource_name<T: ToSchema>() -> String {
    let name = T::name();
    format!("{}Resource", name.strip_suffix("Properties").unwrap_or(&name))
}

fn schema_ref(name: impl Into<String>) -> RefOr<Schema> {
    RefOr::Ref(Ref::from_schema_name(name))
}

impl<T: ToSchema> PartialSchema for HalResource<T> {
    fn schema() -> RefOr<Schema> {
        // `_links` is left out when empty (no resource of the API has no links, but that is how
        // roost-hal serializes it).
        match T::schema() {
            RefOr::T(Schema::Object(mut object)) => {
                object.properties.insert("_links".into(), schema_ref("Links"));
                RefOr::T(Schema::Object(object))
            }
            other => utoipa::openapi::schema::AllOfBuilder::new()
                .item(other)
                .item(ObjectBuilder::new().property("_links", schema_ref("Links")))
                .into(),
        }
    }
}

impl<T: ToSchema> ToSchema for HalResource<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(resource_name::<T>())
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        hal_schemas(schemas);
        T::schemas(schemas);
    }
}

/// `Link` and `Links`, which every HAL schema refers to.
fn hal_schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
    let link = ObjectBuilder::new()
        .description(Some("A HAL link (draft-kelly-json-hal §5)."))
        .property(
            "href",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some("The target URI, or an RFC 6570 URI template when `templated`.")),
        )
        .required("href")
        .property(
            "templated",
            ObjectBuilder::new()
                .schema_type(Type::Boolean)
                .description(Some("`href` is a URI template (RFC 6570); omitted when not.")),
        )
        .property("title", ObjectBuilder::new().schema_type(Type::String).description(Some("A human-readable label.")));
    let links = ObjectBuilder::new()
        .description(Some("HAL links: relation name to link."))
        .additional_properties(Some(AdditionalProperties::RefOr(schema_ref("Link"))));
    schemas.push(("Link".into(), link.into()));
    schemas.push(("Links".into(), links.into()));
}

fn integer(description: &str) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .description(Some(description))
}

/// A numbered page (`roost_hal::PagedResource` with `PageMetadata`): `_embedded.<collection>`,
/// `_links` (`first`, `prev`, `self`, `next`, `last`) and `page`. Named as ChatKitty does:
/// `PagedModelChatUserResource`.
pub struct NumberedPage<T>(PhantomData<T>);

/// A cursor page (`roost_hal::PagedResource` with `CursorPageMetadata`): `_embedded.<collection>`,
/// `_links` (`self`, `next`, `prev`) and `page`. Named as ChatKitty does:
/// `CursorPagedModelMessageResource`.
pub struct CursorPage<T>(PhantomData<T>);

fn page_schema<T: Embedded>(metadata: &str, description: &str) -> RefOr<Schema> {
    let items = ArrayBuilder::new().items(schema_ref(resource_name::<T>()));
    let embedded = ObjectBuilder::new().property(T::COLLECTION, items).required(T::COLLECTION);
    ObjectBuilder::new()
        .description(Some(description))
        .property("_embedded", embedded)
        .required("_embedded")
        .property("_links", schema_ref("Links"))
        .required("_links")
        .property("page", schema_ref(metadata))
        .required("page")
        .into()
}

impl<T: Embedded> PartialSchema for NumberedPage<T> {
    fn schema() -> RefOr<Schema> {
        page_schema::<T>("PageMetadata", "A numbered page: `page` and `size` select it, `_links` lead to the others.")
    }
}

impl<T: Embedded> ToSchema for NumberedPage<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("PagedModel{}", resource_name::<T>()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let metadata = ObjectBuilder::new()
            .property("size", integer("The requested page size."))
            .required("size")
            .property("totalElements", integer("Items in the whole list."))
            .required("totalElements")
            .property("totalPages", integer("Pages in the whole list."))
            .required("totalPages")
            .property("number", integer("This page's 0-based number."))
            .required("number");
        schemas.push(("PageMetadata".into(), metadata.into()));
        schemas.push((resource_name::<T>(), HalResource::<T>::schema()));
        HalResource::<T>::schemas(schemas);
    }
}

impl<T: Embedded> PartialSchema for CursorPage<T> {
    fn schema() -> RefOr<Schema> {
        page_schema::<T>(
            "CursorPageMetadata",
            "A cursor page, newest first: `_links.next` reads older items, `_links.prev` newer ones.",
        )
    }
}

impl<T: Embedded> ToSchema for CursorPage<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("CursorPagedModel{}", resource_name::<T>()))
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let cursor = |description| ObjectBuilder::new().schema_type(Type::String).description(Some(description));
        let metadata = ObjectBuilder::new()
            .property("size", integer("The requested page size."))
            .required("size")
            .property("start", cursor("The newest id of the page; omitted when it is empty."))
            .property("next", cursor("The oldest id of the page, when older items exist."));
        schemas.push(("CursorPageMetadata".into(), metadata.into()));
        schemas.push((resource_name::<T>(), HalResource::<T>::schema()));
        HalResource::<T>::schemas(schemas);
    }
}

/// `GET /v1`: no properties, links only.
pub struct ApiRoot;

impl PartialSchema for ApiRoot {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .description(Some("The API root: links to the application."))
            .property("_links", schema_ref("Links"))
            .required("_links")
            .into()
    }
}

impl ToSchema for ApiRoot {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("ApiRootResource")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        hal_schemas(schemas);
    }
}

/// What the handlers answer, by the names the annotations use.
pub type UserResource = HalResource<UserRepr>;
/// A channel with its links.
pub type ChannelResource = HalResource<ChannelRepr>;
/// A message with its links.
pub type MessageResource = HalResource<MessageRepr>;
/// A reply thread with its links.
pub type ThreadResource = HalResource<ThreadRepr>;
/// The application with its links.
pub type ApplicationResource = HalResource<ApplicationRepr>;
/// The application's settings with links.
pub type SettingsResource = HalResource<SettingsRepr>;
/// An invite with links.
pub type InviteResource = HalResource<InviteRepr>;
/// A read receipt with links.
pub type ReceiptResource = HalResource<ReceiptRepr>;
/// A typing indicator as answered.
pub type KeystrokesResource = HalResource<KeystrokesRepr>;
/// A channel event as answered.
pub type EventResource = HalResource<EventRepr>;
/// A numbered page of users.
pub type UserPage = NumberedPage<UserRepr>;
/// A numbered page of channels.
pub type ChannelPage = NumberedPage<ChannelRepr>;
/// A numbered page of memberships.
pub type MembershipPage = NumberedPage<MembershipRepr>;
/// A numbered page of invites.
pub type InvitePage = NumberedPage<InviteRepr>;
/// A numbered page of read receipts.
pub type ReceiptPage = NumberedPage<ReceiptRepr>;
/// A cursor page of messages.
pub type MessagePage = CursorPage<MessageRepr>;
/// `PagedModelMessageReadReceiptSummaryResource`.
pub type SummaryPage = NumberedPage<SummaryRepr>;
/// `PagedModelReportedMessageResource`.
pub type ReportedMessagePage = NumberedPage<ReportedMessageRepr>;

/// `GET /v1/users/{id}/messages/unread/count`.
#[derive(ToSchema)]
#[schema(as = CountResource)]
#[allow(dead_code, reason = "a schema only: the handler builds the JSON")]
pub struct UnreadCount {
    /// Messages the user has not read.
    count: u64,
}
/// A cursor page of notifications.
pub type NotificationPage = CursorPage<NotificationRepr>;

/// The OAuth endpoints' error body (`AuthenticationError`).
pub(crate) type OAuthErrorSchema = OAuthErrorBody<'static>;

/// How `/v1/tests` read a request.
#[derive(ToSchema)]
#[schema(as = TestEcho)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code, reason = "a schema only: routes::tests builds the JSON")]
pub struct TestEcho {
    /// The request method.
    method: String,
    /// The path as the client wrote it.
    path: String,
    /// Path parameters by name.
    #[schema(value_type = Object)]
    path_parameters: serde_json::Map<String, serde_json::Value>,
    /// Query arguments by name (a repeated one as an array).
    #[schema(value_type = Object)]
    query: serde_json::Map<String, serde_json::Value>,
    /// The request's `Content-Type`.
    content_type: Option<String>,
    /// The request's `Accept`.
    accept: Option<String>,
    /// The request's `X-Options`.
    options: Option<String>,
    /// The body as read: JSON as sent, a form as an object of its fields, or `null`.
    #[schema(value_type = Option<Object>)]
    body: Option<serde_json::Value>,
}

/// An application setting's state (`roost_domain::model::application::Toggle` on the wire).
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms, reason = "a schema only: the wire spelling")]
pub enum Toggle {
    /// On.
    ENABLED,
    /// Off.
    DISABLED,
}

/// A user's type.
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms, reason = "a schema only: the wire spelling")]
pub enum UserType {
    /// A person.
    PERSON,
    /// A bot.
    BOT,
}

/// A channel's type.
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms, reason = "a schema only: the wire spelling")]
pub enum ChannelType {
    /// Anyone of the application may join.
    PUBLIC,
    /// Members join by invite.
    PRIVATE,
    /// A fixed set of members.
    DIRECT,
}

/// A message's type.
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms, non_camel_case_types, reason = "a schema only: the wire spelling")]
pub enum MessageType {
    /// Text from a user.
    TEXT,
    /// A file from a user.
    FILE,
    /// Text from the application.
    SYSTEM_TEXT,
    /// A file from the application.
    SYSTEM_FILE,
}

/// A reply thread's type.
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms, reason = "a schema only: the wire spelling")]
pub enum ThreadType {
    /// A channel's main thread.
    MAIN,
    /// The replies to a message.
    MESSAGE,
}

/// What a mention names.
#[derive(ToSchema)]
#[allow(dead_code, clippy::upper_case_acronyms, reason = "a schema only: the wire spelling")]
pub enum MentionType {
    /// A user (`user`).
    USER,
    /// A channel (`channel`).
    CHANNEL,
}

/// What a notification is about.
#[derive(ToSchema)]
#[allow(dead_code, reason = "a schema only")]
pub enum NotificationType {
    /// A user sent a message in one of the recipient's channels.
    #[schema(rename = "USER:SENT:MESSAGE")]
    UserSentMessage,
    /// The application sent a message in one of the recipient's channels.
    #[schema(rename = "SYSTEM:SENT:MESSAGE")]
    SystemSentMessage,
    /// A message mentioned the recipient.
    #[schema(rename = "USER:MENTIONED:USER")]
    MentionedUser,
    /// A message mentioned one of the recipient's channels.
    #[schema(rename = "USER:MENTIONED:CHANNEL")]
    MentionedChannel,
    /// A user replied to the recipient's message.
    #[schema(rename = "USER:REPLIED_TO:MESSAGE")]
    RepliedToMessage,
}

/// `POST /oauth/token`'s answer (`roost_auth::grant::TokenResponse`; RFC 6749 §5.1).
#[derive(ToSchema)]
#[schema(as = AccessTokenResponse)]
#[allow(dead_code, reason = "a schema only")]
pub struct TokenResponseSchema {
    /// The bearer token.
    access_token: String,
    /// Always `bearer`.
    token_type: String,
    /// Seconds until the token expires.
    expires_in: i64,
    /// The granted scope: `org:<organization id>:app`.
    scope: String,
}

/// `POST /oauth/introspect`'s answer (`roost_auth::grant::Introspection`; RFC 7662 §2.2). A
/// token that is not active, or not the client's own, is exactly `{"active": false}`.
#[derive(ToSchema)]
#[schema(as = TokenIntrospection)]
#[allow(dead_code, reason = "a schema only")]
pub struct IntrospectionSchema {
    /// Whether the token is usable.
    active: bool,
    /// The granted scope (active tokens only).
    #[schema(nullable = false)]
    scope: Option<String>,
    /// The client the token was issued to (active tokens only).
    #[schema(nullable = false)]
    client_id: Option<String>,
    /// `bearer` (active tokens only).
    #[schema(nullable = false)]
    token_type: Option<String>,
    /// Expiry, Unix seconds (active tokens only).
    #[schema(nullable = false)]
    exp: Option<i64>,
    /// Issue time, Unix seconds (active tokens only).
    #[schema(nullable = false)]
    iat: Option<i64>,
}

/// The OAuth endpoints' form parameters (`application/x-www-form-urlencoded` or
/// `multipart/form-data`). The client authenticates with HTTP Basic or with `client_id` and
/// `client_secret` here, not both.
#[derive(ToSchema)]
#[schema(as = OAuthForm)]
#[allow(dead_code, reason = "a schema only")]
pub struct OAuthFormSchema {
    /// `client_credentials` (token requests only).
    #[schema(nullable = false)]
    grant_type: Option<String>,
    /// The requested scope (token requests): `org:<id>:app` or ChatKitty's `read:*`-style scopes.
    #[schema(nullable = false)]
    scope: Option<String>,
    /// The token to revoke or introspect.
    #[schema(nullable = false)]
    token: Option<String>,
    /// A hint at the token's type (revocation and introspection; ignored).
    #[schema(nullable = false)]
    token_type_hint: Option<String>,
    /// The client id, when not sent with HTTP Basic.
    #[schema(nullable = false)]
    client_id: Option<String>,
    /// The client secret, when not sent with HTTP Basic.
    #[schema(nullable = false)]
    client_secret: Option<String>,
}

/// `Error`: every error body, the API's (`ApiError`) or the OAuth one (`AuthenticationError`,
/// for 401 and the OAuth endpoints).
pub struct ErrorSchema;

impl PartialSchema for ErrorSchema {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some(
                "An error: the API's (`ApiError`), or the OAuth 2.0 one (`AuthenticationError`) for 401 and the \
                 OAuth endpoints.",
            ))
            .item(schema_ref(ApiErrorBody::name()))
            .item(schema_ref(OAuthErrorBody::name()))
            .into()
    }
}

impl ToSchema for ErrorSchema {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Error")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ApiErrorBody::name().into(), ApiErrorBody::schema()));
        ApiErrorBody::schemas(schemas);
        schemas.push((OAuthErrorBody::name().into(), OAuthErrorBody::schema()));
        OAuthErrorBody::schemas(schemas);
    }
}

// ---- Parameters ------------------------------------------------------------------------------

/// `{user_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "a schema only")]
pub struct UserIdParam {
    /// The user's id.
    user_id: i64,
}

/// `{channel_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "a schema only")]
pub struct ChannelIdParam {
    /// The channel's id.
    channel_id: i64,
}

/// `{message_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "a schema only")]
pub struct MessageIdParam {
    /// The message's id.
    message_id: i64,
}

/// `{thread_id}`.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
#[allow(dead_code, reason = "a schema only")]
pub struct ThreadIdParam {
    /// The thread's id.
    thread_id: i64,
}

/// A numbered page: `page`, `size`, `sort`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "a schema only")]
pub struct PageParams {
    /// The 0-based page number (default 0).
    #[param(minimum = 0, nullable = false)]
    page: Option<i64>,
    /// Items per page, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100, nullable = false)]
    size: Option<i64>,
    /// `property,asc` or `property,desc`; repeat for more terms.
    #[param(nullable = false)]
    sort: Option<Vec<String>>,
}

/// A cursor page, newest first: `size`, `start`, `next`, `relation`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "a schema only")]
pub struct CursorParams {
    /// Items per page, 1 to 100 (default 25).
    #[param(minimum = 1, maximum = 100, nullable = false)]
    size: Option<i64>,
    /// The newest id of the page the link was made from.
    #[param(nullable = false)]
    start: Option<i64>,
    /// The oldest id of the page the link was made from.
    #[param(nullable = false)]
    next: Option<i64>,
    /// `SELF` (default), `NEXT` (older items, needs `next`) or `PREVIOUS` (newer ones, needs
    /// `start`); case-insensitive.
    #[param(nullable = false)]
    relation: Option<String>,
}

/// The `properties` filter.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "a schema only")]
pub struct UserFilterParams {
    /// Only the user with this username.
    #[param(nullable = false)]
    name: Option<String>,
    /// A JSON object; only users whose properties hold each of its top-level pairs.
    #[param(nullable = false)]
    properties: Option<String>,
}

/// The channel list's filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "a schema only")]
pub struct ChannelFilterParams {
    /// `PUBLIC`, `PRIVATE` or `DIRECT`.
    #[param(rename = "type", nullable = false)]
    channel_type: Option<String>,
    /// Usernames, comma-separated or repeated: only channels with all of them as members.
    #[param(nullable = false)]
    members: Option<Vec<String>>,
    /// Only channels created at or after this time.
    #[param(rename = "startTime", nullable = false)]
    start_time: Option<String>,
    /// Only channels created before this time.
    #[param(rename = "endTime", nullable = false)]
    end_time: Option<String>,
    /// A JSON object; only channels whose properties hold each of its top-level pairs.
    #[param(nullable = false)]
    properties: Option<String>,
}

/// The message lists' filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code, reason = "a schema only")]
pub struct MessageFilterParams {
    /// Only messages sent by this username.
    #[param(nullable = false)]
    username: Option<String>,
    /// Only messages whose body contains this text.
    #[param(nullable = false)]
    query: Option<String>,
}

// ---- What is the same for every operation ----------------------------------------------------

/// Snake_case (and other) spellings the request bodies accept besides their camelCase fields
/// (`#[serde(alias)]`): `(schema, alias, field)`. A unit test checks each body schema against
/// the names serde accepts.
const ALIASES: &[(&str, &str, &str)] = &[
    ("CreatePersonChatUserResource", "display_name", "displayName"),
    ("CreatePersonChatUserResource", "is_guest", "isGuest"),
    ("CreatePersonChatUserResource", "guest", "isGuest"),
    ("ApplicationSettingsUpdate", "guest_users", "guestUsers"),
    ("ApplicationSettingsUpdate", "user_created_channels", "userCreatedChannels"),
    ("CreateChannelResource", "display_name", "displayName"),
    ("CreateExternalFileProperties", "content_type", "contentType"),
    ("CreateMessageResource", "group_tag", "groupTag"),
];

/// The legacy application-scoped prefix (seed 001): `/v1/applications/{app_id}` serves what
/// `/v1/application` does, and `/v1/applications/{app_id}/users…` what `/v1/users…` does.
const LEGACY_PREFIX: &str = "/v1/applications/{app_id}";

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
        for (_, item) in openapi.paths.paths.iter_mut() {
            if let Some(read) = item.get.as_mut() {
                add_not_modified(read);
            }
            for operation in operations_mut(item) {
                finish_operation(operation);
            }
        }
        add_legacy_paths(&mut openapi.paths);
    }
}

fn add_alias(components: &mut utoipa::openapi::Components, schema: &str, alias: &str, field: &str) {
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
fn untagged_any_of(components: &mut utoipa::openapi::Components, schema: &str) {
    if let Some(RefOr::T(Schema::OneOf(one_of))) = components.schemas.get(schema) {
        let mut any_of = utoipa::openapi::schema::AnyOfBuilder::new().description(one_of.description.clone());
        for item in &one_of.items {
            any_of = any_of.item(item.clone());
        }
        components.schemas.insert(schema.to_owned(), any_of.into());
    }
}

/// Every operation of a path item.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
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
fn hal_media_type() -> &'static str {
    HAL_JSON_UTF8.split(';').next().unwrap_or(HAL_JSON_UTF8)
}

/// A `GET` whose answer is HAL has a strong `ETag` and answers `304` to a matching
/// `If-None-Match` (see `negotiate::Rendered`).
fn add_not_modified(read: &mut Operation) {
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
fn finish_operation(operation: &mut Operation) {
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

fn app_id_parameter() -> Parameter {
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
fn add_legacy_paths(paths: &mut utoipa::openapi::Paths) {
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
