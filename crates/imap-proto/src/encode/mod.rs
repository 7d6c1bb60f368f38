//! The encoding machinery: a [`Writer`] that every type writes itself into, and [`Encoded`],
//! the bytes of one message with the points where a client must wait for a continuation
//! request before sending a synchronising literal.

use crate::core::LiteralMode;

/// Which non-synchronising literals the peer accepts (RFC 7888).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LiteralPlus {
    /// Neither: every literal is synchronising (`{n}`), the default.
    #[default]
    None,
    /// `LITERAL+`: any literal may be sent as `{n+}`.
    Plus,
    /// `LITERAL-`: literals of at most 4096 octets may be sent as `{n+}`.
    Minus,
}

/// Largest literal LITERAL- allows to be non-synchronising (RFC 7888 section 4).
pub const LITERAL_MINUS_MAX: usize = 4096;

/// What the peer has announced or enabled, as far as encoding is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub struct EncodeOptions {
    /// Whether literals may be sent without waiting (`{n+}`): every literal is written
    /// non-synchronising under [`LiteralPlus::Plus`], and under [`LiteralPlus::Minus`] when it
    /// holds at most [`LITERAL_MINUS_MAX`] octets; otherwise synchronising (`{n}`, a wait
    /// point), whatever the value's own [`LiteralMode`]. A server's writer keeps the default
    /// ([`LiteralPlus::None`]) and so never writes `{n+}` (RFC 7888 section 4, RFC 9051 section
    /// 9: non-synchronising literals only go from client to server).
    pub literal_plus: LiteralPlus,
    /// UTF8=ACCEPT is enabled or IMAP4rev2 is in use: quoted strings may carry UTF-8, so the
    /// encoder need not fall back to a literal for non-ASCII text.
    pub utf8: bool,
}

/// Types that have a wire form.
pub trait Encode {
    /// Write the wire form into `w`.
    fn encode(&self, w: &mut Writer);

    /// The wire form with default options.
    fn encoded(&self) -> Encoded {
        let mut w = Writer::new(EncodeOptions::default());
        self.encode(&mut w);
        w.finish()
    }

    /// The wire form as bytes with default options (a client sending it must still wait at
    /// the points [`Encoded::chunks`] gives).
    fn to_bytes(&self) -> Vec<u8> {
        self.encoded().into_bytes()
    }
}

/// Collects the wire form of a message.
#[derive(Debug, Clone, Default)]
pub struct Writer {
    buf: Vec<u8>,
    waits: Vec<usize>,
    options: EncodeOptions,
}

impl Writer {
    /// An empty writer.
    pub fn new(options: EncodeOptions) -> Self {
        Self {
            buf: Vec::new(),
            waits: Vec::new(),
            options,
        }
    }

    /// A writer that appends to `buf` (whose contents are kept), so that a caller can reuse
    /// one buffer for many messages.
    pub fn with_buffer(buf: Vec<u8>, options: EncodeOptions) -> Self {
        Self {
            buf,
            waits: Vec::new(),
            options,
        }
    }

    /// The options in force.
    pub fn options(&self) -> EncodeOptions {
        self.options
    }

    /// Append raw bytes. The caller is responsible for their validity.
    pub fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// Append one byte.
    pub fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// Append `SP`.
    pub fn sp(&mut self) {
        self.buf.push(b' ');
    }

    /// Append `CRLF`.
    pub fn crlf(&mut self) {
        self.buf.extend_from_slice(b"\r\n");
    }

    /// Append a decimal number.
    pub fn number(&mut self, n: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        let mut n = n;
        loop {
            i -= 1;
            tmp[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        self.buf.extend_from_slice(&tmp[i..]);
    }

    /// Append a literal: its header (`{n}`, `{n+}`, `~{n}`, `~{n+}`), CRLF, and the data.
    /// For a synchronising literal the point after the header's CRLF is recorded as a place
    /// where a client must wait for a continuation request. The form follows
    /// [`EncodeOptions::literal_plus`] alone (RFC 7888 sections 4-5): the value's own mode
    /// (what some peer sent) is no permission to send `{n+}` to this peer, so `_mode` is not
    /// looked at.
    pub fn literal(&mut self, data: &[u8], _mode: LiteralMode, binary: bool) {
        let mode = match self.options.literal_plus {
            LiteralPlus::Plus => LiteralMode::NonSync,
            LiteralPlus::Minus if data.len() <= LITERAL_MINUS_MAX => LiteralMode::NonSync,
            _ => LiteralMode::Sync,
        };
        if binary {
            self.buf.push(b'~');
        }
        self.buf.push(b'{');
        self.number(data.len() as u64);
        if mode == LiteralMode::NonSync {
            self.buf.push(b'+');
        }
        self.buf.extend_from_slice(b"}\r\n");
        if mode == LiteralMode::Sync {
            self.waits.push(self.buf.len());
        }
        self.buf.extend_from_slice(data);
    }

    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.buf.len()
    }

    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// The message written.
    pub fn finish(self) -> Encoded {
        Encoded {
            bytes: self.buf,
            waits: self.waits,
        }
    }
}

/// The wire form of one message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Encoded {
    bytes: Vec<u8>,
    waits: Vec<usize>,
}

/// A piece of an [`Encoded`] message to send in one go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'e> {
    /// The bytes to send.
    pub bytes: &'e [u8],
    /// After sending them, wait for the server's continuation request (`+ ...`) before
    /// sending the next chunk: the chunk ends with a synchronising literal's header.
    pub wait_for_continuation: bool,
}

impl Encoded {
    /// All the bytes, literal data included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// All the bytes, literal data included.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// Offsets after each synchronising literal header, where a client must wait.
    pub fn wait_points(&self) -> &[usize] {
        &self.waits
    }

    /// The message in the pieces a client sends between continuation requests.
    pub fn chunks(&self) -> impl Iterator<Item = Chunk<'_>> + '_ {
        let mut start = 0;
        let mut waits = self.waits.iter();
        let mut done = false;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            match waits.next() {
                Some(&w) => {
                    let bytes = self.bytes.get(start..w).unwrap_or(&[]);
                    start = w;
                    Some(Chunk {
                        bytes,
                        wait_for_continuation: true,
                    })
                }
                None => {
                    done = true;
                    let bytes = self.bytes.get(start..).unwrap_or(&[]);
                    (!bytes.is_empty()).then_some(Chunk {
                        bytes,
                        wait_for_continuation: false,
                    })
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_mark_wait_points() {
        // default options: the value's NonSync mode does not make `{n+}` (review fix)
        let mut w = Writer::new(EncodeOptions::default());
        w.raw(b"A1 LOGIN ");
        w.literal(b"fred", LiteralMode::Sync, false);
        w.sp();
        w.literal(b"pw", LiteralMode::NonSync, false);
        w.crlf();
        let e = w.finish();
        assert_eq!(e.as_bytes(), b"A1 LOGIN {4}\r\nfred {2}\r\npw\r\n");
        let chunks: Vec<_> = e.chunks().collect();
        assert_eq!(chunks.len(), 3);
        assert_eq!(chunks[0].bytes, b"A1 LOGIN {4}\r\n");
        assert!(chunks[0].wait_for_continuation);
        assert_eq!(chunks[1].bytes, b"fred {2}\r\n");
        assert!(chunks[1].wait_for_continuation);
        assert_eq!(chunks[2].bytes, b"pw\r\n");
        assert!(!chunks[2].wait_for_continuation);
        // LITERAL+: every literal is `{n+}`, whatever the value's mode
        let mut w = Writer::new(EncodeOptions {
            literal_plus: LiteralPlus::Plus,
            utf8: false,
        });
        w.literal(b"fred", LiteralMode::Sync, false);
        w.literal(b"pw", LiteralMode::NonSync, false);
        let e = w.finish();
        assert_eq!(e.as_bytes(), b"{4+}\r\nfred{2+}\r\npw");
        assert!(e.wait_points().is_empty());
    }

    #[test]
    fn literal_minus_only_up_to_4096() {
        let opts = EncodeOptions {
            literal_plus: LiteralPlus::Minus,
            utf8: false,
        };
        let mut w = Writer::new(opts);
        w.literal(&[b'a'; 4096], LiteralMode::Sync, false);
        w.literal(&[b'a'; 4097], LiteralMode::NonSync, true);
        let e = w.finish();
        assert!(e.as_bytes().starts_with(b"{4096+}\r\n"));
        assert_eq!(e.wait_points().len(), 1);
        assert!(e.as_bytes()[4096 + 9..].starts_with(b"~{4097}\r\n"));
    }

    #[test]
    fn numbers() {
        let mut w = Writer::new(EncodeOptions::default());
        w.number(0);
        w.sp();
        w.number(u64::MAX);
        assert_eq!(w.finish().as_bytes(), b"0 18446744073709551615");
    }
}
