//! Hosted files and display pictures.

use super::Service;
use crate::error::{DomainError, FieldErrorCode};
use crate::model::file::{Picture, StoredFile};
use crate::model::ids::UserId;
use crate::model::now;
use crate::model::principal::Principal;
use crate::model::user::User;

/// Longest external picture URL accepted.
const MAX_URL_LENGTH: usize = 2048;

/// A new display picture.
#[derive(Debug, Clone)]
pub enum NewPicture {
    /// Bytes uploaded to the file store (not yet recorded).
    Hosted(StoredFile),
    /// A picture hosted elsewhere (`CreateExternalFileProperties`).
    External {
        /// Where it is: an absolute `http` or `https` URL.
        url: String,
    },
}

impl Service {
    /// A hosted file by its key, for a download: no principal, the key is the secret.
    pub fn public_file(&self, key: &str) -> Result<StoredFile, DomainError> {
        self.ports.files.find_file(key)?.ok_or(DomainError::NotFound("file"))
    }

    /// Sets a user's display picture (`POST /v1/users/{id}/display-picture`): the user, and the
    /// key of the hosted picture it replaced, whose bytes the caller removes.
    pub fn set_display_picture(
        &self,
        principal: &Principal,
        id: UserId,
        picture: NewPicture,
    ) -> Result<(User, Option<String>), DomainError> {
        let application_id = principal.manage()?;
        let (picture, file) = match picture {
            NewPicture::Hosted(file) if file.application_id == application_id => {
                (Picture::Hosted(file.key.clone()), Some(file))
            }
            NewPicture::Hosted(_) => {
                return Err(DomainError::Forbidden("the file belongs to another application".into()))
            }
            NewPicture::External { url } => {
                let absolute = url.starts_with("https://") || url.starts_with("http://");
                if !absolute || url.len() > MAX_URL_LENGTH || url.chars().any(char::is_whitespace) {
                    return Err(DomainError::field(
                        "file",
                        "url",
                        FieldErrorCode::Invalid,
                        format!("an absolute http(s) URL of at most {MAX_URL_LENGTH} characters"),
                    ));
                }
                (Picture::External(url), None)
            }
        };
        self.ports
            .files
            .set_display_picture(application_id, id, &picture, file.as_ref(), now())?
            .ok_or(DomainError::NotFound("user"))
    }
}
