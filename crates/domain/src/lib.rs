//! Roost's domain: the model of a chat platform, the storage ports it needs and the use cases
//! that run on them, with no IO of its own (DESIGN.md, "Layers").
//!
//! - [`model`]: entities, value objects and the rules their fields obey (pure);
//! - [`ports`]: the storage traits `roost-persistence` implements (or your own store);
//! - [`service`]: the use cases, as methods of [`Service`], each taking the [`Principal`] it
//!   runs for and returning what a response renders.
//!
//! Arrows go one way: `service → ports → model`.
//!
//! # Quick start
//!
//! A [`Service`] runs over [`Ports`]: `roost-persistence` provides them on SQLite or PostgreSQL
//! (`Ports::from_store(Arc::new(DieselStore::open(&url, &settings, ids.clone())?))`), or bring
//! your own implementation of the traits in [`ports`]. `examples/embed_domain.rs` is a whole
//! program on a SQLite file (`cargo run -p roost --example embed_domain`).
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use roost_domain::model::channel::{ChannelType, NewChannel};
//! use roost_domain::model::cursor::CursorRequest;
//! use roost_domain::model::message::{MessageRules, NewContent, NewMessage};
//! use roost_domain::model::user::{NewUser, UserRef};
//! use roost_domain::service::{MessageListing, MessageQuery};
//! use roost_domain::{DomainError, IdGenerator, Ports, Principal, Service};
//!
//! fn chat(ports: Ports, ids: Arc<IdGenerator>, principal: &Principal) -> Result<(), DomainError> {
//!     let service = Service::new(ports, ids, MessageRules::default());
//!     let jane = service.create_user(principal, NewUser { name: Some("jane".into()), ..NewUser::default() })?;
//!     let general = service.create_channel(
//!         principal,
//!         NewChannel {
//!             channel_type: ChannelType::Public,
//!             name: Some("general".into()),
//!             display_name: None,
//!             creator: Some(UserRef::Id(jane.id)),
//!             members: Vec::new(),
//!             properties: Default::default(),
//!         },
//!     )?;
//!     let hello = NewMessage {
//!         content: NewContent::Text("hello".into()),
//!         user: Some(UserRef::Id(jane.id)),
//!         group_tag: None,
//!         properties: Default::default(),
//!     };
//!     service.send_channel_message(principal, general.value.id, hello)?;
//!     let page = service.list_messages(
//!         principal,
//!         MessageListing::Channel(general.value.id),
//!         MessageQuery::default(),
//!         &CursorRequest::newest(25),
//!     )?;
//!     assert_eq!(page.value.items.len(), 1);
//!     Ok(())
//! }
//! ```
#![warn(missing_docs)]

pub mod error;
pub mod model;
pub mod ports;
pub mod service;

pub use error::{DomainError, FieldError, FieldErrorCode, StoreError};
pub use model::ids::{
    ApplicationId, ChannelId, IdGenerator, MessageId, NotificationId, OrganizationId, ThreadId, UserId,
};
pub use model::principal::Principal;
pub use model::{now, Properties, Timestamp};
pub use ports::Ports;
pub use service::{Guard, Service, View};
