//! Chat users of an application and their use cases.

use serde_json::Value;

use crate::error::{DomainError, FieldError, FieldErrorCode, StoreError};
use crate::ids::{ApplicationId, IdGenerator, UserId};
use crate::page::{Page, PageRequest, SortField};
use crate::store::UserStore;
use crate::{Properties, Timestamp};

/// Longest user name and display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Largest serialized `properties` object accepted, in bytes.
pub const MAX_PROPERTIES_BYTES: usize = 64 * 1024;
/// Longest secret name accepted.
pub const MAX_SECRET_NAME_CHARS: usize = 100;
/// Largest serialized secret value accepted, in bytes.
pub const MAX_SECRET_BYTES: usize = 16 * 1024;
/// Presence status of a user who never connected.
pub const DEFAULT_PRESENCE_STATUS: &str = "UNAVAILABLE";

const RESOURCE: &str = "user";

/// A person or a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserType {
    /// A human user.
    Person,
    /// An automated user.
    Bot,
}

impl UserType {
    /// Wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Person => "PERSON",
            Self::Bot => "BOT",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "PERSON" => Some(Self::Person),
            "BOT" => Some(Self::Bot),
            _ => None,
        }
    }
}

/// Online state and free-form status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    /// Connected right now (set by the real-time layer).
    pub online: bool,
    /// Status text, e.g. `AVAILABLE`, `UNAVAILABLE`, `BUSY`.
    pub status: String,
}

/// A chat user.
#[derive(Debug, Clone, PartialEq)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// The tenant.
    pub application_id: ApplicationId,
    /// The unique username.
    pub name: String,
    /// The name shown to others.
    pub display_name: String,
    /// Person or bot.
    pub user_type: UserType,
    /// A guest needs no authentication to start a session.
    pub is_guest: bool,
    /// Presence.
    pub presence: Presence,
    /// Custom data.
    pub properties: Properties,
    /// Creation time.
    pub created_time: Timestamp,
    /// Last change time (drives `Last-Modified`).
    pub updated_time: Timestamp,
    /// Incremented on every change (drives the `ETag`).
    pub version: i64,
}

/// Input of `POST /v1/users`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewUser {
    /// Username (required).
    pub name: Option<String>,
    /// Display name; defaults to the username.
    pub display_name: Option<String>,
    /// Guest flag; defaults to `false`.
    pub is_guest: Option<bool>,
    /// Custom data; defaults to `{}`.
    pub properties: Option<Properties>,
}

/// A JSON merge patch (RFC 7396) of a user, already split by field. `None` leaves a field alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPatch {
    /// New display name.
    pub display_name: Option<String>,
    /// New guest flag.
    pub is_guest: Option<bool>,
    /// New presence status.
    pub presence_status: Option<String>,
    /// Merge patch applied to `properties` (RFC 7396: `null` removes a key).
    pub properties: Option<Value>,
}

/// Filters of `GET /v1/users`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserFilter {
    /// Exact username.
    pub name: Option<String>,
    /// Users whose properties contain every top-level key/value of this object.
    pub properties: Option<Properties>,
}

/// Sortable user properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserSort {
    /// By id (creation order).
    Id,
    /// By username.
    Name,
    /// By display name.
    DisplayName,
    /// By creation time.
    CreatedTime,
}

impl SortField for UserSort {
    const FIELDS: &'static [(&'static str, Self)] = &[
        ("id", Self::Id),
        ("name", Self::Name),
        ("displayName", Self::DisplayName),
        ("createdTime", Self::CreatedTime),
    ];
}

impl UserFilter {
    /// Whether `user` passes the properties filter (the name filter is applied by the store).
    pub fn matches_properties(&self, user: &User) -> bool {
        self.properties
            .as_ref()
            .is_none_or(|wanted| wanted.iter().all(|(key, value)| user.properties.get(key) == Some(value)))
    }
}

fn validate_name(field: &str, value: &str) -> Result<String, FieldError> {
    if value.trim().is_empty() {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::MissingField,
            format!("{field} must not be blank"),
        ));
    }
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::Invalid,
            format!("{field} must be at most {MAX_NAME_CHARS} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::Invalid,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(value.to_owned())
}

/// Validates a `properties` object's size.
pub fn validate_properties(resource: &'static str, properties: &Properties) -> Result<(), FieldError> {
    let size = serde_json::to_vec(properties).map(|v| v.len()).unwrap_or(usize::MAX);
    if size > MAX_PROPERTIES_BYTES {
        return Err(FieldError::new(
            resource,
            "properties",
            FieldErrorCode::Invalid,
            format!("properties must serialize to at most {MAX_PROPERTIES_BYTES} bytes"),
        ));
    }
    Ok(())
}

fn validate_status(value: &str) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().count() > 64 || trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(
            RESOURCE,
            "presence.status",
            FieldErrorCode::Invalid,
            "presence.status must be 1 to 64 characters without control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

fn already_exists(name: &str) -> DomainError {
    DomainError::field(RESOURCE, "name", FieldErrorCode::AlreadyExists, format!("a user named '{name}' already exists"))
}

/// Creates a user (`POST /v1/users`).
pub fn create_user(
    store: &dyn UserStore,
    ids: &IdGenerator,
    application_id: ApplicationId,
    input: NewUser,
    now: Timestamp,
) -> Result<User, DomainError> {
    let mut errors = Vec::new();
    let name = match input.name.as_deref() {
        None => {
            errors.push(FieldError::new(RESOURCE, "name", FieldErrorCode::MissingField, "name is required"));
            None
        }
        Some(name) => validate_name("name", name).map_err(|e| errors.push(e)).ok(),
    };
    let display_name = match input.display_name.as_deref() {
        None => name.clone(),
        Some(display) => validate_name("displayName", display).map_err(|e| errors.push(e)).ok(),
    };
    let properties = input.properties.unwrap_or_default();
    if let Err(e) = validate_properties(RESOURCE, &properties) {
        errors.push(e);
    }
    let (Some(name), Some(display_name), true) = (name, display_name, errors.is_empty()) else {
        return Err(DomainError::Validation(errors));
    };
    if store.find_user_by_name(application_id, &name)?.is_some() {
        return Err(already_exists(&name));
    }
    let user = User {
        id: UserId(ids.next_id()),
        application_id,
        name,
        display_name,
        user_type: UserType::Person,
        is_guest: input.is_guest.unwrap_or(false),
        presence: Presence { online: false, status: DEFAULT_PRESENCE_STATUS.to_owned() },
        properties,
        created_time: now,
        updated_time: now,
        version: 1,
    };
    match store.insert_user(&user) {
        Ok(()) => Ok(user),
        // Another request took the name between the check and the insert.
        Err(StoreError::Conflict(_)) => Err(already_exists(&user.name)),
        Err(e) => Err(e.into()),
    }
}

/// Reads one user of the application.
pub fn get_user(store: &dyn UserStore, application_id: ApplicationId, id: UserId) -> Result<User, DomainError> {
    store.find_user(application_id, id)?.ok_or(DomainError::NotFound(RESOURCE))
}

/// Whether a username exists (`HEAD /v1/users?name=`).
pub fn find_user_by_name(
    store: &dyn UserStore,
    application_id: ApplicationId,
    name: &str,
) -> Result<User, DomainError> {
    store.find_user_by_name(application_id, name)?.ok_or(DomainError::NotFound(RESOURCE))
}

/// Lists users (`GET /v1/users`).
pub fn list_users(
    store: &dyn UserStore,
    application_id: ApplicationId,
    filter: &UserFilter,
    page: &PageRequest<UserSort>,
) -> Result<Page<User>, DomainError> {
    Ok(store.list_users(application_id, filter, page)?)
}

/// Applies a merge patch to a user (`PATCH /v1/users/{id}`).
pub fn patch_user(
    store: &dyn UserStore,
    application_id: ApplicationId,
    id: UserId,
    patch: UserPatch,
    now: Timestamp,
) -> Result<User, DomainError> {
    let mut user = get_user(store, application_id, id)?;
    let mut errors = Vec::new();
    if let Some(display) = patch.display_name.as_deref() {
        match validate_name("displayName", display) {
            Ok(display) => user.display_name = display,
            Err(e) => errors.push(e),
        }
    }
    if let Some(is_guest) = patch.is_guest {
        user.is_guest = is_guest;
    }
    if let Some(status) = patch.presence_status.as_deref() {
        match validate_status(status) {
            Ok(status) => user.presence.status = status,
            Err(e) => errors.push(e),
        }
    }
    if let Some(properties_patch) = &patch.properties {
        match merge_properties(&user.properties, properties_patch) {
            Ok(merged) => match validate_properties(RESOURCE, &merged) {
                Ok(()) => user.properties = merged,
                Err(e) => errors.push(e),
            },
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(DomainError::Validation(errors));
    }
    user.updated_time = now;
    user.version += 1;
    store.update_user(&user)?;
    Ok(user)
}

/// Applies an RFC 7396 merge patch to a properties object. `null` removes every property (the
/// member itself is required, so it becomes `{}`); any other non-object patch is refused, since
/// it would replace the object with a scalar.
pub fn merge_properties(current: &Properties, patch: &Value) -> Result<Properties, FieldError> {
    if patch.is_null() {
        return Ok(Properties::new());
    }
    if !patch.is_object() {
        return Err(FieldError::new(
            RESOURCE,
            "properties",
            FieldErrorCode::Invalid,
            "properties must be a JSON object",
        ));
    }
    let mut merged = Value::Object(current.clone());
    json_patch::merge(&mut merged, patch);
    match merged {
        Value::Object(map) => Ok(map),
        _ => Err(FieldError::new(RESOURCE, "properties", FieldErrorCode::Invalid, "properties must be a JSON object")),
    }
}

/// Deletes a user and its secrets (`DELETE /v1/users/{id}`).
pub fn delete_user(store: &dyn UserStore, application_id: ApplicationId, id: UserId) -> Result<(), DomainError> {
    if store.delete_user(application_id, id)? {
        Ok(())
    } else {
        Err(DomainError::NotFound(RESOURCE))
    }
}

fn validate_secret_name(name: &str) -> Result<(), DomainError> {
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_SECRET_NAME_CHARS
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::field(
            "secret",
            "name",
            FieldErrorCode::Invalid,
            format!("secret names are 1 to {MAX_SECRET_NAME_CHARS} characters of A-Z, a-z, 0-9, '-', '_' and '.'"),
        ))
    }
}

/// Reads a user's named secret.
pub fn get_secret(
    store: &dyn UserStore,
    application_id: ApplicationId,
    id: UserId,
    name: &str,
) -> Result<Value, DomainError> {
    validate_secret_name(name)?;
    get_user(store, application_id, id)?;
    store.get_secret(application_id, id, name)?.ok_or(DomainError::NotFound("secret"))
}

/// Sets a user's named secret; returns the user.
pub fn put_secret(
    store: &dyn UserStore,
    application_id: ApplicationId,
    id: UserId,
    name: &str,
    secret: Value,
    now: Timestamp,
) -> Result<User, DomainError> {
    validate_secret_name(name)?;
    if secret.is_null() {
        return Err(DomainError::field("secret", "secret", FieldErrorCode::MissingField, "secret is required"));
    }
    if serde_json::to_vec(&secret).map(|v| v.len()).unwrap_or(usize::MAX) > MAX_SECRET_BYTES {
        return Err(DomainError::field(
            "secret",
            "secret",
            FieldErrorCode::Invalid,
            format!("secret must serialize to at most {MAX_SECRET_BYTES} bytes"),
        ));
    }
    let user = get_user(store, application_id, id)?;
    store.put_secret(application_id, id, name, &secret, now)?;
    Ok(user)
}

/// Removes a user's named secret; returns the user.
pub fn delete_secret(
    store: &dyn UserStore,
    application_id: ApplicationId,
    id: UserId,
    name: &str,
) -> Result<User, DomainError> {
    validate_secret_name(name)?;
    let user = get_user(store, application_id, id)?;
    if store.delete_secret(application_id, id, name)? {
        Ok(user)
    } else {
        Err(DomainError::NotFound("secret"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Properties {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn merge_patch_null_removes_and_nested_objects_merge() {
        let current = props(json!({"a": 1, "b": {"x": 1, "y": 2}, "c": true}));
        let merged = merge_properties(&current, &json!({"a": null, "b": {"y": null, "z": 3}, "d": "new"})).unwrap();
        assert_eq!(Value::Object(merged), json!({"b": {"x": 1, "z": 3}, "c": true, "d": "new"}));
    }

    #[test]
    fn properties_patch_must_be_an_object() {
        let err = merge_properties(&Properties::new(), &json!([1])).unwrap_err();
        assert_eq!(err.code, FieldErrorCode::Invalid);
        assert!(merge_properties(&props(json!({"a": 1})), &Value::Null).unwrap().is_empty());
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_name("name", "jane").is_ok());
        assert_eq!(validate_name("name", "  ").unwrap_err().code, FieldErrorCode::MissingField);
        assert_eq!(validate_name("name", &"x".repeat(256)).unwrap_err().code, FieldErrorCode::Invalid);
        assert_eq!(validate_name("name", "a\nb").unwrap_err().code, FieldErrorCode::Invalid);
    }

    #[test]
    fn properties_filter_matches_top_level_pairs() {
        let user = User {
            id: UserId(1),
            application_id: ApplicationId(1),
            name: "a".into(),
            display_name: "a".into(),
            user_type: UserType::Person,
            is_guest: false,
            presence: Presence { online: false, status: DEFAULT_PRESENCE_STATUS.into() },
            properties: props(json!({"team": "red", "level": 3})),
            created_time: chrono::Utc::now(),
            updated_time: chrono::Utc::now(),
            version: 1,
        };
        let filter = |v: Value| UserFilter { name: None, properties: Some(props(v)) };
        assert!(filter(json!({"team": "red"})).matches_properties(&user));
        assert!(!filter(json!({"team": "blue"})).matches_properties(&user));
        assert!(UserFilter::default().matches_properties(&user));
    }

    #[test]
    fn secret_names_are_restricted() {
        assert!(validate_secret_name("api-key_1.v2").is_ok());
        assert!(validate_secret_name("../etc").is_err());
        assert!(validate_secret_name("").is_err());
    }
}
