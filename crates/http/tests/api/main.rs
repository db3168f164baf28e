//! HTTP tests of roost-http, in-process, on SQLite and (when `ROOST_TEST_POSTGRES_URL` is set)
//! PostgreSQL. One binary; one module per resource.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "test code fails by panicking")]

mod helpers;

mod account_security;
mod accounts;
mod application;
mod authorization;
mod chat;
mod conditional;
mod conventions;
mod end_users;
mod errors_and_headers;
mod files;
mod health;
mod idempotency;
mod jobs;
mod limits;
mod message_imports;
mod nul_characters;
mod oauth;
mod openapi;
mod realtime;
mod sse;
mod uploads;
mod users;
mod webhooks;
