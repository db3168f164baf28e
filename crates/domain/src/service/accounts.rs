//! End-user accounts (the Kinglet seed): sign-up, activation, login, logout and a user's own
//! account. The calls that hash a password take the hasher: their callers run them on the
//! bounded hashing threads.

use super::Service;
use crate::error::{DomainError, FieldErrorCode, StoreError};
use crate::model::account::{
    activation_mail, check_email, check_password, AccountRules, AccountSecret, AccountToken, Login, Mail, NewAccount,
    Session, SessionSort, SessionState, TokenPurpose, UserSession, ACTIVATION_HOURS, RESOURCE,
};
use crate::model::application::Application;
use crate::model::ids::UserId;
use crate::model::now;
use crate::model::page::{Page, PageRequest};
use crate::model::principal::Principal;
use crate::model::user::{already_exists, new_user, NewUser, User};
use crate::ports::PasswordHasher;

/// A secret made by the caller (a random bearer string) and the SHA-256 under which it is
/// stored: the domain keeps only the hash, the client gets the secret once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedSecret {
    /// The secret, for the client (or the mail).
    pub secret: String,
    /// Its hex SHA-256, for storage.
    pub hash: String,
}

/// A user's own account (`GET /v1/me`).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnAccount {
    /// The user.
    pub user: User,
    /// Its email (an account made through the Platform API has none).
    pub email: Option<String>,
}

/// What sign-up needs besides the input.
#[derive(Clone, Copy)]
pub struct SignUpContext<'a> {
    /// The password hasher.
    pub hasher: &'a dyn PasswordHasher,
    /// The rules the password obeys.
    pub rules: AccountRules,
    /// The activation token (its secret goes into the mail only).
    pub activation: &'a IssuedSecret,
    /// The server's public URL, for the activation link.
    pub public_url: Option<&'a str>,
}

impl Service {
    /// `POST /v1/accounts`: a new account of the application whose public key the input names,
    /// when its `userSignUp` setting allows; not activated until the token mailed to its email
    /// is used.
    pub fn sign_up(&self, input: NewAccount, context: SignUpContext<'_>) -> Result<User, DomainError> {
        let application = self.application_by_key(&input.key)?;
        if !application.settings.user_sign_up.is_enabled() {
            return Err(DomainError::Forbidden("this application does not let users sign up (userSignUp)".into()));
        }
        let new =
            NewUser { name: Some(input.username.clone()), display_name: input.display_name, ..NewUser::default() };
        let mut user = new_user(UserId(0), application.id, new, now())?;
        check_email(&input.email)?;
        check_password(&input.password, &input.username, &input.email, context.rules)?;
        if self.ports.users.find_user_by_name(application.id, &user.name)?.is_some() {
            return Err(already_exists(&user.name));
        }
        let password_hash = context.hasher.hash_password(&input.password).map_err(|e| StoreError::Other(e.into()))?;
        user.id = UserId(self.next_id());
        let created = now();
        let token = AccountToken {
            token_hash: context.activation.hash.clone(),
            application_id: application.id,
            user_id: user.id,
            purpose: TokenPurpose::Activate,
            new_email: None,
            created_time: created,
            expires_time: created + chrono::Duration::hours(ACTIVATION_HOURS),
        };
        let (subject, body) = activation_mail(&user.name, &context.activation.secret, context.public_url);
        let mail = self.mail(application.id, input.email.clone(), subject, body);
        match self.ports.accounts.create_account(&user, &input.email, &password_hash, &token, &mail) {
            Ok(()) => Ok(user),
            // The name was checked just above: the email is taken, or the name was taken meanwhile.
            Err(StoreError::Conflict(_)) => Err(DomainError::field(
                RESOURCE,
                "email",
                FieldErrorCode::AlreadyExists,
                "an account with this user name or email already exists",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// `POST /v1/accounts/activate`: uses a token mailed at sign-up (activates the account) or
    /// after an email change (makes the new address the account's), once.
    pub fn activate_account(&self, token_hash: &str) -> Result<User, DomainError> {
        self.ports.accounts.activate_account(token_hash, now())?.ok_or_else(|| {
            DomainError::field(RESOURCE, "token", FieldErrorCode::Invalid, "the token is unknown, used or expired")
        })
    }

    /// `POST /v1/sessions`: checks a user's password and starts a session whose bearer token
    /// (`session`'s secret) acts as the user for `lifetime`. A wrong key is a 400; a wrong name
    /// or password is the same answer, after the same work, whether the user exists or not.
    /// `rules.lockout_failures` wrong passwords in a row lock the account for
    /// `rules.lockout_seconds`, whatever their source. Without a password, a guest session
    /// (when the application's `guestUsers` allows).
    pub fn log_in(
        &self,
        hasher: &dyn PasswordHasher,
        rules: AccountRules,
        input: Login,
        session: &IssuedSecret,
        lifetime: chrono::Duration,
    ) -> Result<(Session, User), DomainError> {
        let application = self.application_by_key(&input.key)?;
        let account = self.ports.accounts.find_account(application.id, &input.username)?;
        let user = match input.password.as_deref() {
            None => self.guest(&application, &input.username, account)?,
            Some(password) => {
                let Some((user, secret)) = account else {
                    hasher.verify_decoy(password);
                    return Err(DomainError::InvalidCredentials);
                };
                let Some(hash) = secret.password_hash.as_deref() else {
                    hasher.verify_decoy(password);
                    return Err(DomainError::InvalidCredentials);
                };
                self.check_login_password(hasher, rules, &user, &secret, password, hash)?;
                if secret.activated_time.is_none() {
                    return Err(DomainError::Forbidden(
                        "the account is not activated yet: use the token mailed to you at sign-up".into(),
                    ));
                }
                user
            }
        };
        let session = self.new_session(application.id, user.id, session, lifetime, input.user_agent.as_deref());
        self.ports.accounts.insert_session(&session)?;
        Ok((session, user))
    }

    /// The guest a password-less login names: created on first use (`isGuest: true`), never the
    /// name of an account or of a user the application made as a non-guest.
    fn guest(
        &self,
        application: &Application,
        username: &str,
        existing: Option<(User, AccountSecret)>,
    ) -> Result<User, DomainError> {
        if !application.settings.guest_users.is_enabled() {
            return Err(DomainError::Forbidden(
                "this application does not let users in as guests (guestUsers); log in with a password".into(),
            ));
        }
        match existing {
            Some((user, secret)) if user.is_guest && secret.password_hash.is_none() => Ok(user),
            Some(_) => Err(DomainError::Forbidden(
                "this name belongs to an account, not a guest: log in with its password".into(),
            )),
            None => {
                let new = NewUser { name: Some(username.to_owned()), is_guest: Some(true), ..NewUser::default() };
                let mut user = new_user(UserId(0), application.id, new, now())?;
                user.id = UserId(self.next_id());
                match self.ports.users.insert_user(&user) {
                    Ok(()) => Ok(user),
                    // The same guest logging in twice at once: the other request made it.
                    Err(StoreError::Conflict(_)) => match self.ports.accounts.find_account(application.id, username)? {
                        Some(found) => self.guest(application, username, Some(found)),
                        None => Err(already_exists(username)),
                    },
                    Err(e) => Err(e.into()),
                }
            }
        }
    }

    /// `DELETE /v1/sessions/current`: ends the session of the token used.
    pub fn log_out(&self, principal: &Principal) -> Result<(), DomainError> {
        let (application_id, _, session_id) = principal.own_account()?;
        if self.ports.accounts.end_session(application_id, session_id, now())? {
            Ok(())
        } else {
            Err(DomainError::NotFound("session"))
        }
    }

    /// `GET /v1/me`: the user of a session, with its email.
    pub fn own_account(&self, principal: &Principal) -> Result<OwnAccount, DomainError> {
        let (application_id, user_id, _) = principal.own_account()?;
        let user = self.user(application_id, user_id)?;
        let email = self.ports.accounts.account_of(application_id, user_id)?.and_then(|a| a.email);
        Ok(OwnAccount { user, email })
    }

    /// `GET /v1/user-sessions`: the application's end-user sessions, with their users.
    pub fn list_user_sessions(
        &self,
        principal: &Principal,
        state: Option<SessionState>,
        page: &PageRequest<SessionSort>,
    ) -> Result<Page<UserSession>, DomainError> {
        let application_id = principal.manage()?;
        Ok(self.ports.accounts.list_sessions(application_id, state, now(), page)?)
    }

    /// The mail kept for the operator (`roost outbox list`).
    pub fn outbox(&self) -> Result<Vec<Mail>, DomainError> {
        Ok(self.ports.accounts.outbox()?)
    }

    pub(super) fn application_by_key(&self, key: &str) -> Result<Application, DomainError> {
        let known =
            if key.is_empty() || key.len() > 64 { None } else { self.ports.accounts.application_by_key(key)? };
        known.ok_or_else(|| {
            DomainError::field(
                RESOURCE,
                "key",
                FieldErrorCode::Invalid,
                "no application has this key (send its public key, from GET /v1/application)",
            )
        })
    }
}
