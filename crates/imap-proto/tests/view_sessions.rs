//! Several sessions on one mailbox, through their views only. The store is a small model in
//! the test: it applies each change and pushes it to every session's view; a session answers
//! its client with data the codec encodes, and the tests read those bytes.
//!
//! Rules exercised: no EXPUNGE while FETCH, STORE or SEARCH by sequence number runs, nor at
//! their completion (RFC 3501 section 7.4.1, RFC 9051 section 7.5.1); a message whose expunge
//! is pending keeps its number and can still be fetched (RFC 2180 section 4.1); unsolicited
//! FETCH carries UID during UID commands (RFC 9051 section 7.5.2) and MODSEQ under CONDSTORE
//! (RFC 7162 section 3.2.4); VANISHED under QRESYNC (RFC 7162 section 3.2.10); a queue past
//! its bound ends the session.

use std::num::{NonZeroU32, NonZeroU64};

use imap_proto::Encode;
use imap_proto::fetch::{MessageDataItem, MsgAtt};
use imap_proto::flag::{Flag, FlagFetch};
use imap_proto::response::Data;
use imap_proto::sequence::SequenceSet;
use imap_proto::view::{
    Announce, AnnounceOptions, Change, MailboxView, ResolveError, Snapshot, ViewConfig, ViewError,
};

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

struct Message {
    uid: u32,
    flags: Vec<Flag<'static>>,
    modseq: u64,
    expunged: bool,
}

/// One client's session: its view, what it enabled, and what it has sent the client.
struct Session {
    view: MailboxView,
    condstore: bool,
    qresync: bool,
    /// The result of the last push to this view.
    last_push: Result<(), ViewError>,
}

/// The mailbox every session has selected. Expunged messages stay as tombstones, so that a
/// session can still answer a FETCH of one its client has not been told is gone (RFC 2180
/// section 4.1.1).
struct Store {
    messages: Vec<Message>,
    uid_next: u32,
    modseq: u64,
    sessions: Vec<Session>,
}

fn encode(data: &[Data<'static>]) -> String {
    data.iter()
        .map(|d| String::from_utf8(d.to_bytes()).unwrap())
        .collect()
}

impl Store {
    fn new(count: u32) -> Store {
        Store {
            messages: (1..=count)
                .map(|uid| Message {
                    uid,
                    flags: vec![],
                    modseq: 1,
                    expunged: false,
                })
                .collect(),
            uid_next: count + 1,
            modseq: 1,
            sessions: Vec::new(),
        }
    }

    /// SELECT: a new session with a view of the mailbox as it is.
    fn select(&mut self, condstore: bool, qresync: bool, max_pending: usize) -> usize {
        let snapshot = Snapshot {
            uid_validity: nz(1234),
            uid_next: nz(self.uid_next),
            highest_modseq: NonZeroU64::new(self.modseq),
            uids: self
                .messages
                .iter()
                .filter(|m| !m.expunged)
                .map(|m| nz(m.uid))
                .collect(),
        };
        let config = ViewConfig::with_max_pending(max_pending);
        self.sessions.push(Session {
            view: MailboxView::new(snapshot, config).unwrap(),
            condstore,
            qresync,
            last_push: Ok(()),
        });
        self.sessions.len() - 1
    }

    fn broadcast(&mut self, change: Change) {
        for session in &mut self.sessions {
            session.last_push = session.view.push(change.clone());
        }
    }

    /// A new message is delivered.
    fn deliver(&mut self) -> u32 {
        let uid = self.uid_next;
        self.uid_next += 1;
        self.modseq += 1;
        self.messages.push(Message {
            uid,
            flags: vec![],
            modseq: self.modseq,
            expunged: false,
        });
        self.broadcast(Change::Added {
            uid: nz(uid),
            flags: vec![],
            modseq: NonZeroU64::new(self.modseq),
        });
        uid
    }

    fn set_flags(&mut self, uid: u32, flags: Vec<Flag<'static>>) {
        self.modseq += 1;
        let modseq = self.modseq;
        let m = self.messages.iter_mut().find(|m| m.uid == uid).unwrap();
        m.flags = flags.clone();
        m.modseq = modseq;
        self.broadcast(Change::Flags {
            uid: nz(uid),
            flags,
            modseq: NonZeroU64::new(modseq),
        });
    }

    fn expunge(&mut self, uid: u32) {
        self.modseq += 1;
        let m = self.messages.iter_mut().find(|m| m.uid == uid).unwrap();
        m.expunged = true;
        self.broadcast(Change::Expunged {
            uid: nz(uid),
            modseq: NonZeroU64::new(self.modseq),
        });
    }

    /// `FETCH set (FLAGS)` in session `s` (`UID FETCH` with `by_uid`): the answers, then what
    /// may be announced at completion.
    fn fetch_flags(&mut self, s: usize, set: &str, by_uid: bool) -> Result<String, ResolveError> {
        let set: SequenceSet = set.parse().unwrap();
        let session = &mut self.sessions[s];
        let messages = session.view.resolve(&set, by_uid, None)?;
        let mut out = Vec::new();
        for (seq, uid) in messages {
            let m = self.messages.iter().find(|m| m.uid == uid.get()).unwrap();
            let mut items = MsgAtt::new();
            items.push(MessageDataItem::Flags(
                m.flags.iter().cloned().map(FlagFetch::Flag).collect(),
            ));
            if by_uid {
                items.push(MessageDataItem::Uid(uid));
            }
            out.push(Data::Fetch { seq, items });
        }
        let allow = if by_uid {
            Announce::All
        } else {
            Announce::NoExpunge
        };
        session.announce_into(allow, by_uid, &mut out);
        Ok(encode(&out))
    }

    /// NOOP, or the wake-up of IDLE, in session `s`.
    fn noop(&mut self, s: usize) -> String {
        let mut out = Vec::new();
        self.sessions[s].announce_into(Announce::All, false, &mut out);
        encode(&out)
    }
}

impl Session {
    fn announce_into(&mut self, allow: Announce, uid: bool, out: &mut Vec<Data<'static>>) {
        let opts = AnnounceOptions {
            condstore: self.condstore,
            qresync: self.qresync,
            uid,
        };
        self.view.announce(allow, opts, out);
    }
}

/// Session A expunges a message while session B fetches by sequence number: B's client hears
/// nothing of it until a command that allows EXPUNGE completes, and its numbers stay valid
/// meanwhile.
#[test]
fn expunge_while_another_session_fetches_by_sequence_number() {
    let mut store = Store::new(5);
    let a = store.select(false, false, 64);
    let b = store.select(false, false, 64);

    // A: STORE 3 +FLAGS (\Deleted), then EXPUNGE. A answers its own STORE itself.
    store.set_flags(3, vec![Flag::Deleted]);
    store.sessions[a].view.flags_sent(nz(3));
    store.expunge(3);
    assert_eq!(store.noop(a), "* 3 EXPUNGE\r\n");

    // B: FETCH 1:5 (FLAGS) still sees five messages, number 3 included; nothing is said of
    // the expunge, not even at the completion.
    assert_eq!(
        store.fetch_flags(b, "1:5", false).unwrap(),
        "* 1 FETCH (FLAGS ())\r\n* 2 FETCH (FLAGS ())\r\n\
         * 3 FETCH (FLAGS (\\Deleted))\r\n* 4 FETCH (FLAGS ())\r\n* 5 FETCH (FLAGS ())\r\n"
    );
    assert!(store.sessions[b].view.is_expunged(nz(3)));
    // A second FETCH by number: 4 is still UID 4.
    assert_eq!(
        store.fetch_flags(b, "4", false).unwrap(),
        "* 4 FETCH (FLAGS ())\r\n"
    );
    // B's NOOP: now the client hears it, and the numbers move.
    assert_eq!(store.noop(b), "* 3 EXPUNGE\r\n");
    assert_eq!(
        store.fetch_flags(b, "3", false).unwrap(),
        "* 3 FETCH (FLAGS ())\r\n"
    );
    assert_eq!(store.sessions[b].view.uid(nz(3)), Some(nz(4)));
    assert_eq!(
        store.fetch_flags(b, "5", false),
        Err(ResolveError::NoSuchMessage)
    );
}

/// A UID FETCH may announce the expunge (RFC 9051 section 7.5.1 restricts only the forms by
/// sequence number), and a pending expunge does not hide the message from UID FETCH.
#[test]
fn uid_fetch_addresses_a_pending_expunge_and_may_announce_it() {
    let mut store = Store::new(3);
    let b = store.select(false, false, 64);
    store.expunge(2);
    assert_eq!(
        store.fetch_flags(b, "2", true).unwrap(),
        "* 2 FETCH (FLAGS () UID 2)\r\n* 2 EXPUNGE\r\n"
    );
    assert_eq!(store.fetch_flags(b, "2", true).unwrap(), "");
}

/// Flags changed in A reach B: as FETCH FLAGS in B's IDLE, with MODSEQ under CONDSTORE, with
/// UID during a UID command; several changes of one message are one FETCH.
#[test]
fn flags_changed_in_one_session_reach_another() {
    let mut store = Store::new(4);
    let a = store.select(false, false, 64);
    let b = store.select(false, false, 64);
    let c = store.select(true, false, 64);

    store.set_flags(2, vec![Flag::Seen]);
    store.set_flags(2, vec![Flag::Seen, Flag::Flagged]);
    store.set_flags(4, vec![Flag::Answered]);
    store.sessions[a].view.flags_sent(nz(2));
    store.sessions[a].view.flags_sent(nz(4));
    assert_eq!(store.noop(a), "");

    // B idles: woken, it hears each message once, with its flags as they are now.
    assert_eq!(
        store.noop(b),
        "* 2 FETCH (FLAGS (\\Seen \\Flagged))\r\n* 4 FETCH (FLAGS (\\Answered))\r\n"
    );
    // C enabled CONDSTORE and is running UID FETCH 1 (FLAGS).
    assert_eq!(
        store.fetch_flags(c, "1", true).unwrap(),
        "* 1 FETCH (FLAGS () UID 1)\r\n\
         * 2 FETCH (FLAGS (\\Seen \\Flagged) UID 2 MODSEQ (3))\r\n\
         * 4 FETCH (FLAGS (\\Answered) UID 4 MODSEQ (4))\r\n"
    );
    assert_eq!(store.sessions[c].view.highest_modseq(), NonZeroU64::new(4));
}

/// New messages become EXISTS, also during FETCH by sequence number; a message delivered and
/// expunged before the client could hear of it is never counted.
#[test]
fn new_messages_become_exists() {
    let mut store = Store::new(2);
    let b = store.select(false, false, 64);
    let c = store.select(false, false, 64);
    store.deliver();
    store.deliver();
    assert_eq!(store.noop(b), "* 4 EXISTS\r\n");
    assert_eq!(store.sessions[b].view.uid_next(), nz(5));
    store.expunge(1);
    let gone = store.deliver();
    store.expunge(gone);
    store.deliver();
    // C, in FETCH 1 (FLAGS): the new messages, not the expunge.
    assert_eq!(
        store.fetch_flags(c, "1", false).unwrap(),
        "* 1 FETCH (FLAGS ())\r\n* 5 EXISTS\r\n"
    );
    assert_eq!(store.noop(c), "* 1 EXPUNGE\r\n");
    assert_eq!(store.noop(b), "* 1 EXPUNGE\r\n* 4 EXISTS\r\n");
    assert_eq!(store.sessions[b].view.uid(nz(4)), Some(nz(6)));
}

/// Under QRESYNC expunges go out as one VANISHED with the UIDs as ranges.
#[test]
fn qresync_gives_vanished() {
    let mut store = Store::new(10);
    let q = store.select(true, true, 64);
    let plain = store.select(false, false, 64);
    for uid in [2, 3, 4, 7, 9] {
        store.expunge(uid);
    }
    assert_eq!(
        store.fetch_flags(q, "1", false).unwrap(),
        "* 1 FETCH (FLAGS ())\r\n"
    );
    assert_eq!(store.noop(q), "* VANISHED 2:4,7,9\r\n");
    assert_eq!(
        store.noop(plain),
        "* 9 EXPUNGE\r\n* 7 EXPUNGE\r\n* 4 EXPUNGE\r\n* 3 EXPUNGE\r\n* 2 EXPUNGE\r\n"
    );
    assert_eq!(store.sessions[q].view.exists(), 5);
    assert_eq!(store.sessions[q].view.highest_modseq(), NonZeroU64::new(6));
}

/// A session that falls behind (a long FETCH by number while the mailbox is emptied) passes
/// its bound: the push says `Overflow`, its queue is dropped, it announces nothing more, and
/// the other sessions go on.
#[test]
fn a_session_that_falls_behind_overflows() {
    let mut store = Store::new(50);
    let slow = store.select(false, false, 8);
    let fast = store.select(false, false, 64);
    for uid in 1..=8 {
        store.expunge(uid);
        assert_eq!(store.sessions[slow].last_push, Ok(()));
    }
    assert_eq!(store.sessions[slow].view.pending(), 8);
    store.expunge(9);
    assert_eq!(store.sessions[slow].last_push, Err(ViewError::Overflow));
    assert!(store.sessions[slow].view.is_overflowed());
    for uid in 10..=50 {
        store.expunge(uid);
        assert_eq!(store.sessions[slow].last_push, Err(ViewError::Overflow));
    }
    assert_eq!(store.sessions[slow].view.pending(), 0);
    assert_eq!(store.noop(slow), "");
    // The other session hears the whole story, highest number first.
    let want: String = (1..=50)
        .rev()
        .map(|n| format!("* {n} EXPUNGE\r\n"))
        .collect();
    assert_eq!(store.noop(fast), want);
    assert_eq!(store.sessions[fast].view.exists(), 0);
}
