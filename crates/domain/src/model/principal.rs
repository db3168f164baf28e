//! Who acts: the principal a use case runs for (DESIGN.md, "Principals").
//!
//! The auth layer turns a bearer token into a principal; every use case of
//! [`crate::service::Service`] takes one and decides there, not in the HTTP adapter, what it may
//! do. Today the only principal is an application's back end (a client-credentials token:
//! the Platform API, full access to one application); end users acting for themselves join
//! with the accounts issue, each use case then stating what a user may do.

use super::ids::{ApplicationId, OrganizationId};
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
}

impl Principal {
    /// The tenant every record this principal reads or writes belongs to (DESIGN.md,
    /// "Tenancy"): an id of another application is answered as one that does not exist.
    pub fn application_id(&self) -> ApplicationId {
        match self {
            Self::Application { application_id, .. } => *application_id,
        }
    }

    /// The rule of the Platform API's use cases (managing users, channels, messages and the
    /// application itself): only an application's back end may; returns the application it
    /// acts on.
    pub fn manage(&self) -> Result<ApplicationId, DomainError> {
        match self {
            Self::Application { application_id, .. } => Ok(*application_id),
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
    }
}
