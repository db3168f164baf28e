//! Schemas of bodies no representation type describes (counts, the test resource's echo, the
//! OAuth endpoints, errors) and the operations' parameters.

use super::*;

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
    /// The casing answers get (`camel` or `snake`), from `_case`, `X-Options` or `Accept`.
    casing: String,
    /// `fields` as read: `{keep: [paths], drop: [paths]}` (camelCase, dotted), or `null`.
    #[schema(value_type = Option<Object>)]
    fields: Option<serde_json::Value>,
    /// Whether blank fields are rendered as `null` (`_empty`, `X-Options: empty`).
    empty: bool,
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
