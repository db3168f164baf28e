//! Mail to end users over SMTP (`ROOST_SMTP_URL`, the `lettre` crate). Every mail is written to
//! the outbox first, in the transaction of the change that sends it (a sign-up, a reset); this
//! crate's sender then delivers what the outbox holds, at least once: a mail is claimed for a
//! minute before it is sent, so another node skips it, and stays due until the server accepts
//! it. Without `ROOST_SMTP_URL` mail stays in the outbox for the operator (`roost outbox list`).

use std::sync::Arc;
use std::time::Duration;

use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::AsyncSmtpTransport;
use lettre::{AsyncTransport, Message, Tokio1Executor};
use roost_domain::model::account::{next_mail_attempt, Mail, MailOutcome};
use roost_domain::{now, Service};
use tokio::sync::Notify;

/// Mails claimed per round.
const BATCH: u32 = 5;
/// Longest wait for one SMTP conversation.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a claimed mail is left to this node before another may send it: longer than the
/// slowest round (each mail of the batch waiting its whole timeout), so a slow server never
/// lets another node send the rest of a batch again.
const LEASE_SECONDS: i64 = BATCH as i64 * SMTP_TIMEOUT.as_secs() as i64 + 30;
/// How often the outbox is looked at without a wake-up (mail written by another node).
const POLL: Duration = Duration::from_secs(30);

/// Why mail could not be set up or sent.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// `ROOST_SMTP_URL` is not one lettre understands.
    #[error(
        "invalid ROOST_SMTP_URL (expected smtp://host:port, smtps://user:pass@host or smtp://host?tls=required): {0}"
    )]
    Url(String),
    /// `ROOST_MAIL_FROM` is not an address.
    #[error("invalid ROOST_MAIL_FROM '{0}': expected an address such as 'Roost <noreply@example.com>'")]
    From(String),
    /// A recipient is not an address.
    #[error("invalid recipient: {0}")]
    Recipient(String),
    /// The message could not be built.
    #[error("cannot build the message: {0}")]
    Build(String),
    /// The SMTP server refused it or could not be reached; `permanent` for a 5xx refusal.
    #[error("SMTP: {message}")]
    Smtp {
        /// What the server or the connection said.
        message: String,
        /// Whether trying again cannot help.
        permanent: bool,
    },
}

/// An SMTP server and the sender address mail goes out with.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    server: String,
}

impl Mailer {
    /// A mailer for `url` (`smtp://host:port` plain, `smtp://host?tls=required` with STARTTLS,
    /// `smtps://user:pass@host[:port]` over TLS), sending as `from`.
    pub fn open(url: &str, from: &str) -> Result<Self, MailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| MailError::Url(e.to_string()))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = from.parse::<Mailbox>().map_err(|_| MailError::From(from.to_owned()))?;
        Ok(Self { transport, from, server: describe(url) })
    }

    /// The server, without credentials, for logs.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Sends one mail as plain text.
    pub async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to = mail.to.parse::<Mailbox>().map_err(|e| MailError::Recipient(format!("{}: {e}", mail.to)))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| MailError::Smtp { message: e.to_string(), permanent: e.is_permanent() })
    }
}

/// `url` with any password replaced, for logs.
fn describe(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) if at > scheme.len() => {
            let host = &url[at + 1..];
            let user = rest.split_once('@').map_or("", |(credentials, _)| credentials);
            let user = user.split_once(':').map_or(user, |(user, _)| user);
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

/// Delivers the outbox until the process stops: at once when `wake` is notified (this node
/// wrote mail), else every half minute. Each mail is claimed, sent and its outcome recorded;
/// a failure is retried with backoff ([`next_mail_attempt`]).
pub async fn deliver(service: Service, mailer: Mailer, wake: Arc<Notify>) {
    tracing::info!(server = mailer.server(), "mail goes out by SMTP");
    loop {
        let claiming = service.clone();
        let claimed =
            tokio::task::spawn_blocking(move || claiming.mail_to_send(chrono::Duration::seconds(LEASE_SECONDS), BATCH))
                .await;
        let batch = match claimed {
            Ok(Ok(batch)) => batch,
            Ok(Err(error)) => {
                tracing::warn!(%error, "cannot read the outbox");
                Vec::new()
            }
            Err(error) => {
                tracing::warn!(%error, "cannot read the outbox");
                Vec::new()
            }
        };
        let full = u32::try_from(batch.len()).unwrap_or(u32::MAX) >= BATCH;
        for mail in batch {
            let outcome = match mailer.send(&mail).await {
                Ok(()) => MailOutcome::Sent { at: now() },
                Err(error) => {
                    let permanent = matches!(
                        error,
                        MailError::Smtp { permanent: true, .. } | MailError::Recipient(_) | MailError::Build(_)
                    );
                    let retry_at = next_mail_attempt(&mail, permanent, now());
                    tracing::warn!(mail = mail.id, %error, retry = retry_at.is_some(), "a mail was not sent");
                    MailOutcome::Failed { error: error.to_string(), retry_at }
                }
            };
            let recording = service.clone();
            let id = mail.id;
            match tokio::task::spawn_blocking(move || recording.mail_delivered(id, outcome)).await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(mail = id, %error, "cannot record a mail's delivery"),
                Err(error) => tracing::warn!(mail = id, %error, "cannot record a mail's delivery"),
            }
        }
        if !full {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(describe("smtps://mailer:s3cret@smtp.example.com:465"), "smtps://mailer:***@smtp.example.com:465");
        assert_eq!(describe("smtp://127.0.0.1:2525"), "smtp://127.0.0.1:2525");
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(matches!(Mailer::open("http://x", "a@b.c"), Err(MailError::Url(_))));
        assert!(matches!(Mailer::open("smtp://127.0.0.1:2525", "not an address"), Err(MailError::From(_))));
    }
}
