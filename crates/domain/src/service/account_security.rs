//! What keeps an end user's account theirs: password change and reset, email change confirmed
//! by the new address, lockout after failed logins, and the delivery of the mail all of these
//! send. The calls that hash a password take the hasher: their callers run them on the bounded
//! hashing threads.

use serde_json::Value;

use super::accounts::{IssuedSecret, OwnAccount};
use super::Service;
use crate::error::{DomainError, FieldErrorCode, StoreError};
use crate::model::account::{
    check_email, check_password, email_change_mail, email_change_notice, reset_mail, AccountRules, AccountToken, Mail,
    MailOutcome, Session, TokenPurpose, ACTIVATION_HOURS, MAIL_RETENTION_DAYS, RESET_MAILS_PER_HOUR, RESOURCE,
};
use crate::model::ids::{ApplicationId, UserId};
use crate::model::now;
use crate::model::principal::Principal;
use crate::model::user::{User, UserPatch};
use crate::ports::PasswordHasher;

/// What a change of password needs besides the passwords.
#[derive(Clone, Copy)]
pub struct PasswordChange<'a> {
    /// The password hasher.
    pub hasher: &'a dyn PasswordHasher,
    /// The rules the new password obeys.
    pub rules: AccountRules,
    /// The new session's token (the old ones end).
    pub session: &'a IssuedSecret,
    /// The new session's lifetime.
    pub lifetime: chrono::Duration,
    /// The client's `User-Agent`.
    pub user_agent: Option<&'a str>,
}

/// A changed or reset password: the user, the session that goes on (after a change), and the
/// token hashes of the sessions that ended (for the callers' caches of valid tokens).
#[derive(Debug)]
pub struct PasswordChanged {
    /// The user.
    pub user: User,
    /// After `PUT /v1/me/password`: the new session.
    pub session: Option<Session>,
    /// The sessions that ended.
    pub ended: Vec<String>,
}

/// A mail token to issue, with where links in the mail point.
#[derive(Clone, Copy)]
pub struct MailToken<'a> {
    /// The token (its secret goes into the mail only).
    pub token: &'a IssuedSecret,
    /// The server's public URL, for links.
    pub public_url: Option<&'a str>,
}

impl Service {
    /// A login's password check, with the lockout around it: a locked account is refused
    /// whatever the password, a wrong password counts towards the lockout, a right one forgets
    /// the failures.
    pub(super) fn check_login_password(
        &self,
        hasher: &dyn PasswordHasher,
        rules: AccountRules,
        user: &User,
        secret: &crate::model::account::AccountSecret,
        password: &str,
        hash: &str,
    ) -> Result<(), DomainError> {
        let started = now();
        if let Some(retry_after_secs) = secret.locked_for(started) {
            return Err(locked(retry_after_secs));
        }
        if !hasher.verify_password(password, hash) {
            let lock_until = started + chrono::Duration::seconds(rules.lockout_seconds);
            self.ports.accounts.record_login_failure(
                user.application_id,
                user.id,
                rules.lockout_failures.max(1),
                lock_until,
            )?;
            return Err(DomainError::InvalidCredentials);
        }
        if secret.failed_logins > 0 || secret.locked_until.is_some() {
            self.ports.accounts.clear_login_failures(user.application_id, user.id)?;
        }
        Ok(())
    }

    /// `roost users unlock APP_ID USERNAME`: lifts a lockout before it runs out.
    pub fn unlock_account(&self, application_id: ApplicationId, username: &str) -> Result<(), DomainError> {
        if self.ports.accounts.unlock_account(application_id, username)? {
            Ok(())
        } else {
            Err(DomainError::NotFound("user"))
        }
    }

    /// `PUT /v1/me/password`: checks the old password, sets the new one, ends every session of
    /// the user and starts a new one for the caller.
    pub fn change_password(
        &self,
        principal: &Principal,
        old_password: &str,
        new_password: &str,
        change: PasswordChange<'_>,
    ) -> Result<PasswordChanged, DomainError> {
        let (application_id, user_id, _) = principal.own_account()?;
        let user = self.user(application_id, user_id)?;
        let secret = self.ports.accounts.account_of(application_id, user_id)?.ok_or(DomainError::NotFound("user"))?;
        let Some(hash) = secret.password_hash.as_deref() else {
            return Err(DomainError::Forbidden(
                "this user has no password to change (a guest, or made by the application)".into(),
            ));
        };
        // A stolen session guessing the password meets the lockout, as a login would.
        let started = now();
        if let Some(retry_after_secs) = secret.locked_for(started) {
            return Err(locked(retry_after_secs));
        }
        if !change.hasher.verify_password(old_password, hash) {
            let lock_until = started + chrono::Duration::seconds(change.rules.lockout_seconds);
            self.ports.accounts.record_login_failure(
                application_id,
                user_id,
                change.rules.lockout_failures.max(1),
                lock_until,
            )?;
            return Err(DomainError::field(
                RESOURCE,
                "oldPassword",
                FieldErrorCode::Invalid,
                "the current password is not right",
            ));
        }
        check_password(new_password, &user.name, secret.email.as_deref().unwrap_or_default(), change.rules)
            .map_err(|e| rename_field(e, "newPassword"))?;
        let password_hash = change.hasher.hash_password(new_password).map_err(|e| StoreError::Other(e.into()))?;
        let session = self.new_session(application_id, user_id, change.session, change.lifetime, change.user_agent);
        let ended = self.ports.accounts.change_password(application_id, user_id, &password_hash, &session, now())?;
        Ok(PasswordChanged { user, session: Some(session), ended })
    }

    /// `POST /v1/accounts/password-reset`, first half: the application of a public key, and
    /// the address checked for form. What follows ([`Self::send_password_reset`]) runs after
    /// the answer, so the answer takes the same time whether the address is known or not.
    pub fn password_reset_target(&self, key: &str, email: &str) -> Result<ApplicationId, DomainError> {
        let application = self.application_by_key(key)?;
        check_email(email)?;
        Ok(application.id)
    }

    /// `POST /v1/accounts/password-reset`, second half: mails a single-use reset token to the
    /// account of `email`, when there is one with a password and it had fewer than
    /// [`RESET_MAILS_PER_HOUR`] this past hour. Nothing tells the caller which happened.
    pub fn send_password_reset(
        &self,
        application_id: ApplicationId,
        email: &str,
        rules: AccountRules,
        mail: MailToken<'_>,
    ) -> Result<bool, DomainError> {
        let Some((user, secret)) = self.ports.accounts.find_account_by_email(application_id, &email.to_lowercase())?
        else {
            return Ok(false);
        };
        let (Some(address), Some(_)) = (secret.email, secret.password_hash) else { return Ok(false) };
        let issued = now();
        let hour_ago = issued - chrono::Duration::hours(1);
        let lifetime = chrono::Duration::seconds(rules.reset_seconds);
        let token = AccountToken {
            token_hash: mail.token.hash.clone(),
            application_id,
            user_id: user.id,
            purpose: TokenPurpose::ResetPassword,
            new_email: None,
            created_time: issued,
            expires_time: issued + lifetime,
        };
        let (subject, body) = reset_mail(&user.name, &mail.token.secret, lifetime.num_minutes(), mail.public_url);
        let mail = [self.mail(application_id, address, subject, body)];
        Ok(self.ports.accounts.issue_token(&token, &mail, Some((RESET_MAILS_PER_HOUR, hour_ago)))?)
    }

    /// `POST /v1/accounts/password-reset/{token}`: sets a new password with a mailed token,
    /// once; every session of the user ends.
    pub fn reset_password(
        &self,
        hasher: &dyn PasswordHasher,
        rules: AccountRules,
        token_hash: &str,
        new_password: &str,
    ) -> Result<PasswordChanged, DomainError> {
        let invalid =
            || DomainError::field(RESOURCE, "token", FieldErrorCode::Invalid, "the token is unknown, used or expired");
        let (user, secret) =
            self.ports.accounts.find_token(token_hash, TokenPurpose::ResetPassword, now())?.ok_or_else(invalid)?;
        check_password(new_password, &user.name, secret.email.as_deref().unwrap_or_default(), rules)
            .map_err(|e| rename_field(e, "newPassword"))?;
        let password_hash = hasher.hash_password(new_password).map_err(|e| StoreError::Other(e.into()))?;
        let (user, ended) =
            self.ports.accounts.reset_password(token_hash, &password_hash, now())?.ok_or_else(invalid)?;
        Ok(PasswordChanged { user, session: None, ended })
    }

    /// `PATCH /v1/me`: an RFC 7396 merge patch of the user's own `displayName`,
    /// `presenceStatus` and `properties`, applied at once; an `email` takes effect once the
    /// token mailed to the new address is used (`POST /v1/accounts/activate`), and the old
    /// address is told.
    pub fn patch_own_account(
        &self,
        principal: &Principal,
        merge_patch: Value,
        mail: MailToken<'_>,
    ) -> Result<OwnAccount, DomainError> {
        let (application_id, user_id, _) = principal.own_account()?;
        let Value::Object(mut fields) = merge_patch else {
            return Err(DomainError::InvalidArgument("a merge patch of an account is a JSON object".into()));
        };
        if ["isGuest", "is_guest", "name"].iter().any(|key| fields.contains_key(*key)) {
            return Err(DomainError::Forbidden("a user may not change its name or guest flag".into()));
        }
        let new_email = match fields.remove("email") {
            None => None,
            Some(Value::String(email)) => Some(email),
            Some(_) => return Err(DomainError::field(RESOURCE, "email", FieldErrorCode::Invalid, "email is a string")),
        };
        let mut user = self.user(application_id, user_id)?;
        let patch = UserPatch::from_merge_patch(Value::Object(fields))?;
        let secret = self.ports.accounts.account_of(application_id, user_id)?.ok_or(DomainError::NotFound("user"))?;
        // Every field is checked before anything is written: a refused email leaves the rest.
        let email_change = match &new_email {
            Some(email) => self.check_new_email(&user, secret.email.as_deref(), email)?,
            None => None,
        };
        if patch != UserPatch::default() {
            user.apply(&patch, now())?;
            self.ports.users.update_user(&user)?;
        }
        if let Some(email) = email_change {
            self.ask_email_change(&user, secret.email.as_deref(), &email, mail)?;
        }
        Ok(OwnAccount { user, email: secret.email })
    }

    /// The new address of an email change, lower-cased; `None` when it is the current one.
    fn check_new_email(&self, user: &User, current: Option<&str>, email: &str) -> Result<Option<String>, DomainError> {
        check_email(email)?;
        let lowered = email.to_lowercase();
        if current == Some(lowered.as_str()) {
            return Ok(None);
        }
        if self.ports.accounts.find_account_by_email(user.application_id, &lowered)?.is_some() {
            return Err(DomainError::field(
                RESOURCE,
                "email",
                FieldErrorCode::AlreadyExists,
                "another account has this email",
            ));
        }
        Ok(Some(lowered))
    }

    fn ask_email_change(
        &self,
        user: &User,
        current: Option<&str>,
        lowered: &str,
        mail: MailToken<'_>,
    ) -> Result<(), DomainError> {
        let lowered = lowered.to_owned();
        let issued = now();
        let token = AccountToken {
            token_hash: mail.token.hash.clone(),
            application_id: user.application_id,
            user_id: user.id,
            purpose: TokenPurpose::ChangeEmail,
            new_email: Some(lowered.clone()),
            created_time: issued,
            expires_time: issued + chrono::Duration::hours(ACTIVATION_HOURS),
        };
        let (subject, body) = email_change_mail(&user.name, &mail.token.secret, mail.public_url);
        let mut mails = vec![self.mail(user.application_id, lowered.clone(), subject, body)];
        if let Some(old) = current {
            let (subject, body) = email_change_notice(&user.name, &lowered);
            mails.push(self.mail(user.application_id, old.to_owned(), subject, body));
        }
        self.ports.accounts.issue_token(&token, &mails, None)?;
        Ok(())
    }

    /// Mail due for SMTP delivery, claimed until `lease_until` so other nodes skip it.
    pub fn mail_to_send(&self, lease: chrono::Duration, limit: u32) -> Result<Vec<Mail>, DomainError> {
        let at = now();
        Ok(self.ports.accounts.claim_mail(at, at + lease, limit)?)
    }

    /// Deletes the mail sent or abandoned more than [`MAIL_RETENTION_DAYS`] ago (housekeeping).
    pub fn purge_sent_mail(&self) -> Result<u64, DomainError> {
        Ok(self.ports.accounts.purge_mail(now() - chrono::Duration::days(MAIL_RETENTION_DAYS))?)
    }

    /// Records how a mail's SMTP attempt went.
    pub fn mail_delivered(&self, id: i64, outcome: MailOutcome) -> Result<(), DomainError> {
        Ok(self.ports.accounts.record_delivery(id, outcome)?)
    }

    pub(super) fn mail(&self, application_id: ApplicationId, to: String, subject: String, body: String) -> Mail {
        Mail { id: self.next_id(), application_id, to, subject, body, created_time: now(), delivery: None }
    }

    pub(super) fn new_session(
        &self,
        application_id: ApplicationId,
        user_id: UserId,
        token: &IssuedSecret,
        lifetime: chrono::Duration,
        user_agent: Option<&str>,
    ) -> Session {
        let started = now();
        Session {
            id: self.next_id(),
            token_hash: token.hash.clone(),
            application_id,
            user_id,
            user_agent: user_agent
                .map(|agent| agent.chars().filter(|c| !c.is_control()).take(MAX_USER_AGENT_CHARS).collect()),
            created_time: started,
            expires_time: started + lifetime,
            ended_time: None,
        }
    }
}

/// Longest `User-Agent` kept with a session.
const MAX_USER_AGENT_CHARS: usize = 512;

fn locked(retry_after_secs: u64) -> DomainError {
    DomainError::TooManyAttempts {
        retry_after_secs,
        why: "this account is locked after too many failed logins; try again later or reset the password".into(),
    }
}

/// The password checks name `password`; the calls that take two name the new one.
fn rename_field(error: DomainError, field: &str) -> DomainError {
    match error {
        DomainError::Validation(mut errors) => {
            for error in &mut errors {
                error.field = field.to_owned();
            }
            DomainError::Validation(errors)
        }
        other => other,
    }
}
