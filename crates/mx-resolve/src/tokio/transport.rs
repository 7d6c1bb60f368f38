//! One query to one nameserver: UDP from a fresh socket on a random port, and TCP when the UDP
//! answer is truncated (RFC 1035 sections 4.2.1 and 4.2.2, RFC 7766).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{Instant, timeout_at};

use super::ResolveError;
use crate::wire::{Message, Query};

/// The largest DNS message: a UDP datagram or a TCP message is at most 65535 octets.
const MAX_MESSAGE: usize = 65_535;

/// Sends `query` to `server` over UDP and waits until `deadline` for a datagram that answers
/// it. The socket is bound to port 0 for this query alone, so the kernel picks a random source
/// port, and connected to the server, so datagrams from other addresses never reach it.
/// Datagrams that do not parse or do not answer the question with its ID
/// ([`Message::check_answers`]) are ignored and the wait goes on: a spoofed answer must guess
/// both the port and the ID, and even then the real answer is not lost.
pub(crate) async fn udp(
    server: SocketAddr,
    query: &Query,
    deadline: Instant,
) -> Result<Message, ResolveError> {
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local).await.map_err(ResolveError::Io)?;
    socket.connect(server).await.map_err(ResolveError::Io)?;
    socket
        .send(&query.encode())
        .await
        .map_err(ResolveError::Io)?;
    let mut buffer = vec![0u8; MAX_MESSAGE];
    loop {
        let received = match timeout_at(deadline, socket.recv(&mut buffer)).await {
            Err(_elapsed) => return Err(ResolveError::Timeout),
            Ok(Err(error)) => return Err(ResolveError::Io(error)),
            Ok(Ok(received)) => received,
        };
        let Some(datagram) = buffer.get(..received) else {
            continue;
        };
        let Ok(message) = Message::parse(datagram) else {
            continue;
        };
        if message.check_answers(query).is_ok() {
            return Ok(message);
        }
    }
}

/// Sends `query` to `server` over TCP (two-octet length prefix, RFC 1035 section 4.2.2) and
/// reads one answer, all before `deadline`. An answer that does not parse or does not answer
/// the query is an error here: on a connection we opened, nobody else can inject one.
pub(crate) async fn tcp(
    server: SocketAddr,
    query: &Query,
    deadline: Instant,
) -> Result<Message, ResolveError> {
    let exchange = async {
        let mut stream = TcpStream::connect(server).await?;
        let wire = query.encode();
        let length = u16::try_from(wire.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "query too long"))?;
        let mut framed = Vec::with_capacity(wire.len() + 2);
        framed.extend_from_slice(&length.to_be_bytes());
        framed.extend_from_slice(&wire);
        stream.write_all(&framed).await?;
        let mut prefix = [0u8; 2];
        stream.read_exact(&mut prefix).await?;
        let mut answer = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
        stream.read_exact(&mut answer).await?;
        Ok::<Vec<u8>, io::Error>(answer)
    };
    let answer = match timeout_at(deadline, exchange).await {
        Err(_elapsed) => return Err(ResolveError::Timeout),
        Ok(Err(error)) => return Err(ResolveError::Io(error)),
        Ok(Ok(answer)) => answer,
    };
    debug_assert!(answer.len() <= MAX_MESSAGE);
    let message = Message::parse(&answer).map_err(|_| ResolveError::BadAnswer)?;
    message
        .check_answers(query)
        .map_err(|_| ResolveError::BadAnswer)?;
    Ok(message)
}
