//! The sample sessions of RFC 3501 and RFC 9051 (section 8 of each), read from the codec's
//! transcripts (`tests/transcripts/rfc3501-8.txt`, `rfc9051-8.txt`), and the normalisation
//! that compares what our server sends with what the RFC shows, modulo what the RFC leaves
//! to the server.
//!
//! # What the RFCs leave free, and how it is normalised
//!
//! | freedom | where the RFCs say so | normalisation |
//! |---|---|---|
//! | the human-readable text of a status response or continuation request | RFC 3501 / RFC 9051 section 7.1 (`resp-text`) | dropped |
//! | a `CAPABILITY` response code where the sample has none (greeting, tagged `OK` of a login) | RFC 3501 section 7.1, RFC 9051 sections 6.2.3 and 7.1 | accepted |
//! | the order of capabilities, and capabilities beyond those of the sample (extensions the server offers) | RFC 3501 section 7.2.1 | compared as sets, ours a superset |
//! | the order of the untagged responses of one command (SELECT's `FLAGS`, `EXISTS`, `OK [UIDVALIDITY]`) | RFC 3501 section 6.3.1, RFC 9051 section 6.3.2 | compared as multisets; the tagged completion must match and come last |
//! | untagged `OK [UIDNEXT n]`, `OK [PERMANENTFLAGS (...)]`, `OK [HIGHESTMODSEQ n]`, `OK [NOMODSEQ]` after SELECT, which the samples leave out | RFC 3501 section 6.3.1 (UIDNEXT and PERMANENTFLAGS are required there), RFC 9051 section 6.3.2, RFC 7162 section 3.1.2.1 | accepted as extras |
//! | `RFC822.SIZE`: the samples' 4286 does not match their own message (342 octets of header, a 3028-octet body) | RFC 3501 / RFC 9051 section 8 | the number is dropped |
//! | RFC 9051's ENVELOPE message-id `<B27397-0100000@cac.washington.ed>` misses the `u` of its own `Message-Id:` header | RFC 9051 section 8 | read as `...washington.edu>` |
//! | `AUTH=` capabilities before TLS: RFC 9051's greeting lists `AUTH=SCRAM-SHA-256` beside `LOGINDISABLED`; our server offers no mechanism until TLS unless configured to (`ServerConfig::allow_plaintext_auth`) | RFC 9051 sections 6.2.1 and 11.1 | the sample's `AUTH=` entries are not required where ours says `LOGINDISABLED` |
//! | the case of a body's transfer encoding (`"7BIT"` in the samples, `"7bit"` from the message helpers, as Dovecot writes it) | RFC 2045 section 6.1: the values are not case sensitive | upper-cased |
//! | the `("OLDNAME" ("inbox"))` of RFC 9051's SELECT LIST: the codec reads `inbox` as INBOX, whose name is case-insensitive, so the server never sees the client's spelling | RFC 9051 section 5.1 | dropped |
//! | a `UID n` item in a FETCH response where the sample has none: under IMAP4rev2 the machine adds UID to the FETCH responses it announces (a flag change after STORE), so that a client can tell which message changed | RFC 9051 section 7.5.2 (FETCH responses may come unsolicited, with any data items) | dropped from ours when the sample's item has none |

use std::collections::BTreeSet;
use std::path::Path;

use imap_proto::Encode;
use imap_proto::framer::{Framed, Framer, FramerConfig};
use imap_proto::response::{Code, Continuation, Greeting, Response, StatusKind};

/// One step of a sample session: a line the client sends, and every byte the server sends
/// after it until the client's next line.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exchange {
    /// The client's line with its CRLF (a command, an AUTHENTICATE response, `DONE`).
    pub(crate) client: Vec<u8>,
    /// The server's bytes.
    pub(crate) server: Vec<u8>,
}

/// A sample session: the greeting and the exchanges.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sample {
    /// The greeting line.
    pub(crate) greeting: Vec<u8>,
    /// The exchanges, in order.
    pub(crate) exchanges: Vec<Exchange>,
}

/// Reads a transcript of the codec's format (`G:`, `S:`, `C:`, `A:`, `D:` lines; `#`
/// comments): each client line starts an exchange.
pub(crate) fn sample(path: &Path) -> Sample {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut sample = Sample::default();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (prefix, rest) = line.split_at(line.len().min(2));
        let content = rest.strip_prefix(' ').unwrap_or(rest);
        let mut bytes = content.as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        match prefix {
            "G:" => sample.greeting = bytes,
            "C:" | "A:" | "D:" => sample.exchanges.push(Exchange {
                client: bytes,
                server: Vec::new(),
            }),
            "S:" => match sample.exchanges.last_mut() {
                Some(exchange) => exchange.server.extend_from_slice(&bytes),
                None => panic!("a response before the first command"),
            },
            other => panic!("{}: unknown prefix {other:?}", path.display()),
        }
    }
    sample
}

/// One response with what the RFCs leave free taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A status response: its tag (`*` untagged), kind and code; the text dropped. A
    /// `CAPABILITY` code is held as a set in `caps`, with `code` `"CAPABILITY"`.
    Status {
        /// The tag, or `*`.
        tag: String,
        /// `OK`, `NO`, ...
        kind: String,
        /// The encoded code, or `None`.
        code: Option<String>,
        /// The capabilities of a `CAPABILITY` code.
        caps: BTreeSet<String>,
    },
    /// `* CAPABILITY ...` or `* ENABLED ...`: the name and the set.
    Caps {
        /// `CAPABILITY` or `ENABLED`.
        name: String,
        /// The capabilities, upper-cased.
        caps: BTreeSet<String>,
    },
    /// A continuation request: base64 data as sent, a text request as `+`.
    Continuation(String),
    /// Other data, as encoded, with `RFC822.SIZE n` replaced by `RFC822.SIZE _`.
    Data(String),
}

impl Item {
    /// Whether `ours` stands for this item of the RFC (`self`), modulo the freedoms above.
    pub(crate) fn admits(&self, ours: &Item) -> bool {
        match (self, ours) {
            (
                Item::Status {
                    tag,
                    kind,
                    code,
                    caps,
                },
                Item::Status {
                    tag: our_tag,
                    kind: our_kind,
                    code: our_code,
                    caps: our_caps,
                },
            ) => {
                let codes = match (code, our_code) {
                    (None, None) => true,
                    (None, Some(ours)) => ours == "CAPABILITY",
                    (Some(a), Some(b)) if a == "CAPABILITY" && b == "CAPABILITY" => {
                        let required = |cap: &&String| {
                            !(cap.starts_with("AUTH=") && our_caps.contains("LOGINDISABLED"))
                        };
                        caps.iter()
                            .filter(required)
                            .all(|cap| our_caps.contains(cap))
                    }
                    (Some(a), Some(b)) => a == b,
                    (Some(_), None) => false,
                };
                tag == our_tag && kind == our_kind && codes
            }
            (Item::Caps { name, caps }, Item::Caps { name: n, caps: c }) => {
                name == n && caps.is_subset(c)
            }
            (Item::Data(rfc), Item::Data(ours)) => {
                rfc == ours || (!rfc.contains(" UID ") && *rfc == without_uid(ours))
            }
            _ => self == ours,
        }
    }

    /// Whether we may send this item where the RFC sample has nothing.
    pub(crate) fn is_free_extra(&self) -> bool {
        match self {
            Item::Status {
                tag, kind, code, ..
            } => {
                tag == "*"
                    && kind == "OK"
                    && code.as_deref().is_some_and(|c| {
                        ["UIDNEXT ", "PERMANENTFLAGS ", "HIGHESTMODSEQ "]
                            .iter()
                            .any(|p| c.starts_with(p))
                            || c == "NOMODSEQ"
                    })
            }
            _ => false,
        }
    }
}

fn caps_of<'c>(
    caps: impl Iterator<Item = &'c imap_proto::response::Capability<'c>>,
) -> BTreeSet<String> {
    caps.map(|c| String::from_utf8_lossy(&c.to_bytes()).to_ascii_uppercase())
        .collect()
}

fn encoded(value: &impl Encode) -> String {
    String::from_utf8_lossy(&value.to_bytes()).into_owned()
}

fn status_item(tag: Option<&str>, kind: StatusKind, code: Option<&Code<'_>>) -> Item {
    let (code, caps) = match code {
        Some(Code::Capability(list)) => (Some("CAPABILITY".to_owned()), caps_of(list.iter())),
        Some(code) => (Some(encoded(code)), BTreeSet::new()),
        None => (None, BTreeSet::new()),
    };
    Item::Status {
        tag: tag.unwrap_or("*").to_owned(),
        kind: kind.as_str().to_owned(),
        code,
        caps,
    }
}

/// Replaces the number after `RFC822.SIZE ` with `_`.
fn without_size(text: String) -> String {
    match text.find("RFC822.SIZE ") {
        Some(at) => {
            let start = at + "RFC822.SIZE ".len();
            let end = text[start..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(text.len(), |n| start + n);
            format!("{}_{}", &text[..start], &text[end..])
        }
        None => text,
    }
}

/// A FETCH response's text without its `UID n` item.
fn without_uid(text: &str) -> String {
    let Some(at) = text.find(" UID ").or_else(|| text.find("(UID ")) else {
        return text.to_owned();
    };
    let start = at + " UID ".len();
    let end = text[start..]
        .find(|c: char| !c.is_ascii_digit())
        .map_or(text.len(), |n| start + n);
    if text.as_bytes().get(at) == Some(&b'(') {
        // `(UID n ...`: keep the parenthesis, drop the item and the space after it
        format!("({}", text[end..].trim_start())
    } else {
        format!("{}{}", &text[..at], &text[end..])
    }
}

/// Frames the server's `bytes` (a greeting first when `greeting`) and normalises each
/// response.
pub(crate) fn normalise(bytes: &[u8], mut greeting: bool) -> Vec<Item> {
    let mut framer = Framer::client(FramerConfig::default());
    let mut input = bytes;
    let mut items = Vec::new();
    while let Some(framed) = framer.next_frame(&mut input) {
        let Framed::Message(message) = framed else {
            panic!("server output does not frame: {framed:?}");
        };
        if greeting {
            greeting = false;
            let parsed = Greeting::parse(message)
                .unwrap_or_else(|e| panic!("greeting {:?}: {e}", String::from_utf8_lossy(message)));
            let kind = match parsed.kind() {
                imap_proto::response::GreetingKind::Ok => StatusKind::Ok,
                imap_proto::response::GreetingKind::PreAuth => StatusKind::PreAuth,
                imap_proto::response::GreetingKind::Bye => StatusKind::Bye,
            };
            items.push(status_item(None, kind, parsed.code()));
            continue;
        }
        let response = Response::parse(message)
            .unwrap_or_else(|e| panic!("response {:?}: {e}", String::from_utf8_lossy(message)));
        items.push(match &response {
            Response::Status(status) => status_item(
                status.tag().map(|t| t.as_str()),
                status.kind(),
                status.code(),
            ),
            Response::Data(imap_proto::response::Data::Capability(list)) => Item::Caps {
                name: "CAPABILITY".into(),
                caps: caps_of(list.iter()),
            },
            Response::Data(imap_proto::response::Data::Enabled(list)) => Item::Caps {
                name: "ENABLED".into(),
                caps: caps_of(list.iter()),
            },
            Response::Data(data) => {
                let mut text = without_size(encoded(data))
                    .replace("cac.washington.ed>", "cac.washington.edu>")
                    .replace(" (\"OLDNAME\" (INBOX))", "");
                for encoding in ["7bit", "8bit", "binary", "base64", "quoted-printable"] {
                    let quoted = format!("\"{encoding}\"");
                    text = text.replace(&quoted, &quoted.to_ascii_uppercase());
                }
                Item::Data(text)
            }
            Response::Continuation(Continuation::Text(_)) => Item::Continuation("+".into()),
            Response::Continuation(other) => Item::Continuation(encoded(other)),
        });
    }
    assert!(
        input.is_empty(),
        "server output ends inside a response: {input:?}"
    );
    items
}

/// Checks that `ours` answers one exchange as `rfc` does, modulo the freedoms above: the
/// last items (the completion) match, every other item of the RFC is admitted by one of
/// ours, and what is left of ours is a free extra.
pub(crate) fn assert_equivalent(what: &str, rfc: &[Item], ours: &[Item]) {
    let context = || format!("{what}\n  RFC:  {rfc:?}\n  ours: {ours:?}");
    match (rfc.split_last(), ours.split_last()) {
        (None, None) => {}
        (Some((rfc_last, rfc_rest)), Some((our_last, our_rest))) => {
            assert!(
                rfc_last.admits(our_last),
                "the completions differ: {}",
                context()
            );
            let mut left: Vec<&Item> = our_rest.iter().collect();
            for item in rfc_rest {
                let at = left
                    .iter()
                    .position(|ours| item.admits(ours))
                    .unwrap_or_else(|| panic!("{item:?} is missing: {}", context()));
                left.remove(at);
            }
            for extra in left {
                assert!(
                    extra.is_free_extra(),
                    "{extra:?} is not in the RFC: {}",
                    context()
                );
            }
        }
        _ => panic!("one side answers nothing: {}", context()),
    }
}
