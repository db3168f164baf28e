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
//! Embed it with `roost-persistence` on a SQLite file (the whole program is
//! `examples/embed_domain.rs`, `cargo run -p roost --example embed_domain`):
//!
//! ```ignore
//! use std::sync::Arc;
//! use roost_domain::model::channel::{ChannelType, NewChannel};
//! use roost_domain::model::message::{NewContent, NewMessage};
//! use roost_domain::model::user::{NewUser, UserRef};
//! use roost_domain::{IdGenerator, Ports, Principal, Service};
//! use roost_persistence::{DatabaseUrl, DieselStore, PoolSettings};
//!
//! let ids = Arc::new(IdGenerator::new(0)?);
//! let url = DatabaseUrl::parse("sqlite://chat.db")?;
//! let store = Arc::new(DieselStore::open(&url, &PoolSettings::default(), ids.clone())?);
//! let service = Service::new(Ports::from_store(store), ids, Default::default());
//! let principal = Principal::Application { application_id, organization_id, client_id };
//! let jane = service.create_user(&principal, NewUser { name: Some("jane".into()), ..Default::default() })?;
//! let channel = service.create_channel(&principal, NewChannel { channel_type: ChannelType::Public, .. })?;
//! let posted = service.send_channel_message(&principal, channel.value.id, NewMessage {
//!     content: NewContent::Text("hello".into()),
//!     user: Some(UserRef::Id(jane.id)),
//!     group_tag: None,
//!     properties: Default::default(),
//! })?;
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
pub use service::{Service, View};
