//! Roost's domain embedded in a program, with no HTTP: `roost-domain`'s service over
//! `roost-persistence` on a SQLite file. It creates an application's users and a channel,
//! posts, replies, and pages back through the history.
//!
//! ```sh
//! cargo run -p roost --example embed_domain            # a temporary database
//! cargo run -p roost --example embed_domain -- chat.db # or a file of your own
//! ```

use std::sync::Arc;

use roost_auth::provision::create_application;
use roost_auth::SecretHasher;
use roost_domain::model::channel::{ChannelType, NewChannel};
use roost_domain::model::cursor::{CursorRequest, KeyRange};
use roost_domain::model::message::{MessageRules, NewContent, NewMessage};
use roost_domain::model::user::{NewUser, UserRef};
use roost_domain::service::{MessageListing, MessageQuery};
use roost_domain::{now, IdGenerator, Ports, Principal, Service};
use roost_persistence::{DatabaseUrl, DieselStore, PoolSettings};

fn text(from: &str, body: &str) -> NewMessage {
    NewMessage {
        content: NewContent::Text(body.to_owned()),
        user: Some(UserRef::Name(from.to_owned())),
        group_tag: None,
        properties: Default::default(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let path = std::env::args().nth(1).map_or_else(|| dir.path().join("chat.db"), Into::into);
    // One id generator per node, shared by the store (message ids) and the service.
    let ids = Arc::new(IdGenerator::new(0)?);
    let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display()))?;
    let store = Arc::new(DieselStore::open(&url, &PoolSettings::default(), ids.clone())?);

    // A tenant: the application, with one OAuth client for when HTTP comes in later.
    let provisioned = create_application(store.as_ref(), &ids, &SecretHasher::owasp()?, "Embedded", now())?;
    let app = provisioned.application;
    let service = Service::new(Ports::from_store(store), ids, MessageRules::default());
    let principal = Principal::Application {
        application_id: app.id,
        organization_id: app.organization_id,
        client_id: provisioned.client_id,
    };

    for name in ["jane", "bob"] {
        service.create_user(&principal, NewUser { name: Some(name.into()), ..NewUser::default() })?;
    }
    let channel = service
        .create_channel(
            &principal,
            NewChannel {
                channel_type: ChannelType::Public,
                name: Some("general".into()),
                display_name: Some("General".into()),
                creator: Some(UserRef::Name("jane".into())),
                members: vec![UserRef::Name("bob".into())],
                properties: Default::default(),
            },
        )?
        .value;
    println!("channel #{} ({}) in application {}", channel.name.as_deref().unwrap_or_default(), channel.id, app.id);

    let mut newest = None;
    for n in 1..=7 {
        let from = if n % 2 == 0 { "bob" } else { "jane" };
        newest = Some(service.send_channel_message(&principal, channel.id, text(from, &format!("message {n}")))?);
    }
    let question = newest.ok_or("nothing was posted")?.value;
    let reply = service.reply_to_message(&principal, question.id, text("jane", "a reply, @bob"))?.value;
    println!("reply {} in thread {} mentions {} user(s)", reply.id, reply.thread_id, reply.mentions.len());

    // Back through the history, three at a time, newest first, following each page's cursor.
    let mut request = CursorRequest::newest(3);
    let mut page_number = 1;
    loop {
        let page = service.list_messages(
            &principal,
            MessageListing::Channel(channel.id),
            MessageQuery::default(),
            &request,
        )?;
        for message in &page.value.items {
            let sender = page.related.user(message.user_id).map_or("?", |u| u.name.as_str());
            println!("page {page_number}: {sender}: {}", message.body.as_deref().unwrap_or_default());
        }
        let Some(next) = page.value.next else { break };
        request = CursorRequest { size: 3, range: KeyRange::Before(next) };
        page_number += 1;
    }
    let replies = service.list_messages(
        &principal,
        MessageListing::RepliesTo(question.id),
        MessageQuery::default(),
        &CursorRequest::newest(25),
    )?;
    println!("replies to the last message: {}", replies.value.items.len());
    Ok(())
}
