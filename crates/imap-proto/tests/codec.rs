//! The tokio-util codecs over tokio's in-memory duplex stream: a server reading commands
//! (literals accepted and refused, bad commands, oversize lines, AUTHENTICATE lines, DONE)
//! and a client reading the greeting and responses, each against raw bytes from the peer.
#![cfg(feature = "tokio")]

use bytes::BytesMut;
use futures_util::{SinkExt, StreamExt};
use imap_proto::codec::{
    ClientCodec, ClientItem, ContinueLiteral, ServerCodec, ServerInput, ServerItem,
};
use imap_proto::command::{AuthenticateData, Command, IdleDone};
use imap_proto::core::LiteralMode;
use imap_proto::encode::{EncodeOptions, Writer};
use imap_proto::framer::{FrameErrorKind, FramerConfig};
use imap_proto::response::{Greeting, Response};
use imap_proto::{Encode, ErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};
use tokio_util::codec::{Decoder, Encoder, Framed};

fn command(bytes: &[u8]) -> Command<'static> {
    Command::parse(bytes).expect("command").into_static()
}

fn response(bytes: &[u8]) -> Response<'static> {
    Response::parse(bytes).expect("response").into_static()
}

/// Read what the server wrote until `n` octets have arrived.
async fn read_n(peer: &mut tokio::io::DuplexStream, n: usize) -> Vec<u8> {
    let mut out = vec![0; n];
    peer.read_exact(&mut out).await.expect("read");
    out
}

#[tokio::test]
async fn server_accepts_a_sync_literal_and_answers() {
    let (server_io, mut client) = duplex(1024);
    let mut server = Framed::new(server_io, ServerCodec::default());
    client.write_all(b"a1 LOGIN {4}\r\n").await.unwrap();
    let Some(Ok(ServerItem::Literal { header, tag })) = server.next().await else {
        panic!("no literal report")
    };
    assert_eq!((header.size, header.mode), (4, LiteralMode::Sync));
    assert_eq!(tag.as_ref().map(|t| t.as_str()), Some("a1"));
    server.codec_mut().accept_literal();
    server.send(&response(b"+ Ready\r\n")).await.unwrap();
    assert_eq!(read_n(&mut client, 9).await, b"+ Ready\r\n");
    client.write_all(b"fred {6+}\r\nsecret\r\n").await.unwrap();
    // The non-synchronising literal is reported too; not deciding accepts it.
    let Some(Ok(ServerItem::Literal { header, .. })) = server.next().await else {
        panic!("no literal report")
    };
    assert_eq!(header.mode, LiteralMode::NonSync);
    let Some(Ok(ServerItem::Command(login))) = server.next().await else {
        panic!("no command")
    };
    assert_eq!(*login, command(b"a1 LOGIN {4}\r\nfred {6+}\r\nsecret\r\n"));
    server
        .send(&response(b"a1 OK LOGIN completed\r\n"))
        .await
        .unwrap();
    assert_eq!(read_n(&mut client, 23).await, b"a1 OK LOGIN completed\r\n");
}

#[tokio::test]
async fn server_refuses_literals_and_reads_on() {
    let (server_io, mut client) = duplex(64);
    let mut server = Framed::new(server_io, ServerCodec::default());
    // A refused synchronising literal: the client sends no data, then its next command.
    client.write_all(b"a1 APPEND INBOX {99}\r\n").await.unwrap();
    let Some(Ok(ServerItem::Literal { tag, .. })) = server.next().await else {
        panic!()
    };
    server.codec_mut().refuse_literal();
    let tag = tag.expect("tag");
    assert_eq!(tag.as_str(), "a1");
    // A refused non-synchronising literal whose data is a command: skipped, never read as one.
    let writer = tokio::spawn(async move {
        client
            .write_all(b"a2 NOOP\r\na3 APPEND INBOX {20+}\r\na9 DELETE INBOX\r\n...\r\na4 NOOP\r\n")
            .await
            .unwrap();
        client
    });
    let Some(Ok(ServerItem::Command(noop))) = server.next().await else {
        panic!()
    };
    assert_eq!(noop.tag.as_str(), "a2");
    let Some(Ok(ServerItem::Literal { header, .. })) = server.next().await else {
        panic!()
    };
    assert_eq!(header.size, 20);
    server.codec_mut().refuse_literal();
    let Some(Ok(ServerItem::Command(next))) = server.next().await else {
        panic!()
    };
    assert_eq!(*next, command(b"a4 NOOP\r\n"));
    drop(writer.await.unwrap());
    assert!(server.next().await.is_none());
}

#[tokio::test]
async fn server_reports_bad_commands_and_long_lines_with_their_tags() {
    let (server_io, mut client) = duplex(64);
    let config = FramerConfig {
        max_line: 32,
        ..FramerConfig::default()
    };
    let mut server = Framed::new(server_io, ServerCodec::new(config));
    let writer = tokio::spawn(async move {
        client
            .write_all(
                b"a1 FROB\r\na2 SELECT 0123456789012345678901234567890123456789\r\na3 NOOP\r\n",
            )
            .await
            .unwrap();
    });
    let Some(Ok(ServerItem::Invalid(error))) = server.next().await else {
        panic!()
    };
    assert_eq!(
        error.tag.map(|t| t.as_str().to_owned()).as_deref(),
        Some("a1")
    );
    assert_eq!(error.error.offset(), 3);
    let Some(Ok(ServerItem::TooLarge(error))) = server.next().await else {
        panic!()
    };
    assert_eq!(error.kind(), FrameErrorKind::LineTooLong { limit: 32 });
    assert_eq!(error.tag(), Some("a2"));
    let Some(Ok(ServerItem::Command(noop))) = server.next().await else {
        panic!()
    };
    assert_eq!(noop.tag.as_str(), "a3");
    writer.await.unwrap();
}

#[test]
fn server_reads_authenticate_lines_and_done_when_told() {
    let mut codec = ServerCodec::default();
    let mut buf = BytesMut::from(&b"a1 AUTHENTICATE PLAIN\r\nAGZyZWQAc2VjcmV0\r\n*\r\n"[..]);
    assert!(matches!(
        codec.decode(&mut buf).unwrap(),
        Some(ServerItem::Command(_))
    ));
    codec.expect(ServerInput::AuthenticateData);
    assert_eq!(codec.expecting(), ServerInput::AuthenticateData);
    let Some(ServerItem::AuthenticateData(AuthenticateData::Response(data))) =
        codec.decode(&mut buf).unwrap()
    else {
        panic!()
    };
    assert_eq!(data.as_str(), "AGZyZWQAc2VjcmV0");
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        Some(ServerItem::AuthenticateData(AuthenticateData::Cancel))
    );
    codec.expect(ServerInput::IdleDone);
    buf.extend_from_slice(b"NOOP\r\nDONE\r\n");
    assert!(matches!(
        codec.decode(&mut buf).unwrap(),
        Some(ServerItem::InvalidLine(e)) if e.kind() == ErrorKind::Syntax
    ));
    assert_eq!(codec.decode(&mut buf).unwrap(), Some(ServerItem::Done));
    codec.expect(ServerInput::Commands);
    buf.extend_from_slice(b"DONE\r\n");
    assert!(matches!(
        codec.decode(&mut buf).unwrap(),
        Some(ServerItem::Invalid(_))
    ));
    assert!(buf.is_empty());
}

#[test]
fn server_encodes_greetings_and_responses() {
    let mut codec = ServerCodec::default();
    let mut out = BytesMut::new();
    let greeting = Greeting::parse(b"* OK [CAPABILITY IMAP4rev2] ready\r\n").unwrap();
    codec.encode(&greeting, &mut out).unwrap();
    codec
        .encode(&response(b"* 3 EXISTS\r\n"), &mut out)
        .unwrap();
    assert_eq!(
        &out[..],
        b"* OK [CAPABILITY IMAP4rev2] ready\r\n* 3 EXISTS\r\n"
    );
}

#[tokio::test]
async fn client_reads_greeting_then_responses() {
    let (client_io, mut server) = duplex(16);
    let mut client = Framed::new(client_io, ClientCodec::default());
    let writer = tokio::spawn(async move {
        server
            .write_all(
                b"* OK IMAP4rev1 ready\r\n* 1 FETCH (BODY[] {5}\r\nhello)\r\n* FROB (\r\n* 2 EXISTS\r\n",
            )
            .await
            .unwrap();
    });
    let Some(Ok(ClientItem::Greeting(greeting))) = client.next().await else {
        panic!()
    };
    assert_eq!(
        greeting,
        Greeting::parse(b"* OK IMAP4rev1 ready\r\n").unwrap()
    );
    assert!(client.codec().greeted());
    let Some(Ok(ClientItem::Response(fetch))) = client.next().await else {
        panic!()
    };
    assert_eq!(*fetch, response(b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n"));
    // Unknown untagged data is kept, not an error.
    let Some(Ok(ClientItem::Response(unknown))) = client.next().await else {
        panic!()
    };
    assert_eq!(*unknown, response(b"* FROB (\r\n"));
    let Some(Ok(ClientItem::Response(exists))) = client.next().await else {
        panic!()
    };
    assert_eq!(*exists, response(b"* 2 EXISTS\r\n"));
    writer.await.unwrap();
}

#[test]
fn client_reports_an_invalid_response_with_its_bytes() {
    let mut codec = ClientCodec::default();
    let mut buf = BytesMut::from(&b"* OK hi\r\na1 MAYBE\r\na1 OK done\r\n"[..]);
    assert!(matches!(
        codec.decode(&mut buf).unwrap(),
        Some(ClientItem::Greeting(_))
    ));
    let Some(ClientItem::Invalid { error, message }) = codec.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(&message[..], b"a1 MAYBE\r\n");
    assert_eq!(error.offset(), 3);
    assert!(matches!(
        codec.decode(&mut buf).unwrap(),
        Some(ClientItem::Response(_))
    ));
}

#[test]
fn client_skips_a_literal_over_the_limit() {
    let config = FramerConfig {
        max_literal: 4,
        ..FramerConfig::default()
    };
    let mut codec = ClientCodec::new(config);
    let mut buf =
        BytesMut::from(&b"* OK hi\r\n* 1 FETCH (BODY[] {5}\r\nhello)\r\n* 2 EXISTS\r\n"[..]);
    codec.decode(&mut buf).unwrap();
    let Some(ClientItem::TooLarge(e)) = codec.decode(&mut buf).unwrap() else {
        panic!()
    };
    assert!(matches!(
        e.kind(),
        FrameErrorKind::LiteralTooLarge { size: 5, .. }
    ));
    assert_eq!(
        codec.decode(&mut buf).unwrap(),
        Some(ClientItem::Response(Box::new(response(b"* 2 EXISTS\r\n"))))
    );
}

#[tokio::test]
async fn client_sends_chunks_and_waits_for_continuations() {
    let (client_io, server_io) = duplex(1024);
    let mut client = Framed::new(client_io, ClientCodec::default());
    let mut server = Framed::new(server_io, ServerCodec::default());
    let login = command(b"a1 LOGIN {4}\r\nfred {6}\r\nsecret\r\n");
    let mut w = Writer::new(EncodeOptions::default());
    login.encode(&mut w);
    let encoded = w.finish();
    let greeting = Greeting::parse(b"* OK ready\r\n").unwrap();
    server.send(&greeting).await.unwrap();
    assert!(matches!(
        client.next().await,
        Some(Ok(ClientItem::Greeting(_)))
    ));
    let chunks: Vec<_> = encoded.chunks().collect();
    assert_eq!(chunks.len(), 3);
    for chunk in chunks {
        client.send(chunk).await.unwrap();
        if !chunk.wait_for_continuation {
            break;
        }
        // The server sees the literal header, accepts it and asks for the data.
        let Some(Ok(ServerItem::Literal { .. })) = server.next().await else {
            panic!()
        };
        server.codec_mut().accept_literal();
        server.send(&response(b"+ go ahead\r\n")).await.unwrap();
        let Some(Ok(ClientItem::Response(plus))) = client.next().await else {
            panic!()
        };
        assert!(matches!(*plus, Response::Continuation(_)));
    }
    let Some(Ok(ServerItem::Command(got))) = server.next().await else {
        panic!()
    };
    assert_eq!(*got, login);
    // DONE and AUTHENTICATE lines have encoders too.
    client.send(IdleDone).await.unwrap();
    client
        .send(&AuthenticateData::parse(b"*\r\n").unwrap())
        .await
        .unwrap();
    server.codec_mut().expect(ServerInput::IdleDone);
    assert_eq!(server.next().await.unwrap().unwrap(), ServerItem::Done);
    server.codec_mut().expect(ServerInput::AuthenticateData);
    assert_eq!(
        server.next().await.unwrap().unwrap(),
        ServerItem::AuthenticateData(AuthenticateData::Cancel)
    );
}

#[tokio::test]
async fn literal_plus_sends_a_command_whole() {
    let (client_io, server_io) = duplex(1024);
    let mut options = EncodeOptions::default();
    options.literal_plus = imap_proto::encode::LiteralPlus::Plus;
    let mut client = Framed::new(client_io, ClientCodec::default().with_options(options));
    let mut server = Framed::new(server_io, ServerCodec::default());
    let login = command(b"a1 LOGIN {4}\r\nfred {6}\r\nsecret\r\n");
    client.send(&login).await.unwrap();
    let mut literals = 0;
    loop {
        match server.next().await.unwrap().unwrap() {
            ServerItem::Literal { header, .. } => {
                assert_eq!(header.mode, LiteralMode::NonSync);
                literals += 1;
            }
            ServerItem::Command(got) => {
                assert_eq!(got.tag, login.tag);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(literals, 2);
}

#[test]
fn authenticate_and_done_lines_have_no_literals() {
    for input in [ServerInput::AuthenticateData, ServerInput::IdleDone] {
        let mut codec = ServerCodec::default();
        codec.expect(input);
        let mut buf = BytesMut::from(&b"DONE {9}\r\na2 NOOP\r\n"[..]);
        let item = codec.decode(&mut buf).unwrap();
        assert!(
            matches!(item, Some(ServerItem::InvalidLine(_))),
            "{input:?}: {item:?}"
        );
        // Back to commands: the next line is a command, literals are reported again.
        codec.expect(ServerInput::Commands);
        let Some(ServerItem::Command(noop)) = codec.decode(&mut buf).unwrap() else {
            panic!("{input:?}: no command")
        };
        assert_eq!(*noop, command(b"a2 NOOP\r\n"));
        let mut buf = BytesMut::from(&b"a3 LOGIN {4}\r\n"[..]);
        assert!(matches!(
            codec.decode(&mut buf).unwrap(),
            Some(ServerItem::Literal { .. })
        ));
    }
}

#[test]
fn a_literal_after_a_refused_message_has_its_own_tag() {
    let mut codec = ServerCodec::default();
    let mut buf = BytesMut::from(&b"a1 APPEND INBOX {5+}\r\nhello\r\nb2 LOGIN {4}\r\n"[..]);
    let Some(ServerItem::Literal { tag, .. }) = codec.decode(&mut buf).unwrap() else {
        panic!("no literal")
    };
    assert_eq!(tag.as_ref().map(|t| t.as_str()), Some("a1"));
    codec.refuse_literal();
    // The framer skips a1's data and rest, then reports b2's header in the same call.
    let Some(ServerItem::Literal { tag, header }) = codec.decode(&mut buf).unwrap() else {
        panic!("no second literal")
    };
    assert_eq!(header.size, 4);
    assert_eq!(tag.as_ref().map(|t| t.as_str()), Some("b2"));
    assert_eq!(&buf[..], b"b2 LOGIN {4}\r\n");
}

#[tokio::test]
async fn client_codec_waits_for_each_continuation_request() {
    let (client_io, server_io) = duplex(1024);
    let mut client = Framed::new(client_io, ClientCodec::default());
    let mut server = Framed::new(server_io, ServerCodec::default());
    server
        .send(&Greeting::parse(b"* OK hi\r\n").unwrap())
        .await
        .unwrap();
    assert!(matches!(
        client.next().await,
        Some(Ok(ClientItem::Greeting(_)))
    ));
    let login = command(b"a1 LOGIN {4}\r\nfred {6}\r\nsecret\r\n");
    client.send(&login).await.unwrap();
    assert!(client.codec().awaiting_continuation());
    // Nothing else may be written while the command waits.
    let error = client.send(&command(b"a2 NOOP\r\n")).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    // The server holds the command so far: nothing after a header was sent before the `+`.
    for expected in [&b"a1 LOGIN {4}\r\n"[..], b"a1 LOGIN {4}\r\nfred {6}\r\n"] {
        let Some(Ok(ServerItem::Literal { header, .. })) = server.next().await else {
            panic!("no literal header")
        };
        assert_eq!(header.data_offset, expected.len());
        assert_eq!(server.read_buffer().as_ref(), expected);
        server.codec_mut().accept_literal();
        server.send(&response(b"+ go ahead\r\n")).await.unwrap();
        let item = client.next().await.unwrap().unwrap();
        assert!(item.is_continuation(), "{item:?}");
        client.send(ContinueLiteral).await.unwrap();
    }
    assert!(!client.codec().awaiting_continuation());
    let Some(Ok(ServerItem::Command(got))) = server.next().await else {
        panic!("no command")
    };
    assert_eq!(*got, login);
    // Nothing waits now: a continuation without a command is an error.
    let error = client.send(ContinueLiteral).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
}

#[test]
fn a_refused_literal_s_data_is_never_sent() {
    let mut client = ClientCodec::default();
    client
        .decode(&mut BytesMut::from(&b"* OK hi\r\n"[..]))
        .unwrap();
    let append = command(b"a1 APPEND INBOX {17}\r\na2 DELETE INBOX\r\n\r\n");
    let mut wire = BytesMut::new();
    client.encode(&append, &mut wire).unwrap();
    assert_eq!(&wire[..], b"a1 APPEND INBOX {17}\r\n");
    // An untagged response or another command's answer does not end the wait.
    let mut from_server = BytesMut::from(&b"* 3 EXISTS\r\nb9 OK other\r\n"[..]);
    client.decode(&mut from_server).unwrap();
    client.decode(&mut from_server).unwrap();
    assert!(client.awaiting_continuation());
    // The server refuses: the tagged NO drops the rest of the command.
    let mut from_server = BytesMut::from(&b"a1 NO [TOOBIG] no room\r\n"[..]);
    let item = client.decode(&mut from_server).unwrap().unwrap();
    assert!(!item.is_continuation());
    assert!(!client.awaiting_continuation());
    assert!(client.continue_literal(&mut wire).is_err());
    client.encode(&command(b"a3 NOOP\r\n"), &mut wire).unwrap();
    assert_eq!(&wire[..], b"a1 APPEND INBOX {17}\r\na3 NOOP\r\n");
    // A session may drop it by hand too.
    client.encode(&append, &mut wire).unwrap();
    assert!(client.abandon_command());
    assert!(!client.abandon_command());
    client.encode(IdleDone, &mut wire).unwrap();
    assert!(wire.ends_with(b"a1 APPEND INBOX {17}\r\nDONE\r\n"));
}

#[test]
fn server_codec_writes_sync_literals_whatever_the_options() {
    let mut options = EncodeOptions::default();
    options.literal_plus = imap_proto::encode::LiteralPlus::Plus;
    let mut codec = ServerCodec::default().with_options(options);
    let fetch = response(b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n");
    let mut out = BytesMut::new();
    codec.encode(&fetch, &mut out).unwrap();
    assert_eq!(&out[..], b"* 1 FETCH (BODY[] {5}\r\nhello)\r\n");
}
