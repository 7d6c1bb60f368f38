//! `* n RECENT` after a change of the selected mailbox's size (RFC 3501 section 7.3.2),
//! through real server machines on the in-memory store (`tests/support/`): the store makes a
//! new message recent to the first session with the mailbox selected, whose application
//! marks it recent before reporting it. Every scenario runs under the test kit's standard
//! chunkings and asserts the bytes on the wire, in the order Dovecot 2.3 sends them.

mod support;

use std::num::NonZeroU32;

use mail_testkit::Chunking;

use support::corpus;
use support::store::Store;
use support::{World, store_config};

/// A store whose INBOX holds `n` small messages, UIDs 1 to `n`, all recent to the next
/// session that selects it.
fn store_with_recent(n: u32) -> Store {
    let mut store = Store::new();
    for i in 1..=n {
        store
            .append("INBOX", corpus::small(i), Vec::new(), None)
            .unwrap();
    }
    store.set_first_recent("INBOX", NonZeroU32::MIN);
    store
}

fn chunkings() -> Vec<Chunking> {
    Chunking::standard(18)
}

/// `tag APPEND INBOX` of a small message, as a non-synchronising literal.
fn append(tag: &str) -> Vec<u8> {
    let message = corpus::small(99);
    let mut line = format!("{tag} APPEND INBOX {{{}+}}\r\n", message.len()).into_bytes();
    line.extend_from_slice(&message);
    line.extend_from_slice(b"\r\n");
    line
}

fn validity(world: &World, name: &str) -> u32 {
    world.store.folder(name).unwrap().uid_validity.get()
}

#[test]
fn append_expunge_and_move_in_the_selected_mailbox_tell_the_new_recent_count() {
    for chunking in chunkings() {
        let mut world = World::new(store_with_recent(6));
        let a = world.login(None, chunking.clone());
        world.send(a, b"a0 CREATE Trash\r\na1 SELECT INBOX\r\n");
        let selected = world.take(a);
        assert!(
            selected.contains("* 6 EXISTS\r\n* 6 RECENT\r\n"),
            "{chunking:?}: {selected}"
        );
        // B selects INBOX after A: nothing is recent to it.
        let b = world.connect(store_config(), chunking.clone());
        world.send(b, b"b0 LOGIN alice secret\r\nb1 SELECT INBOX\r\n");
        assert!(world.take(b).contains("* 6 EXISTS\r\n* 0 RECENT\r\n"));

        // APPEND while selected: EXISTS, RECENT, then the tagged OK.
        world.send(a, &append("a2"));
        let inbox = validity(&world, "INBOX");
        assert_eq!(
            world.take(a),
            format!("* 7 EXISTS\r\n* 7 RECENT\r\na2 OK [APPENDUID {inbox} 7] APPEND completed\r\n"),
            "{chunking:?}"
        );
        world.send(a, b"a3 FETCH 7 FLAGS\r\n");
        assert_eq!(
            world.take(a),
            "* 7 FETCH (FLAGS (\\Recent))\r\na3 OK FETCH completed\r\n",
            "{chunking:?}"
        );
        // The message is recent to A only: B hears EXISTS, its count (0) is unchanged.
        world.send(b, b"b2 NOOP\r\n");
        assert_eq!(
            world.take(b),
            "* 7 EXISTS\r\nb2 OK NOOP completed\r\n",
            "{chunking:?}"
        );

        // EXPUNGE: the expunges, then the count of the recent messages left.
        world.send(
            a,
            b"a4 STORE 4:7 +FLAGS.SILENT (\\Deleted)\r\na5 EXPUNGE\r\n",
        );
        assert_eq!(
            world.take(a),
            "a4 OK STORE completed\r\n\
             * 7 EXPUNGE\r\n* 6 EXPUNGE\r\n* 5 EXPUNGE\r\n* 4 EXPUNGE\r\n* 3 RECENT\r\n\
             a5 OK EXPUNGE completed\r\n",
            "{chunking:?}"
        );
        // B hears the expunges (the flag changes of expunged messages are dropped).
        world.send(b, b"b3 NOOP\r\n");
        assert_eq!(
            world.take(b),
            "* 7 EXPUNGE\r\n* 6 EXPUNGE\r\n* 5 EXPUNGE\r\n* 4 EXPUNGE\r\nb3 OK NOOP completed\r\n",
            "{chunking:?}"
        );

        // MOVE: COPYUID, the expunge, RECENT.
        world.send(a, b"a6 MOVE 1 Trash\r\n");
        let trash = validity(&world, "Trash");
        assert_eq!(
            world.take(a),
            format!(
                "* OK [COPYUID {trash} 1 1] Moved\r\n* 1 EXPUNGE\r\n* 2 RECENT\r\na6 OK MOVE completed\r\n"
            ),
            "{chunking:?}"
        );
        // Nothing changed since: no RECENT.
        world.send(a, b"a7 NOOP\r\n");
        assert_eq!(world.take(a), "a7 OK NOOP completed\r\n", "{chunking:?}");
    }
}

#[test]
fn another_sessions_append_reaches_idle_with_recent() {
    for chunking in chunkings() {
        let mut world = World::new(store_with_recent(4));
        let a = world.login(None, chunking.clone());
        let b = world.login(Some("INBOX"), chunking.clone());
        world.send(b, b"b1 IDLE\r\n");
        assert_eq!(world.take(b), "+ idling\r\n");
        world.send(a, &append("a1"));
        let inbox = validity(&world, "INBOX");
        assert_eq!(
            world.take(a),
            format!("a1 OK [APPENDUID {inbox} 5] APPEND completed\r\n"),
            "{chunking:?}"
        );
        assert_eq!(
            world.take(b),
            "* 5 EXISTS\r\n* 5 RECENT\r\n",
            "{chunking:?}"
        );
        world.send(b, b"DONE\r\n");
        assert_eq!(world.take(b), "b1 OK IDLE terminated\r\n");
        // A session selecting INBOX now finds no message recent.
        let c = world.login(None, chunking.clone());
        world.send(c, b"c1 EXAMINE INBOX\r\n");
        assert!(world.take(c).contains("* 5 EXISTS\r\n* 0 RECENT\r\n"));
    }
}

#[test]
fn an_imap4rev2_session_hears_no_recent() {
    for chunking in chunkings() {
        let mut world = World::new(store_with_recent(6));
        let mut config = store_config();
        config.imap4rev2 = true;
        let a = world.connect(config, chunking.clone());
        world.send(
            a,
            b"a0 LOGIN alice secret\r\na1 ENABLE IMAP4rev2\r\na2 SELECT INBOX\r\n",
        );
        let selected = world.take(a);
        assert!(selected.contains("* 6 EXISTS\r\n"), "{selected}");
        world.send(a, &append("a3"));
        world.send(
            a,
            b"a4 STORE 6:7 +FLAGS.SILENT (\\Deleted)\r\na5 EXPUNGE\r\n",
        );
        let inbox = validity(&world, "INBOX");
        assert_eq!(
            world.take(a),
            format!(
                "* 7 EXISTS\r\na3 OK [APPENDUID {inbox} 7] APPEND completed\r\n\
                 a4 OK STORE completed\r\n* 7 EXPUNGE\r\n* 6 EXPUNGE\r\na5 OK EXPUNGE completed\r\n"
            ),
            "{chunking:?}"
        );
        assert!(!selected.contains("RECENT"), "{selected}");
    }
}
