//! The WebSocket transport's sending side: a stream's frames encoded (RFC 6455 §5) straight from
//! its queue into the response body, with the answer to the client's latest ping.
//!
//! No task sits between the queue and the socket: every frame waiting when the connection
//! writes goes out in one write, as with server-sent events (issue 23: one node carries 500 000
//! deliveries a second, and each hop between tasks costs a wake per write).

use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};

use actix_codec::Encoder;
use actix_http::ws::{Codec, Message, ProtocolError};
use bytes::{Bytes, BytesMut};
use futures_util::task::AtomicWaker;
use tokio::sync::mpsc;

use super::stream::Frame;

/// The client's latest ping not answered yet. RFC 6455 §5.5.3: a pong may answer only the most
/// recent ping, so a newer one replaces an older one still waiting, and a client pinging
/// faster than the connection writes costs no memory.
#[derive(Default)]
pub struct PendingPong {
    payload: Mutex<Option<Bytes>>,
    waker: AtomicWaker,
}

impl PendingPong {
    /// A ping came with `payload`: its pong goes with the next write.
    pub fn answer(&self, payload: Bytes) {
        *self.payload.lock().unwrap_or_else(PoisonError::into_inner) = Some(payload);
        self.waker.wake();
    }

    fn poll_take(&self, cx: &Context<'_>) -> Option<Bytes> {
        self.waker.register(cx.waker());
        self.payload.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

/// The bytes a WebSocket connection sends: the stream's frames (a heartbeat is a ping) and
/// pongs, then a close frame once the stream has ended.
pub struct WebSocketBody {
    frames: mpsc::Receiver<Frame>,
    pong: Arc<PendingPong>,
    codec: Codec,
    buffer: BytesMut,
    ended: bool,
}

impl WebSocketBody {
    /// The body of a connection whose stream queues on `frames` and whose reader leaves the
    /// pings to answer in `pong`.
    pub fn new(frames: mpsc::Receiver<Frame>, pong: Arc<PendingPong>) -> Self {
        Self { frames, pong, codec: Codec::new(), buffer: BytesMut::new(), ended: false }
    }

    fn encode(&mut self, message: Message) -> Result<(), ProtocolError> {
        self.codec.encode(message, &mut self.buffer)
    }
}

impl futures_util::Stream for WebSocketBody {
    type Item = Result<Bytes, ProtocolError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        if let Some(payload) = this.pong.poll_take(cx) {
            this.encode(Message::Pong(payload))?;
        }
        let mut closing = false;
        loop {
            match this.frames.poll_recv(cx) {
                Poll::Ready(Some(Frame::Text(text))) => this.encode(Message::Text(text))?,
                // Never queued here: a WebSocket's `Wire` makes text frames.
                Poll::Ready(Some(Frame::Sse(_))) => {}
                Poll::Ready(Some(Frame::Heartbeat)) => this.encode(Message::Ping(Bytes::new()))?,
                Poll::Ready(None) => {
                    // The stream ended (its client went, or it was dropped): say goodbye.
                    this.encode(Message::Close(None))?;
                    closing = true;
                    break;
                }
                Poll::Pending => break,
            }
        }
        this.ended = closing;
        if this.buffer.is_empty() {
            return if closing { Poll::Ready(None) } else { Poll::Pending };
        }
        // Taken whole (not split off): the write owns it, and the next frames start a new one.
        Poll::Ready(Some(Ok(std::mem::take(&mut this.buffer).freeze())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    #[actix_web::test]
    async fn frames_waiting_go_out_in_one_write_and_the_end_sends_a_close() {
        let (sink, frames) = mpsc::channel(8);
        let pong = Arc::new(PendingPong::default());
        let mut body = WebSocketBody::new(frames, Arc::clone(&pong));
        sink.try_send(Frame::Text("{\"a\":1}".into())).unwrap();
        sink.try_send(Frame::Text("{\"b\":2}".into())).unwrap();
        // Two pings before a write: only the latest is answered.
        pong.answer(Bytes::from_static(b"o"));
        pong.answer(Bytes::from_static(b"p"));
        let written = body.next().await.unwrap().unwrap();
        // Pong (0x8A, length 1, "p"), then two unmasked text frames (0x81, length 7).
        assert_eq!(&written[..3], b"\x8a\x01p");
        assert_eq!(&written[3..12], b"\x81\x07{\"a\":1}");
        assert_eq!(&written[12..], b"\x81\x07{\"b\":2}");
        sink.try_send(Frame::Heartbeat).unwrap();
        drop(sink);
        let written = body.next().await.unwrap().unwrap();
        // A ping with no payload, then the close frame.
        assert_eq!(&written[..], b"\x89\x00\x88\x00");
        assert!(body.next().await.is_none());
    }
}
