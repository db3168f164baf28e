//! End users' mail, as the operator sees it (`roost outbox list`).

use roost_domain::model::account::Mail;

/// Where a mail's delivery stands: `sent`, `abandoned` (refused for good, or a day of retries)
/// or `waiting` (no SMTP server configured, or retrying).
fn status(mail: &Mail) -> &'static str {
    match &mail.delivery {
        Some(d) if d.sent_time.is_some() => "sent",
        Some(d) if d.abandoned_time.is_some() => "abandoned",
        _ => "waiting",
    }
}

/// The outbox, for `roost outbox list`.
pub fn print_outbox(mails: &[Mail], json: bool) {
    for mail in mails {
        let delivery = mail.delivery.clone().unwrap_or_default();
        if json {
            let line = serde_json::json!({
                "id": mail.id,
                "application_id": mail.application_id.0,
                "to": mail.to,
                "subject": mail.subject,
                "body": mail.body,
                "created_time": mail.created_time.to_rfc3339(),
                "status": status(mail),
                "attempts": delivery.attempts,
                "sent_time": delivery.sent_time.map(|t| t.to_rfc3339()),
                "last_error": delivery.last_error,
            });
            println!("{line}");
        } else {
            println!(
                "--- {} to {} ({}, application {}, {} after {} attempt(s){})",
                mail.created_time.to_rfc3339(),
                mail.to,
                mail.subject,
                mail.application_id,
                status(mail),
                delivery.attempts,
                delivery.last_error.map(|e| format!(": {e}")).unwrap_or_default(),
            );
            println!("{}", mail.body);
        }
    }
}
