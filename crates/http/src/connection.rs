//! Whether a client is still connected. actix does not tell a handler that its client has
//! hung up (actix-web#1313, #3462: the handler's future runs on), yet a secret check for a client
//! that has gone is 20 ms of a core wasted (issue 19's flood). So each connection keeps a second
//! handle on its socket, taken when it is accepted, and the check looks before it starts.

use std::any::Any;
use std::io::ErrorKind;
use std::os::fd::AsFd;
use std::sync::Arc;

use actix_web::dev::Extensions;

/// A duplicate of a client connection's socket (`dup(2)`): it keeps the socket itself open
/// while the connection lives, so it can never name another connection's socket.
#[derive(Clone, Debug)]
pub struct ClientConnection(Arc<std::net::TcpStream>);

impl ClientConnection {
    /// The peer closed its side (a FIN read as end of stream) or the connection failed. Peeks,
    /// so nothing is taken from actix's reads; the socket is non-blocking (tokio set it, and a
    /// duplicate shares that flag), so this never waits.
    pub fn has_gone(&self) -> bool {
        let mut byte = [0u8; 1];
        match self.0.peek(&mut byte) {
            Ok(0) => true,
            Ok(_) => false,
            Err(e) => !matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::Interrupted),
        }
    }
}

/// `HttpServer::on_connect`: keeps a [`ClientConnection`] in the connection's data for plain
/// TCP connections; a handler reads it with `HttpRequest::conn_data`.
pub fn on_connect(connection: &dyn Any, data: &mut Extensions) {
    if let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() {
        if let Ok(socket) = stream.as_fd().try_clone_to_owned() {
            data.insert(ClientConnection(Arc::new(std::net::TcpStream::from(socket))));
        }
    }
}

/// What the hashing queue needs of a request: its source address (jobs queue per source) and a
/// check, made when the job's turn comes, whether its client has gone (the job is then dropped).
pub(crate) fn hashing_source(
    req: &actix_web::HttpRequest,
) -> (Option<std::net::IpAddr>, impl FnOnce() -> bool + Send + 'static) {
    let connection = req.conn_data::<ClientConnection>().cloned();
    (req.peer_addr().map(|a| a.ip()), move || connection.is_some_and(|c| c.has_gone()))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn pair() -> (std::net::TcpStream, ClientConnection) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nonblocking(true).unwrap();
        let duplicate = std::net::TcpStream::from(server.as_fd().try_clone_to_owned().unwrap());
        drop(server);
        (client, ClientConnection(Arc::new(duplicate)))
    }

    #[test]
    fn a_connected_client_has_not_gone_even_with_bytes_waiting() {
        let (mut client, connection) = pair();
        assert!(!connection.has_gone());
        client.write_all(b"GET / HTTP/1.1\r\n").unwrap();
        assert!(!connection.has_gone());
        assert!(!connection.has_gone(), "peeking took nothing");
    }

    #[test]
    fn a_client_that_hung_up_has_gone() {
        let (client, connection) = pair();
        client.shutdown(std::net::Shutdown::Both).unwrap();
        drop(client);
        // The FIN arrives over loopback at once; allow the kernel a moment all the same.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !connection.has_gone() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(connection.has_gone());
    }
}
