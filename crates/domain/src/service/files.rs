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

    /// Sets a user's display picture (`POST /v1/users/{id}/display-picture`): the user. A hosted
    /// picture it replaces is marked removed.
    pub fn set_display_picture(
        &self,
        principal: &Principal,
        id: UserId,
        picture: NewPicture,
    ) -> Result<User, DomainError> {
        let application_id = self.own_records(principal, id)?;
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

    /// Keys of files whose bytes are to be removed (their message, user or picture is gone),
    /// oldest first, at most `limit`. For the file cleanup, which needs no principal.
    pub fn removed_files(&self, limit: u32) -> Result<Vec<String>, DomainError> {
        Ok(self.ports.files.removed_files(limit)?)
    }

    /// Forgets the files `keys` once their bytes are gone: how many rows went.
    pub fn forget_files(&self, keys: &[String]) -> Result<u64, DomainError> {
        Ok(self.ports.files.forget_files(keys)?)
    }

    /// Marks removed every file that no message and no user refers to (`roost files sweep`).
    pub fn mark_unreferenced_files(&self) -> Result<u64, DomainError> {
        Ok(self.ports.files.mark_unreferenced_files()?)
    }

    /// Which of `keys` (found in the file store) have a record.
    pub fn recorded_files(&self, keys: &[String]) -> Result<Vec<String>, DomainError> {
        Ok(self.ports.files.recorded_files(keys)?)
    }

    /// Live files in key order after `after`, at most `limit` (the sweep's walk over records).
    pub fn files_after(&self, after: Option<&str>, limit: u32) -> Result<Vec<StoredFile>, DomainError> {
        Ok(self.ports.files.files_after(after, limit)?)
    }
}
