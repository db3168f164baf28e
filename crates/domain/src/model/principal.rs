//! Who acts: the principal a use case runs for (DESIGN.md, "Principals").
//!
//! The auth layer turns a bearer token into a principal; every use case of
//! [`crate::service::Service`] takes one and decides there, not in the HTTP adapter, what it may
//! do. Two kinds: an application's back end (a client-credentials token: the Platform API, full
//! access to one application), and an end user acting for themselves (a session token from
//! `POST /v1/sessions`). A use case that does not say what a user may do refuses users.

use super::ids::{ApplicationId, OrganizationId, UserId};
use crate::error::DomainError;

/// Who a request acts for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Principal {
    /// An application's back end, holding a token of the client-credentials grant
    /// (RFC 6749 §4.4): it manages every user, channel and message of its application.
    Application {
        /// The application the token grants access to.
        application_id: ApplicationId,
        /// Its organization (the token's scope, `org:<id>:app`).
        organization_id: OrganizationId,
        /// The OAuth client the token was issued to.
        client_id: String,
    },
    /// An end user, holding the token of a session they logged in for.
    User {
        /// The user's application.
        application_id: ApplicationId,
        /// The user.
        user_id: UserId,
        /// The session (`GET /v1/user-sessions`).
        session_id: i64,
    },
}

impl Principal {
    /// The tenant every record this principal reads or writes belongs to (DESIGN.md,
    /// "Tenancy"): an id of another application is answered as one that does not exist.
    pub fn application_id(&self) -> ApplicationId {
        match self {
            Self::Application { application_id, .. } | Self::User { application_id, .. } => *application_id,
        }
    }

    /// The user a user session acts as; `None` for an application.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Self::Application { .. } => None,
            Self::User { user_id, .. } => Some(*user_id),
        }
    }

    /// The rule of the Platform API's use cases (managing users, channels, messages and the
    /// application itself): only an application's back end may; returns the application it
    /// acts on.
    pub fn manage(&self) -> Result<ApplicationId, DomainError> {
        match self {
            Self::Application { application_id, .. } => Ok(*application_id),
            Self::User { .. } => {
                Err(DomainError::Forbidden("this needs the application's token: a user session may not do it".into()))
            }
        }
    }

    /// The rule of a user's own account (`/v1/me`, logging out): only a user session; returns
    /// the application and the user.
    pub fn own_account(&self) -> Result<(ApplicationId, UserId, i64), DomainError> {
        match self {
            Self::User { application_id, user_id, session_id } => Ok((*application_id, *user_id, *session_id)),
            Self::Application { .. } => {
                Err(DomainError::Forbidden("this needs a user's session token, not an application's".into()))
            }
        }
    }

    /// The rule of reads anyone of the application may make (the application itself, its
    /// settings): returns the application.
    pub fn read_application(&self) -> Result<ApplicationId, DomainError> {
        Ok(self.application_id())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_application_principal_manages_its_own_application() {
        let principal = Principal::Application {
            application_id: ApplicationId(7),
            organization_id: OrganizationId(1),
            client_id: "c".into(),
        };
        assert_eq!(principal.manage().unwrap(), ApplicationId(7));
        assert_eq!(principal.read_application().unwrap(), ApplicationId(7));
        assert_eq!(principal.application_id(), ApplicationId(7));
        assert!(principal.own_account().is_err());
    }

    #[test]
    fn a_user_acts_for_itself_only() {
        let principal = Principal::User { application_id: ApplicationId(7), user_id: UserId(3), session_id: 9 };
        assert!(matches!(principal.manage(), Err(DomainError::Forbidden(_))));
        assert_eq!(principal.own_account().unwrap(), (ApplicationId(7), UserId(3), 9));
        assert_eq!(principal.user_id(), Some(UserId(3)));
        assert_eq!(principal.application_id(), ApplicationId(7));
    }
}
