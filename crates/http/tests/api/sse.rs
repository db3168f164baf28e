//! Reading server-sent event streams in tests: the response's body, polled chunk by chunk.

use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::http::StatusCode;
use actix_web::test::TestRequest;
use serde_json::Value;

use crate::helpers::TestApp;

/// One event as received.
#[derive(Debug, Clone)]
pub struct SseEvent {
    /// The `id:` line.
    pub id: Option<i64>,
    /// The `event:` line.
    pub event: String,
    /// The `data:` line, parsed.
    pub data: Value,
}

/// An open stream.
pub struct EventStream {
    pub status: StatusCode,
    body: BoxBody,
    buffer: String,
    /// Whether the server ended the body.
    pub ended: bool,
}

impl TestApp {
    /// Sends `req` and keeps its streaming body open.
    pub async fn open_stream(&self, req: TestRequest) -> EventStream {
        let response = self.service_call(req).await;
        let status = response.status();
        EventStream { status, body: response.into_body(), buffer: String::new(), ended: false }
    }

    /// A stream of `uri` with this application's token.
    pub async fn app_stream(&self, uri: &str) -> EventStream {
        let stream = self
            .open_stream(TestRequest::get().uri(uri).insert_header(("authorization", format!("Bearer {}", self.token))))
            .await;
        assert_eq!(stream.status, StatusCode::OK, "{uri}");
        stream
    }

    /// A stream of `uri` with a user's session token.
    pub async fn user_stream(&self, token: &str, uri: &str) -> EventStream {
        let stream = self
            .open_stream(TestRequest::get().uri(uri).insert_header(("authorization", format!("Bearer {token}"))))
            .await;
        assert_eq!(stream.status, StatusCode::OK, "{uri}");
        stream
    }
}

impl EventStream {
    /// The next chunk of body, or `None` when none comes within `wait` (or the body ended).
    async fn chunk(&mut self, wait: Duration) -> Option<String> {
        let body = &mut self.body;
        let next = tokio::time::timeout(wait, std::future::poll_fn(|cx| std::pin::Pin::new(&mut *body).poll_next(cx)));
        match next.await {
            Ok(Some(Ok(bytes))) => Some(String::from_utf8_lossy(&bytes).into_owned()),
            Ok(_) => {
                self.ended = true;
                None
            }
            Err(_) => None,
        }
    }

    /// The next event (heartbeat comments skipped) within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Option<SseEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            while let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = SseEvent { id: None, event: String::new(), data: Value::Null };
                let mut any = false;
                for line in block.lines() {
                    if let Some(id) = line.strip_prefix("id: ") {
                        event.id = Some(id.parse().expect("numeric id"));
                    } else if let Some(name) = line.strip_prefix("event: ") {
                        event.event = name.to_owned();
                        any = true;
                    } else if let Some(data) = line.strip_prefix("data: ") {
                        event.data = serde_json::from_str(data).expect("JSON data");
                    }
                }
                if any {
                    return Some(event);
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || self.ended {
                return None;
            }
            match self.chunk(left).await {
                Some(text) => self.buffer.push_str(&text),
                None if self.ended => {}
                None => return None,
            }
        }
    }

    /// The next event; fails the test when none comes in 10 seconds.
    pub async fn next(&mut self) -> SseEvent {
        self.next_within(Duration::from_secs(10)).await.expect("an event within 10 s")
    }

    /// The next event of one of `types`, skipping others.
    pub async fn next_of(&mut self, types: &[&str]) -> SseEvent {
        loop {
            let event = self.next().await;
            if types.contains(&event.event.as_str()) {
                return event;
            }
        }
    }

    /// Every event until one matching `last` (included).
    pub async fn until(&mut self, last: impl Fn(&SseEvent) -> bool) -> Vec<SseEvent> {
        let mut seen = Vec::new();
        loop {
            let event = self.next().await;
            let done = last(&event);
            seen.push(event);
            if done {
                return seen;
            }
        }
    }

    /// Whether the body has ended within `wait` (after any events still queued).
    pub async fn ends_within(&mut self, wait: Duration) -> bool {
        while self.next_within(wait).await.is_some() {}
        self.ended
    }
}
