//! The envelope record of a queued message: who sent it, to whom, and where each recipient
//! stands, as a small versioned text file.
//!
//! ```text
//! sansmail-queue 1
//! id 1765065600.M12P34Q0R0011223344556677.mx.example
//! arrival 1765065600
//! from <alice@example.com>
//! user alice@example.com
//! size 1234
//! smtputf8 no
//! 8bitmime yes
//! attempts 2
//! next-try 1765069200
//! warned no
//! rcpt<TAB>pending<TAB>bob@example.org<TAB>4.0.0<TAB>mx.example.org<TAB>451 try later
//! rcpt<TAB>delivered<TAB>carol@[192.0.2.7]<TAB>2.0.0<TAB>192.0.2.7<TAB>250 ok
//! ```
//!
//! The first line is the format version; a reader refuses any other (the file is set aside,
//! never misread). The fields come in this order, once each (times in seconds since 1970, up
//! to the end of the year 9999: a larger one is corrupt); `from <>` is the null reverse
//! path of a bounce, and `user -` a message no user submitted (a bounce). A recipient line
//! holds six tab-separated fields: `rcpt`, the state (`pending`, `delivered`, `failed`), the
//! address, the last enhanced status, the last remote MTA and the last diagnostic (any of the
//! last three may be empty). Text from remote servers is stored with control characters as
//! spaces and at most [`MAX_DIAGNOSTIC`] characters, so it can never break the format.

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first line of every envelope file this version writes and reads.
pub const VERSION_LINE: &str = "sansmail-queue 1";

/// The longest diagnostic text kept per recipient, in characters.
pub const MAX_DIAGNOSTIC: usize = 512;

/// The most queued recipients of one message: RCPT beyond it gets `452 4.5.3` (the client
/// sends the rest in another transaction, RFC 5321 section 4.5.3.1.10), and an envelope
/// naming more is corrupt. With the field limits it bounds an envelope file at about 2 MiB.
pub const MAX_RECIPIENTS: usize = 1000;

/// Where a recipient of a queued message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Not delivered yet: tried again at the message's next try.
    Pending,
    /// Accepted by the remote server.
    Delivered,
    /// Failed for good (a permanent refusal, or the queue lifetime passed); the sender has
    /// been sent a delivery status notification (or, for a bounce, the failure was logged).
    Failed,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Delivered => "delivered",
            State::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<State> {
        match s {
            "pending" => Some(State::Pending),
            "delivered" => Some(State::Delivered),
            "failed" => Some(State::Failed),
            _ => None,
        }
    }
}

/// One recipient of a queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The address as the client gave it (`local@domain` or `local@[192.0.2.7]`).
    pub address: String,
    /// Its state.
    pub state: State,
    /// The last enhanced status code (`2.0.0`, `4.0.0`, `5.1.1`), or empty before any attempt.
    pub status: String,
    /// The remote MTA of the last attempt, or empty.
    pub remote: String,
    /// The last diagnostic (the remote reply, or why no reply came), or empty.
    pub diagnostic: String,
}

impl Recipient {
    /// A recipient not tried yet.
    pub fn new(address: String) -> Recipient {
        Recipient {
            address,
            state: State::Pending,
            status: String::new(),
            remote: String::new(),
            diagnostic: String::new(),
        }
    }

    /// The domain part: everything after the last `@` (a domain literal keeps its brackets).
    pub fn domain(&self) -> &str {
        self.address
            .rsplit_once('@')
            .map_or("", |(_, domain)| domain)
    }
}

/// The envelope of one queued message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The queue id, also the name of the message and envelope files.
    pub id: String,
    /// When the message was accepted.
    pub arrival: SystemTime,
    /// The reverse path without brackets; empty for the null reverse path (a bounce).
    pub from: String,
    /// The authenticated user who submitted it; `None` for a message the server made itself
    /// (a bounce).
    pub user: Option<String>,
    /// The size of the message file, in octets.
    pub size: u64,
    /// Whether it needs SMTPUTF8 (the client asked for it at MAIL).
    pub smtputf8: bool,
    /// Whether it was declared `BODY=8BITMIME`.
    pub eight_bit: bool,
    /// Delivery attempts made so far.
    pub attempts: u32,
    /// When to try the pending recipients next.
    pub next_try: SystemTime,
    /// Whether the sender has been sent a delay notice.
    pub warned: bool,
    /// The recipients, in the order of RCPT.
    pub recipients: Vec<Recipient>,
}

/// Why an envelope file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// The first line names a format this server does not know.
    #[error("format version line `{0}` is not one this server knows (it reads `{VERSION_LINE}`)")]
    UnknownVersion(String),
    /// A line is missing, out of order or malformed.
    #[error("line {line}: {reason}")]
    Corrupt {
        /// The 1-based line number.
        line: usize,
        /// What was wrong.
        reason: String,
    },
}

/// Seconds since the epoch (0 before it).
pub fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Seconds since the epoch, rounded up: how the record stores times, so that a stored next
/// try is never earlier, and a stored arrival never older, than the real one (a retry or an
/// expiry may come up to a second late, never early).
pub fn unix_ceil(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

/// The latest time a record holds: the last second of the year 9999 (a larger number, which
/// the clock may not even represent, makes the record corrupt).
pub const MAX_TIME: u64 = 253_402_300_799;

/// The time `secs` after the epoch, at most [`MAX_TIME`].
pub fn from_unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.min(MAX_TIME))
}

/// `t` plus `d`, at most [`MAX_TIME`] (never an overflow, whatever the flags say).
pub fn later(t: SystemTime, d: Duration) -> SystemTime {
    let max = from_unix(MAX_TIME);
    t.checked_add(d).map_or(max, |t| t.min(max))
}

/// `text` as one field of a record: control characters (tab, CR, LF...) as spaces, at most
/// [`MAX_DIAGNOSTIC`] characters.
pub fn clean(text: &str) -> String {
    text.chars()
        .take(MAX_DIAGNOSTIC)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl Envelope {
    /// Whether this message is a bounce (null reverse path): it is never bounced itself.
    pub fn is_bounce(&self) -> bool {
        self.from.is_empty()
    }

    /// The recipients still pending.
    pub fn pending(&self) -> impl Iterator<Item = &Recipient> {
        self.recipients.iter().filter(|r| r.state == State::Pending)
    }

    /// The record as written to disk.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = writeln!(out, "{VERSION_LINE}");
        let _ = writeln!(out, "id {}", self.id);
        let _ = writeln!(out, "arrival {}", unix_ceil(self.arrival));
        let _ = writeln!(out, "from <{}>", self.from);
        let _ = writeln!(out, "user {}", self.user.as_deref().unwrap_or("-"));
        let _ = writeln!(out, "size {}", self.size);
        let _ = writeln!(out, "smtputf8 {}", yes_no(self.smtputf8));
        let _ = writeln!(out, "8bitmime {}", yes_no(self.eight_bit));
        let _ = writeln!(out, "attempts {}", self.attempts);
        let _ = writeln!(out, "next-try {}", unix_ceil(self.next_try));
        let _ = writeln!(out, "warned {}", yes_no(self.warned));
        for r in &self.recipients {
            let _ = writeln!(
                out,
                "rcpt\t{}\t{}\t{}\t{}\t{}",
                r.state.as_str(),
                clean(&r.address),
                clean(&r.status),
                clean(&r.remote),
                clean(&r.diagnostic)
            );
        }
        out
    }

    /// Reads a record written by [`encode`](Self::encode).
    pub fn parse(text: &str) -> Result<Envelope, EnvelopeError> {
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let version = lines.next().map_or("", |(_, l)| l);
        if version != VERSION_LINE {
            return Err(EnvelopeError::UnknownVersion(clean(version)));
        }
        let mut field = |name: &str| -> Result<(usize, String), EnvelopeError> {
            let Some((line, text)) = lines.next() else {
                return Err(EnvelopeError::Corrupt {
                    line: 0,
                    reason: format!("the file ends before `{name}`"),
                });
            };
            match text.strip_prefix(name).and_then(|t| t.strip_prefix(' ')) {
                Some(value) => Ok((line, value.to_owned())),
                None => Err(EnvelopeError::Corrupt {
                    line,
                    reason: format!("expected `{name} ...`"),
                }),
            }
        };
        let corrupt = |line: usize, reason: &str| EnvelopeError::Corrupt {
            line,
            reason: reason.to_owned(),
        };
        let number = |(line, value): (usize, String)| -> Result<u64, EnvelopeError> {
            value
                .parse::<u64>()
                .map_err(|_| corrupt(line, "not a number"))
        };
        let time = |(line, value): (usize, String)| -> Result<SystemTime, EnvelopeError> {
            match value.parse::<u64>() {
                Ok(secs) if secs <= MAX_TIME => Ok(from_unix(secs)),
                Ok(_) => Err(corrupt(line, "a time after the year 9999")),
                Err(_) => Err(corrupt(line, "not a number")),
            }
        };
        let flag = |(line, value): (usize, String)| -> Result<bool, EnvelopeError> {
            match value.as_str() {
                "yes" => Ok(true),
                "no" => Ok(false),
                _ => Err(corrupt(line, "expected yes or no")),
            }
        };
        let (line, id) = field("id")?;
        if !valid_id(&id) {
            return Err(corrupt(line, "not a queue id"));
        }
        let arrival = time(field("arrival")?)?;
        let (line, from) = field("from")?;
        let from = from
            .strip_prefix('<')
            .and_then(|f| f.strip_suffix('>'))
            .ok_or_else(|| corrupt(line, "the reverse path is not in <>"))?
            .to_owned();
        let (_, user) = field("user")?;
        let user = (user != "-").then_some(user);
        let size = number(field("size")?)?;
        let smtputf8 = flag(field("smtputf8")?)?;
        let eight_bit = flag(field("8bitmime")?)?;
        let (line, attempts) = field("attempts")?;
        let attempts = number((line, attempts))?;
        let attempts = u32::try_from(attempts).map_err(|_| corrupt(line, "too many attempts"))?;
        let next_try = time(field("next-try")?)?;
        let warned = flag(field("warned")?)?;
        let mut recipients = Vec::new();
        for (line, text) in lines {
            let parts: Vec<&str> = text.split('\t').collect();
            let [tag, state, address, status, remote, diagnostic] = parts[..] else {
                return Err(corrupt(
                    line,
                    "a recipient line has six tab-separated fields",
                ));
            };
            let state = State::parse(state);
            let (true, Some(state)) = (tag == "rcpt", state) else {
                return Err(corrupt(line, "expected `rcpt` and a state"));
            };
            if !address.contains('@') {
                return Err(corrupt(line, "the recipient has no @"));
            }
            if recipients.len() == MAX_RECIPIENTS {
                return Err(corrupt(line, "too many recipients"));
            }
            recipients.push(Recipient {
                address: address.to_owned(),
                state,
                status: status.to_owned(),
                remote: remote.to_owned(),
                diagnostic: diagnostic.to_owned(),
            });
        }
        if recipients.is_empty() {
            return Err(corrupt(0, "no recipients"));
        }
        Ok(Envelope {
            id,
            arrival,
            from,
            user,
            size,
            smtputf8,
            eight_bit,
            attempts,
            next_try,
            warned,
            recipients,
        })
    }
}

/// Whether `id` can name a queue file: the Maildir-style unique names the store makes
/// (letters, digits, `.`, `-`, `_`, `\`), never empty, `.`-led or with a separator.
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 255
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Envelope {
        Envelope {
            id: "1765065600.M12P34Q0R00112233.mx.example".into(),
            arrival: from_unix(1_765_065_600),
            from: "alice@example.com".into(),
            user: Some("alice@example.com".into()),
            size: 1234,
            smtputf8: false,
            eight_bit: true,
            attempts: 2,
            next_try: from_unix(1_765_069_200),
            warned: false,
            recipients: vec![
                Recipient {
                    address: "bob@example.org".into(),
                    state: State::Pending,
                    status: "4.0.0".into(),
                    remote: "mx.example.org".into(),
                    diagnostic: "451 4.3.0 try\tlater\r\n".into(),
                },
                Recipient::new("carol@[192.0.2.7]".into()),
            ],
        }
    }

    #[test]
    fn round_trip_and_exact_text() {
        let envelope = sample();
        let text = envelope.encode();
        assert_eq!(
            text,
            "sansmail-queue 1\nid 1765065600.M12P34Q0R00112233.mx.example\n\
             arrival 1765065600\nfrom <alice@example.com>\nuser alice@example.com\nsize 1234\n\
             smtputf8 no\n8bitmime yes\nattempts 2\nnext-try 1765069200\nwarned no\n\
             rcpt\tpending\tbob@example.org\t4.0.0\tmx.example.org\t451 4.3.0 try later  \n\
             rcpt\tpending\tcarol@[192.0.2.7]\t\t\t\n"
        );
        let back = Envelope::parse(&text).unwrap();
        assert_eq!(back.recipients[0].diagnostic, "451 4.3.0 try later  ");
        assert_eq!(back.recipients[1], envelope.recipients[1]);
        assert_eq!(back.recipients[1].domain(), "[192.0.2.7]");
        assert_eq!(back.encode(), text);
        // A bounce: null reverse path, no user.
        let bounce = Envelope {
            from: String::new(),
            user: None,
            ..envelope
        };
        let back = Envelope::parse(&bounce.encode()).unwrap();
        assert!(back.is_bounce());
        assert_eq!(back.user, None);
        // Remote text is kept to MAX_DIAGNOSTIC characters.
        let long = clean(&"é".repeat(MAX_DIAGNOSTIC + 10));
        assert_eq!(long.chars().count(), MAX_DIAGNOSTIC);
    }

    #[test]
    fn an_envelope_with_more_than_max_recipients_is_corrupt() {
        let mut envelope = sample();
        envelope.recipients = (0..MAX_RECIPIENTS)
            .map(|i| Recipient::new(format!("u{i}@example.org")))
            .collect();
        let text = envelope.encode();
        assert_eq!(
            Envelope::parse(&text).unwrap().recipients.len(),
            MAX_RECIPIENTS
        );
        let one_more = format!("{text}rcpt\tpending\tlast@example.org\t\t\t\n");
        match Envelope::parse(&one_more) {
            Err(EnvelopeError::Corrupt { line, reason }) => {
                assert_eq!(line, 12 + MAX_RECIPIENTS);
                assert_eq!(reason, "too many recipients");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_versions_and_corruption_are_refused() {
        let text = sample().encode();
        assert_eq!(
            Envelope::parse(&text.replace("sansmail-queue 1", "sansmail-queue 2")),
            Err(EnvelopeError::UnknownVersion("sansmail-queue 2".into()))
        );
        assert!(matches!(
            Envelope::parse(""),
            Err(EnvelopeError::UnknownVersion(_))
        ));
        for (bad, line) in [
            (text.replace("size 1234", "size lots"), 6),
            (text.replace("warned no", "warned maybe"), 11),
            (text.replace("from <alice@example.com>", "from alice"), 4),
            (text.replace("id 1765065600", "id ../../etc"), 2),
            (
                text.replace("rcpt\tpending\tcarol", "rcpt\tgone\tcarol"),
                13,
            ),
            (text.replace("\t\t\t\n", "\n"), 13),
            (text.replace("attempts 2\n", ""), 9),
        ] {
            match Envelope::parse(&bad) {
                Err(EnvelopeError::Corrupt { line: l, .. }) => assert_eq!(l, line, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        // Cut anywhere before the first recipient: an error, never a panic or a partial
        // envelope (the files are replaced whole, so a torn file means damage).
        let first_rcpt = text.find("rcpt").unwrap();
        for cut in 0..=first_rcpt {
            if let Some(prefix) = text.get(..cut) {
                assert!(Envelope::parse(prefix).is_err(), "{prefix:?}");
            }
        }
    }
    #[test]
    fn a_time_beyond_what_the_clock_holds_is_corrupt_not_a_panic() {
        // A crafted or damaged number: `UNIX_EPOCH + u64::MAX seconds` does not exist.
        let text = sample().encode();
        for (bad, line) in [
            (
                text.replace("arrival 1765065600", "arrival 18446744073709551615"),
                3,
            ),
            (
                text.replace("next-try 1765069200", "next-try 18446744073709551615"),
                10,
            ),
        ] {
            match std::panic::catch_unwind(|| Envelope::parse(&bad)) {
                Ok(Err(EnvelopeError::Corrupt { line: l, .. })) => assert_eq!(l, line),
                Ok(other) => panic!("{other:?}"),
                Err(_) => panic!("parsing a time of {bad:?} panics"),
            }
        }
    }
}
