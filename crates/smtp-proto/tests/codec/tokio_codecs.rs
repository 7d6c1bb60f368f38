//! The tokio-util codecs: every limit breached, errors keep the stream in step (commands) or end
//! it (replies), and what they encode.

use std::borrow::Cow;
use std::io;

use bytes::BytesMut;
use smtp_proto::codec::{CommandCodec, LineError, ReplyCodec};
use smtp_proto::{Command, Reply, ReplyCode};
use tokio_util::codec::{Decoder, Encoder};

fn buf(bytes: &[u8]) -> BytesMut {
    BytesMut::from(bytes)
}

#[test]
fn command_codec_line_limit_is_breached_once_and_the_stream_stays_in_step() {
    let mut codec = CommandCodec::new(16);
    // 16 octets with the CRLF: the longest line.
    let mut input = buf(b"NOOP 012345678\r\n");
    assert_eq!(input.len(), 16);
    assert!(matches!(
        codec.decode(&mut input).unwrap(),
        Some(Ok(Command::Noop(_)))
    ));
    // One more octet: reported once, then the next line parses.
    let mut input = buf(b"NOOP 0123456789\r\nQUIT\r\n");
    assert_eq!(
        codec.decode(&mut input).unwrap(),
        Some(Err(LineError::TooLong { limit: 16 }))
    );
    assert_eq!(codec.decode(&mut input).unwrap(), Some(Ok(Command::Quit)));
    assert_eq!(codec.decode(&mut input).unwrap(), None);
    // A raised limit (as while AUTH is possible) takes the same line.
    codec.set_max_line_len(64);
    let mut input = buf(b"NOOP 0123456789\r\n");
    assert!(matches!(
        codec.decode(&mut input).unwrap(),
        Some(Ok(Command::Noop(_)))
    ));
}

#[test]
fn command_codec_refuses_bare_lf_and_a_truncated_last_line() {
    let mut codec = CommandCodec::new(512);
    let mut input = buf(b"NOOP\nQUIT\r\n");
    assert_eq!(
        codec.decode(&mut input).unwrap(),
        Some(Err(LineError::BareLf))
    );
    assert_eq!(codec.decode(&mut input).unwrap(), Some(Ok(Command::Quit)));
    // The connection closes in the middle of a line: an error, not a lost command.
    let mut input = buf(b"QUI");
    assert_eq!(codec.decode(&mut input).unwrap(), None);
    let error = codec.decode_eof(&mut input).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::UnexpectedEof);
    // Closing between lines is the normal end.
    assert_eq!(codec.decode_eof(&mut buf(b"")).unwrap(), None);
}

#[test]
fn command_codec_encodes_replies() {
    let mut codec = CommandCodec::new(512);
    let reply = Reply::new(
        ReplyCode::OK,
        None,
        [
            Cow::Borrowed(&b"mx.example"[..]),
            Cow::Borrowed(&b"PIPELINING"[..]),
        ],
    )
    .unwrap();
    let mut out = BytesMut::new();
    codec.encode(&reply, &mut out).unwrap();
    assert_eq!(&out[..], b"250-mx.example\r\n250 PIPELINING\r\n");
}

#[test]
fn reply_codec_assembles_multi_line_replies_across_reads() {
    let mut codec = ReplyCodec::default();
    let mut input = buf(b"250-mx.example\r\n250-PIPE");
    assert_eq!(codec.decode(&mut input).unwrap(), None);
    input.extend_from_slice(b"LINING\r\n250 SIZE 100\r\n354 go");
    let reply = codec.decode(&mut input).unwrap().unwrap();
    assert_eq!(
        reply.lines().collect::<Vec<_>>(),
        [&b"mx.example"[..], b"PIPELINING", b"SIZE 100"]
    );
    assert_eq!(codec.decode(&mut input).unwrap(), None);
    input.extend_from_slice(b"\r\n");
    assert_eq!(
        codec.decode(&mut input).unwrap().unwrap().code(),
        ReplyCode::START_DATA
    );
}

#[test]
fn reply_codec_limits_end_the_stream() {
    // A line over the limit.
    let mut codec = ReplyCodec::new(16, 3);
    let mut input = buf(b"250 0123456789ab\r\n");
    let error = codec.decode(&mut input).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    assert!(error.to_string().contains("16"), "{error}");
    // The longest line, 16 octets with the CRLF, passes.
    let mut codec = ReplyCodec::new(16, 3);
    let mut input = buf(b"250 0123456789\r\n");
    assert_eq!(input.len(), 16);
    assert_eq!(
        codec.decode(&mut input).unwrap().unwrap().first_line(),
        b"0123456789"
    );
    // Three lines pass, four do not.
    let mut codec = ReplyCodec::new(512, 3);
    let mut input = buf(b"250-a\r\n250-b\r\n250 c\r\n");
    assert_eq!(codec.decode(&mut input).unwrap().unwrap().lines().len(), 3);
    let mut input = buf(b"250-a\r\n250-b\r\n250-c\r\n250 d\r\n");
    let error = codec.decode(&mut input).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    // A bare LF, and a malformed line.
    let mut codec = ReplyCodec::default();
    let error = codec.decode(&mut buf(b"250 ok\n")).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
    let mut codec = ReplyCodec::default();
    let error = codec.decode(&mut buf(b"hello\r\n")).unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidData);
}

#[test]
fn reply_codec_encodes_commands() {
    let mut codec = ReplyCodec::default();
    let mut out = BytesMut::new();
    codec.encode(&Command::Quit, &mut out).unwrap();
    codec
        .encode(&Command::parse(b"RCPT TO:<a@b.example>").unwrap(), &mut out)
        .unwrap();
    assert_eq!(&out[..], b"QUIT\r\nRCPT TO:<a@b.example>\r\n");
}
