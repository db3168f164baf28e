//! Schemas of what roost-hal serializes (roost-hal knows nothing of OpenAPI): resources, numbered
//! and cursor pages, and the aliases the annotations name.

use super::*;

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
    UserSessionRepr => "sessions",
    ChatSessionRepr => "sessions",
    WebhookRepr => "webhooks",
    DeliveryRepr => "deliveries",
    JobRepr => "jobs",
);

/// `roost_hal::Resource<T>`: `T`'s properties, then `_links`. Named after `T`'s schema, with
/// `Resource` for `Properties` (`ChatUserProperties` → `ChatUserResource`), as ChatKitty names
/// them.
pub struct HalResource<T>(PhantomData<T>);

pub(super) fn resource_name<T: ToSchema>() -> String {
    let name = T::name();
    format!("{}Resource", name.strip_suffix("Properties").unwrap_or(&name))
}

pub(super) fn schema_ref(name: impl Into<String>) -> RefOr<Schema> {
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
pub(super) fn hal_schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
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

pub(super) fn integer(description: &str) -> ObjectBuilder {
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

pub(super) fn page_schema<T: Embedded>(metadata: &str, description: &str) -> RefOr<Schema> {
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
            .property("next", cursor("The oldest id of the page, when older items exist."))
            .property("total", integer("Items in the whole list, all pages (the newer spec requires it)."))
            .required("total");
        schemas.push(("CursorPageMetadata".into(), metadata.into()));
        schemas.push((resource_name::<T>(), HalResource::<T>::schema()));
        HalResource::<T>::schemas(schemas);
    }
}

/// A session user's stream (`GET /v1/me/messages`): a cursor page, or with `page=N` a numbered
/// one whose metadata carries `total` too.
pub struct StreamPage;

impl PartialSchema for StreamPage {
    fn schema() -> RefOr<Schema> {
        page_schema::<MessageRepr>(
            "StreamPageMetadata",
            "A cursor page of messages, newest first; with `page=N`, a numbered page (its `page` has both kinds' fields).",
        )
    }
}

impl ToSchema for StreamPage {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("StreamPagedModelMessageResource")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        let cursor = |description| ObjectBuilder::new().schema_type(Type::String).description(Some(description));
        let metadata = ObjectBuilder::new()
            .property("size", integer("The requested page size."))
            .required("size")
            .property("total", integer("Messages in the whole stream, all pages."))
            .required("total")
            .property("start", cursor("A cursor page's newest id."))
            .property("next", cursor("A cursor page's oldest id, when older messages exist."))
            .property("totalElements", integer("A numbered page's: messages in the whole stream."))
            .property("totalPages", integer("A numbered page's: pages in the whole stream."))
            .property("number", integer("A numbered page's 0-based number."));
        schemas.push(("StreamPageMetadata".into(), metadata.into()));
        schemas.push((resource_name::<MessageRepr>(), HalResource::<MessageRepr>::schema()));
        HalResource::<MessageRepr>::schemas(schemas);
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
/// A numbered page of end users' sessions.
pub type UserSessionPage = NumberedPage<UserSessionRepr>;
/// A numbered page of chat sessions.
pub type ChatSessionPage = NumberedPage<ChatSessionRepr>;
/// A job as answered.
pub type JobResource = HalResource<JobRepr>;
/// A numbered page of jobs.
pub type JobPage = NumberedPage<JobRepr>;
/// A webhook as answered.
pub type WebhookResource = HalResource<WebhookRepr>;
/// A numbered page of webhooks.
pub type WebhookPage = NumberedPage<WebhookRepr>;
/// A webhook delivery as answered.
pub type DeliveryResource = HalResource<DeliveryRepr>;
/// A numbered page of webhook deliveries.
pub type DeliveryPage = NumberedPage<DeliveryRepr>;
/// A numbered page of invites.
pub type InvitePage = NumberedPage<InviteRepr>;
/// A numbered page of read receipts.
pub type ReceiptPage = NumberedPage<ReceiptRepr>;
/// A cursor page of messages.
pub type MessagePage = CursorPage<MessageRepr>;
/// The messages a bulk update changed, as one numbered page.
pub type MessageList = NumberedPage<MessageRepr>;
/// `PagedModelMessageReadReceiptSummaryResource`.
pub type SummaryPage = NumberedPage<SummaryRepr>;
/// `PagedModelReportedMessageResource`.
pub type ReportedMessagePage = NumberedPage<ReportedMessageRepr>;
