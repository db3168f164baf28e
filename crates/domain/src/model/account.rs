//! End-user accounts (the Kinglet seed): a user of an application who signs up with an email and
//! a password, activates the account with a single-use token sent by mail, and logs in for a
//! session whose bearer token acts as that user.

use super::ids::{ApplicationId, UserId};
use super::user::User;
use super::Timestamp;
use crate::error::{DomainError, FieldErrorCode};

pub(crate) const RESOURCE: &str = "account";
/// Default shortest password, in characters (`ROOST_PASSWORD_MIN_LENGTH`).
pub const DEFAULT_PASSWORD_MIN_LENGTH: usize = 8;
/// Longest password accepted: argon2 would take any length, but a megabyte of password is an
/// attack on the hashing threads, not a password.
pub const MAX_PASSWORD_CHARS: usize = 256;
/// Longest email address (RFC 5321 §4.5.3.1.3: a path of 256 octets, less the brackets).
pub const MAX_EMAIL_CHARS: usize = 254;
/// How long an activation token may be used.
pub const ACTIVATION_HOURS: i64 = 24;
/// How long a password reset token may be used by default (`ROOST_PASSWORD_RESET_SECONDS`).
pub const DEFAULT_RESET_SECONDS: i64 = 3_600;
/// How many password reset mails an account gets per hour at most: enough for a lost mail or
/// two, too few to flood someone's inbox through the reset form.
pub const RESET_MAILS_PER_HOUR: u32 = 3;
/// How long mail stays in the outbox once sent or abandoned: long enough for an operator to
/// look into a delivery, short enough that the tokens it carries do not linger.
pub const MAIL_RETENTION_DAYS: i64 = 7;
/// Consecutive failed logins that lock an account, by default (`ROOST_LOGIN_LOCKOUT_FAILURES`).
pub const DEFAULT_LOCKOUT_FAILURES: u32 = 10;
/// How long a lockout lasts by default, in seconds (`ROOST_LOGIN_LOCKOUT_SECONDS`).
pub const DEFAULT_LOCKOUT_SECONDS: i64 = 900;

/// What an operator configures about accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountRules {
    /// Shortest password, in characters.
    pub password_min_length: usize,
    /// How long a password reset token may be used, in seconds.
    pub reset_seconds: i64,
    /// Consecutive failed logins after which the account is locked, whatever their source.
    pub lockout_failures: u32,
    /// How long that lockout lasts, in seconds.
    pub lockout_seconds: i64,
}

impl Default for AccountRules {
    fn default() -> Self {
        Self {
            password_min_length: DEFAULT_PASSWORD_MIN_LENGTH,
            reset_seconds: DEFAULT_RESET_SECONDS,
            lockout_failures: DEFAULT_LOCKOUT_FAILURES,
            lockout_seconds: DEFAULT_LOCKOUT_SECONDS,
        }
    }
}

/// A sign-up (`POST /v1/accounts`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    /// The application's public key.
    pub key: String,
    /// The user name (the user's `name`).
    pub username: String,
    /// Where the activation mail goes.
    pub email: String,
    /// The password, as typed: hashed at once, never stored, returned or logged.
    pub password: String,
    /// Shown name; the user name when absent.
    pub display_name: Option<String>,
}

/// A login (`POST /v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    /// The application's public key.
    pub key: String,
    /// The user name.
    pub username: String,
    /// The password, as typed; `None` for a guest.
    pub password: Option<String>,
    /// The client's `User-Agent`, shown in its session.
    pub user_agent: Option<String>,
}

/// An account's sign-in data, as stored beside its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSecret {
    /// Its email.
    pub email: Option<String>,
    /// argon2id PHC string of the password; `None` for users created through the Platform API.
    pub password_hash: Option<String>,
    /// When the account was activated; `None` until it is.
    pub activated_time: Option<Timestamp>,
    /// Failed logins since the last successful one (or unlock).
    pub failed_logins: u32,
    /// Until when logins are refused after too many failures.
    pub locked_until: Option<Timestamp>,
}

impl AccountSecret {
    /// The seconds left of a lockout at `now`; `None` when logins are allowed.
    pub fn locked_for(&self, now: Timestamp) -> Option<u64> {
        let until = self.locked_until.filter(|until| *until > now)?;
        Some(u64::try_from((until - now).num_seconds()).unwrap_or(0).max(1))
    }
}

/// What a single-use token mailed to a user is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Activating a new account.
    Activate,
    /// Confirming a new email address (the token rides with the address).
    ChangeEmail,
    /// Setting a new password without the old one.
    ResetPassword,
}

impl TokenPurpose {
    /// Storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activate => "ACTIVATE",
            Self::ChangeEmail => "CHANGE_EMAIL",
            Self::ResetPassword => "RESET_PASSWORD",
        }
    }
}

/// A single-use token mailed to a user; only its SHA-256 is stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountToken {
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    /// The tenant.
    pub application_id: ApplicationId,
    /// Whose it is.
    pub user_id: UserId,
    /// What it does.
    pub purpose: TokenPurpose,
    /// For [`TokenPurpose::ChangeEmail`]: the address it confirms.
    pub new_email: Option<String>,
    /// When it was issued.
    pub created_time: Timestamp,
    /// When it stops working.
    pub expires_time: Timestamp,
}

/// A mail to a user: sent by SMTP, or kept in the outbox for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Its id (the outbox's order).
    pub id: i64,
    /// The application it is sent for.
    pub application_id: ApplicationId,
    /// The address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
    /// When it was written.
    pub created_time: Timestamp,
    /// How its delivery went (SMTP); `None` for a mail being written.
    pub delivery: Option<Delivery>,
}

/// Where a mail's SMTP delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Delivery {
    /// When the SMTP server accepted it; `None` while it waits (no server configured, or
    /// retrying).
    pub sent_time: Option<Timestamp>,
    /// When it was given up: refused for good, or retried for a day.
    pub abandoned_time: Option<Timestamp>,
    /// SMTP attempts so far.
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// How one SMTP attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailOutcome {
    /// The server accepted the mail.
    Sent {
        /// When.
        at: Timestamp,
    },
    /// It did not; try again at `retry_at`, or (`None`) never: the server refused it for good.
    Failed {
        /// Why (the SMTP server's answer or the connection error).
        error: String,
        /// The next attempt.
        retry_at: Option<Timestamp>,
    },
}

/// When a mail whose SMTP attempt failed is tried again: 30 s after the first failure,
/// doubling, at most an hour apart; never after a permanent refusal (an SMTP 5xx) or once a day
/// has passed since it was written (its tokens are stale by then, or nearly).
pub fn next_mail_attempt(mail: &Mail, permanent: bool, now: Timestamp) -> Option<Timestamp> {
    if permanent || now - mail.created_time > chrono::Duration::hours(24) {
        return None;
    }
    let failures = mail.delivery.as_ref().map_or(0, |d| d.attempts);
    let wait = 30_i64.saturating_mul(1_i64 << failures.min(10)).min(3_600);
    Some(now + chrono::Duration::seconds(wait))
}

/// A user session: an end user's bearer token (only its SHA-256 is stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Its id (`GET /v1/user-sessions`).
    pub id: i64,
    /// Hex SHA-256 of the bearer token.
    pub token_hash: String,
    /// The tenant.
    pub application_id: ApplicationId,
    /// Who it acts as.
    pub user_id: UserId,
    /// The client's `User-Agent` at login.
    pub user_agent: Option<String>,
    /// When it started.
    pub created_time: Timestamp,
    /// When its token stops working.
    pub expires_time: Timestamp,
    /// When it was ended (logout); `None` while it lasts.
    pub ended_time: Option<Timestamp>,
}

impl Session {
    /// Usable at `now`: not ended, not expired.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.ended_time.is_none() && now < self.expires_time
    }

    /// When it ended: logged out, or expired; `None` while active at `now`.
    pub fn end_time(&self, now: Timestamp) -> Option<Timestamp> {
        self.ended_time.or((now >= self.expires_time).then_some(self.expires_time))
    }
}

/// A session with its user (`GET /v1/user-sessions`).
#[derive(Debug, Clone, PartialEq)]
pub struct UserSession {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// Whether a stream is open with it now, on any live node.
    pub streaming: bool,
}

/// The `state` filter of `GET /v1/user-sessions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Neither ended nor expired.
    Active,
    /// Ended by logout, or expired.
    Ended,
}

impl SessionState {
    /// Parses the wire spelling.
    pub fn parse(state: &str) -> Result<Self, DomainError> {
        match state {
            "ACTIVE" => Ok(Self::Active),
            "ENDED" => Ok(Self::Ended),
            other => Err(DomainError::InvalidArgument(format!("state must be ACTIVE or ENDED, got '{other}'"))),
        }
    }
}

/// What sessions are sorted by: `createdTime` (newest first when no sort is given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSort {
    /// When the session started.
    CreatedTime,
}

impl super::page::SortField for SessionSort {
    const FIELDS: &'static [(&'static str, Self)] = &[("createdTime", Self::CreatedTime)];
}

/// An email address as accepted: one `@` with text on both sides, no spaces or control
/// characters, at most [`MAX_EMAIL_CHARS`]; kept as written, compared case-insensitively.
pub fn check_email(email: &str) -> Result<(), DomainError> {
    let valid = email.chars().count() <= MAX_EMAIL_CHARS
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(email.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@') && !domain.starts_with('.') && !domain.ends_with('.'));
    if valid {
        Ok(())
    } else {
        Err(DomainError::field(RESOURCE, "email", FieldErrorCode::Invalid, "not an email address"))
    }
}

/// A password as accepted: at least `rules.password_min_length` characters, at most
/// [`MAX_PASSWORD_CHARS`], and neither equal to nor containing the user name or the email
/// (case-insensitively): the first things an attacker tries.
pub fn check_password(password: &str, username: &str, email: &str, rules: AccountRules) -> Result<(), DomainError> {
    let invalid = |why: String| DomainError::field(RESOURCE, "password", FieldErrorCode::Invalid, why);
    let length = password.chars().count();
    if length < rules.password_min_length {
        return Err(invalid(format!("a password needs at least {} characters", rules.password_min_length)));
    }
    if length > MAX_PASSWORD_CHARS {
        return Err(invalid(format!("a password may have at most {MAX_PASSWORD_CHARS} characters")));
    }
    let lower = password.to_lowercase();
    for (what, value) in [("user name", username), ("email", email)] {
        let value = value.trim().to_lowercase();
        if !value.is_empty() && lower.contains(&value) {
            return Err(invalid(format!("a password must not contain your {what}")));
        }
    }
    Ok(())
}

/// The mail that carries a password reset token, valid `minutes`.
pub fn reset_mail(username: &str, token: &str, minutes: i64, public_url: Option<&str>) -> (String, String) {
    let subject = "Reset your password".to_owned();
    let mut body = format!(
        "Hello {username},\n\nsomeone asked to reset the password of your account. To choose a new one, use this \
         token (valid {minutes} minutes, once):\n\n    {token}\n"
    );
    if let Some(base) = public_url {
        body.push_str(&format!(
            "\nwith POST {}/v1/accounts/password-reset/{token} and your new password\n",
            base.trim_end_matches('/')
        ));
    }
    body.push_str("\nIf it was not you, ignore this mail: your password stays as it is.\n");
    (subject, body)
}

/// The mail to a new address, with the token that confirms it.
pub fn email_change_mail(username: &str, token: &str, public_url: Option<&str>) -> (String, String) {
    let subject = "Confirm your new email address".to_owned();
    let mut body = format!(
        "Hello {username},\n\nto make this your account's address, use this token (valid {ACTIVATION_HOURS} hours):\n\n    {token}\n"
    );
    if let Some(base) = public_url {
        body.push_str(&format!("\nor open {}/v1/accounts/activate/{token}\n", base.trim_end_matches('/')));
    }
    body.push_str("\nIf you did not ask for this, ignore this mail.\n");
    (subject, body)
}

/// The notice to the old address that a change was asked for (never with the token).
pub fn email_change_notice(username: &str, new_email: &str) -> (String, String) {
    let subject = "Your email address is being changed".to_owned();
    let body = format!(
        "Hello {username},\n\nyour account asked to move to {new_email}. The change takes effect once that address \
         confirms it. If it was not you, change your password now.\n"
    );
    (subject, body)
}

/// The mail that carries an activation token, with a link when the server knows its public URL.
pub fn activation_mail(username: &str, token: &str, public_url: Option<&str>) -> (String, String) {
    let subject = "Activate your account".to_owned();
    let mut body = format!(
        "Hello {username},\n\nto activate your account, use this token (valid {ACTIVATION_HOURS} hours):\n\n    {token}\n"
    );
    if let Some(base) = public_url {
        body.push_str(&format!("\nor open {}/v1/accounts/activate/{token}\n", base.trim_end_matches('/')));
    }
    body.push_str("\nIf you did not sign up, ignore this mail.\n");
    (subject, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_mail_is_retried_with_backoff_for_a_day_unless_refused_for_good() {
        let written = chrono::Utc::now();
        let mut mail = Mail {
            id: 1,
            application_id: ApplicationId(1),
            to: "j@example.com".into(),
            subject: String::new(),
            body: String::new(),
            created_time: written,
            delivery: Some(Delivery::default()),
        };
        assert_eq!(next_mail_attempt(&mail, false, written), Some(written + chrono::Duration::seconds(30)));
        mail.delivery = Some(Delivery { attempts: 3, ..Delivery::default() });
        assert_eq!(next_mail_attempt(&mail, false, written), Some(written + chrono::Duration::seconds(240)));
        mail.delivery = Some(Delivery { attempts: 30, ..Delivery::default() });
        assert_eq!(next_mail_attempt(&mail, false, written), Some(written + chrono::Duration::hours(1)));
        assert_eq!(next_mail_attempt(&mail, true, written), None);
        assert_eq!(next_mail_attempt(&mail, false, written + chrono::Duration::hours(25)), None);
    }

    #[test]
    fn emails_need_a_local_part_and_a_domain() {
        for good in ["jane@example.com", "J.Doe+chat@mail.example.org"] {
            assert!(check_email(good).is_ok(), "{good}");
        }
        for bad in ["", "jane", "@example.com", "jane@", "jane@localhost", "ja ne@example.com", "a@b@c.com", "j@.com"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn passwords_are_long_enough_and_not_the_name_or_email() {
        let rules = AccountRules::default();
        assert!(check_password("correct horse", "jane", "jane@example.com", rules).is_ok());
        assert!(check_password("short", "jane", "jane@example.com", rules).is_err());
        assert!(check_password("Jane1234", "jane", "j@example.com", rules).is_err(), "contains the name");
        assert!(
            check_password("x-jane@example.com-x", "bob", "Jane@Example.com", rules).is_err(),
            "contains the email"
        );
        assert!(check_password(&"a".repeat(300), "jane", "j@example.com", rules).is_err());
        assert!(check_password(
            "abcdefgh",
            "jane",
            "j@example.com",
            AccountRules { password_min_length: 12, ..AccountRules::default() }
        )
        .is_err());
    }

    #[test]
    fn the_activation_mail_carries_the_token_and_a_link_when_it_can() {
        let (_, plain) = activation_mail("jane", "tok123", None);
        assert!(plain.contains("tok123") && !plain.contains("http"));
        let (_, linked) = activation_mail("jane", "tok123", Some("https://chat.example/"));
        assert!(linked.contains("https://chat.example/v1/accounts/activate/tok123"));
    }
}
