//! Chat users of an application: the user, its patch and filters, and the rules its fields obey.

use serde_json::Value;

use super::ids::{ApplicationId, UserId};
use super::page::SortField;
use super::properties::{patch_members, patch_properties, validate_properties};
use super::{Properties, Timestamp};
use crate::error::{DomainError, FieldError, FieldErrorCode};

/// Longest user name and display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// Longest secret name accepted.
pub const MAX_SECRET_NAME_CHARS: usize = 100;
/// Largest serialized secret value accepted, in bytes.
pub const MAX_SECRET_BYTES: usize = 16 * 1024;
/// Presence status of a user who never connected.
pub const DEFAULT_PRESENCE_STATUS: &str = "UNAVAILABLE";

const RESOURCE: &str = "user";

/// A person or a bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Presence {
    /// Connected right now (set by the real-time layer).
    pub online: bool,
    /// Status text, e.g. `AVAILABLE`, `UNAVAILABLE`, `BUSY`.
    pub status: String,
}

/// A chat user.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// Its display picture; `None`: the generated default.
    pub display_picture: Option<super::file::Picture>,
}

/// A user's named secret as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Secret {
    /// Any JSON value.
    pub value: Value,
    /// When it was last set (drives `Last-Modified`).
    pub updated_time: Timestamp,
}

/// A reference to a user in a request body: `{"id": …}` or `{"username": …}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserRef {
    /// By id.
    Id(UserId),
    /// By username.
    Name(String),
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
    /// Only users with unread messages (`unread=true`); the use case resolves it into `ids`.
    pub unread: bool,
    /// Only these users (the store's filter).
    pub ids: Option<Vec<UserId>>,
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
    if value.chars().any(super::is_invisible_or_bidi) {
        return Err(FieldError::new(
            RESOURCE,
            field,
            FieldErrorCode::Invalid,
            format!("{field} must not contain control, invisible or bidirectional-override characters"),
        ));
    }
    Ok(value.to_owned())
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

pub(crate) fn already_exists(name: &str) -> DomainError {
    DomainError::field(RESOURCE, "name", FieldErrorCode::AlreadyExists, format!("a user named '{name}' already exists"))
}

pub(crate) fn validate_secret_name(name: &str) -> Result<(), DomainError> {
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

/// Builds a new user from `POST /v1/users` input, every field validated (all problems reported
/// at once).
pub fn new_user(
    id: UserId,
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
    Ok(User {
        id,
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
        display_picture: None,
    })
}

impl User {
    /// Applies a patch: every field validated (all problems reported at once), then the version
    /// moves on. Nothing changes when a field is invalid.
    pub fn apply(&mut self, patch: &UserPatch, now: Timestamp) -> Result<(), DomainError> {
        let mut patched = self.clone();
        let mut errors = Vec::new();
        if let Some(display) = patch.display_name.as_deref() {
            match validate_name("displayName", display) {
                Ok(display) => patched.display_name = display,
                Err(e) => errors.push(e),
            }
        }
        if let Some(is_guest) = patch.is_guest {
            patched.is_guest = is_guest;
        }
        if let Some(status) = patch.presence_status.as_deref() {
            match validate_status(status) {
                Ok(status) => patched.presence.status = status,
                Err(e) => errors.push(e),
            }
        }
        if let Some(properties_patch) = &patch.properties {
            match patch_properties(RESOURCE, &patched.properties, properties_patch) {
                Ok(merged) => patched.properties = merged,
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(DomainError::Validation(errors));
        }
        patched.updated_time = now;
        patched.version += 1;
        *self = patched;
        Ok(())
    }
}

impl UserPatch {
    /// Splits an RFC 7396 merge patch of `ChatUserPropertiesPatch` (either casing) by field.
    /// Members that are read-only or unknown are refused rather than silently ignored.
    pub fn from_merge_patch(body: Value) -> Result<Self, DomainError> {
        let mut patch = Self::default();
        let mut errors = Vec::new();
        let invalid = |field: &str, message: &str| FieldError::new(RESOURCE, field, FieldErrorCode::Invalid, message);
        for (key, value) in patch_members(body, RESOURCE)? {
            match (key.as_str(), value) {
                ("displayName" | "display_name", Value::String(s)) => patch.display_name = Some(s),
                ("displayName" | "display_name", Value::Null) => errors.push(FieldError::new(
                    RESOURCE,
                    "displayName",
                    FieldErrorCode::MissingField,
                    "displayName cannot be removed",
                )),
                ("displayName" | "display_name", _) => {
                    errors.push(invalid("displayName", "displayName must be a string"))
                }
                ("isGuest" | "is_guest", Value::Bool(b)) => patch.is_guest = Some(b),
                ("isGuest" | "is_guest", _) => errors.push(invalid("isGuest", "isGuest must be true or false")),
                ("presence", Value::Object(presence)) => {
                    for (field, value) in presence {
                        match (field.as_str(), value) {
                            ("status", Value::String(s)) => patch.presence_status = Some(s),
                            ("status", _) => {
                                errors.push(invalid("presence.status", "presence.status must be a string"))
                            }
                            (other, _) => errors
                                .push(invalid(&format!("presence.{other}"), "this presence field cannot be changed")),
                        }
                    }
                }
                ("presence", _) => errors.push(invalid("presence", "presence must be an object")),
                ("properties", value @ (Value::Object(_) | Value::Null)) => patch.properties = Some(value),
                ("properties", _) => errors.push(invalid("properties", "properties must be a JSON object or null")),
                (other, _) => errors.push(invalid(other, "this field cannot be changed with PATCH")),
            }
        }
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(DomainError::Validation(errors))
        }
    }
}

/// Validates a secret's value: present and bounded.
pub(crate) fn validate_secret(secret: &Value) -> Result<(), DomainError> {
    if secret.is_null() {
        return Err(DomainError::field("secret", "secret", FieldErrorCode::MissingField, "secret is required"));
    }
    if serde_json::to_vec(secret).map(|v| v.len()).unwrap_or(usize::MAX) > MAX_SECRET_BYTES {
        return Err(DomainError::field(
            "secret",
            "secret",
            FieldErrorCode::Invalid,
            format!("secret must serialize to at most {MAX_SECRET_BYTES} bytes"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn props(v: Value) -> Properties {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn names_are_validated() {
        assert!(validate_name("name", "jane").is_ok());
        assert_eq!(validate_name("name", "  ").unwrap_err().code, FieldErrorCode::MissingField);
        assert_eq!(validate_name("name", &"x".repeat(256)).unwrap_err().code, FieldErrorCode::Invalid);
        assert_eq!(validate_name("name", "a\nb").unwrap_err().code, FieldErrorCode::Invalid);
    }

    #[test]
    fn names_refuse_characters_that_let_one_pass_for_another() {
        for name in ["ja\u{200B}ne", "\u{202E}enaj", "jane\u{2066}", "ja\u{FEFF}ne", "a\u{0}b"] {
            assert_eq!(validate_name("name", name).unwrap_err().code, FieldErrorCode::Invalid, "{name:?}");
        }
        for name in ["jane", "José", "李雷", "مريم", "jane doe"] {
            assert!(validate_name("name", name).is_ok(), "{name:?}");
        }
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
            display_picture: None,
        };
        let filter = |v: Value| UserFilter { name: None, properties: Some(props(v)), ..UserFilter::default() };
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

    #[test]
    fn patches_split_by_field() {
        let patch = UserPatch::from_merge_patch(
            json!({"displayName": "J", "presence": {"status": "BUSY"}, "properties": {"a": null}}),
        )
        .unwrap();
        assert_eq!(patch.display_name.as_deref(), Some("J"));
        assert_eq!(patch.presence_status.as_deref(), Some("BUSY"));
        assert_eq!(patch.properties, Some(json!({"a": null})));
        assert_eq!(UserPatch::from_merge_patch(json!({"properties": null})).unwrap().properties, Some(Value::Null));
    }

    #[test]
    fn read_only_and_null_required_fields_are_refused() {
        for body in [json!({"name": "x"}), json!({"displayName": null}), json!({"isGuest": "yes"}), json!([1])] {
            assert!(UserPatch::from_merge_patch(body.clone()).is_err(), "{body}");
        }
    }

    #[test]
    fn an_invalid_patch_changes_nothing() {
        let mut user = new_user(
            UserId(1),
            ApplicationId(1),
            NewUser { name: Some("a".into()), ..NewUser::default() },
            chrono::Utc::now(),
        )
        .unwrap();
        let before = user.clone();
        let patch =
            UserPatch { display_name: Some("B".into()), presence_status: Some(" ".into()), ..UserPatch::default() };
        assert!(user.apply(&patch, chrono::Utc::now()).is_err());
        assert_eq!(user, before);
    }
}
