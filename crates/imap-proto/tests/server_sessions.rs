//! Several real server machines on one in-memory store (`tests/support/`): what one session
//! does reaches the others only when the protocol allows, through each session's mailbox
//! view. Every scenario runs under the test kit's standard chunkings and asserts the bytes on
//! the wire.

mod support;

use imap_proto::server::{Event, ServerConfig, SessionError};
use imap_proto::view::ViewConfig;
use mail_testkit::Chunking;

use support::corpus;
use support::store::Store;
use support::{World, plaintext_config};

/// A store whose INBOX holds `n` small messages, UIDs 1 to `n`, none seen.
fn store_with(n: u32) -> Store {
    let mut store = Store::new();
    for i in 1..=n {
        store
            .append("INBOX", corpus::small(i), Vec::new(), None)
            .unwrap();
    }
    store
}

fn chunkings() -> Vec<Chunking> {
    Chunking::standard(18)
}

#[test]
fn an_expunge_in_a_waits_while_b_fetches_by_sequence_number() {
    for chunking in chunkings() {
        let mut world = World::new(store_with(4));
        let a = world.login(Some("INBOX"), chunking.clone());
        let b = world.login(Some("INBOX"), chunking.clone());

        // B's FETCH by sequence number is waiting for the store when A expunges message 2.
        world.hold(b, true);
        world.send(b, b"b1 FETCH 1:4 (FLAGS)\r\n");
        assert_eq!(world.take(b), "");
        world.send(a, b"a1 STORE 2 +FLAGS.SILENT (\\Deleted)\r\na2 EXPUNGE\r\n");
        assert_eq!(
            world.take(a),
            "a1 OK STORE completed\r\n* 2 EXPUNGE\r\na2 OK EXPUNGE completed\r\n",
            "{chunking:?}"
        );
        world.release(b);
        // No EXPUNGE during FETCH (RFC 3501 section 7.4.1): B's numbers stay valid, message 2
        // is reported gone (RFC 2180 section 4.1.2), the flag change it had is not shown.
        assert_eq!(
            world.take(b),
            "* 1 FETCH (FLAGS ())\r\n\
             * 3 FETCH (FLAGS ())\r\n\
             * 4 FETCH (FLAGS ())\r\n\
             b1 NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n",
            "{chunking:?}"
        );

        // Another FETCH by sequence number: still no EXPUNGE, message 2 still numbered 2.
        world.send(b, b"b2 FETCH 3 (UID)\r\n");
        assert_eq!(
            world.take(b),
            "* 3 FETCH (UID 3)\r\nb2 OK FETCH completed\r\n",
            "{chunking:?}"
        );
        // NOOP allows it; then the numbers shift.
        world.send(b, b"b3 NOOP\r\nb4 FETCH 3 (UID)\r\n");
        let out = world.take(b);
        assert!(
            out.starts_with("* 2 EXPUNGE\r\nb3 OK"),
            "{chunking:?}: {out}"
        );
        assert!(
            out.ends_with("* 3 FETCH (UID 4)\r\nb4 OK FETCH completed\r\n"),
            "{chunking:?}: {out}"
        );
    }
}

#[test]
fn an_expunge_before_b_s_fetch_by_sequence_number_is_announced_after_it() {
    for chunking in chunkings() {
        let mut world = World::new(store_with(3));
        let a = world.login(Some("INBOX"), chunking.clone());
        let b = world.login(Some("INBOX"), chunking.clone());
        world.send(a, b"a1 STORE 1 +FLAGS.SILENT (\\Deleted)\r\na2 EXPUNGE\r\n");
        world.take(a);
        // B learns nothing without a command; its FETCH by number still addresses message 1,
        // which the store no longer has.
        assert_eq!(world.take(b), "");
        world.send(b, b"b1 FETCH 1:* (UID)\r\n");
        assert_eq!(
            world.take(b),
            "* 2 FETCH (UID 2)\r\n\
             * 3 FETCH (UID 3)\r\n\
             b1 NO [EXPUNGEISSUED] Some of the requested messages no longer exist\r\n",
            "{chunking:?}"
        );
        // By UID the expunge may be sent (RFC 9051 section 7.5.1): after the FETCH data,
        // which is numbered as the client knows the mailbox until then.
        world.send(b, b"b2 UID FETCH 2 (FLAGS)\r\n");
        assert_eq!(
            world.take(b),
            "* 2 FETCH (UID 2 FLAGS ())\r\n* 1 EXPUNGE\r\nb2 OK FETCH completed\r\n",
            "{chunking:?}"
        );
    }
}

#[test]
fn flags_changed_in_a_reach_b_s_idle() {
    for chunking in chunkings() {
        let mut world = World::new(store_with(3));
        let a = world.login(Some("INBOX"), chunking.clone());
        let b = world.login(Some("INBOX"), chunking.clone());
        world.send(b, b"b1 IDLE\r\n");
        assert_eq!(world.take(b), "+ idling\r\n");
        world.send(a, b"a1 STORE 2 +FLAGS (\\Flagged)\r\n");
        assert_eq!(
            world.take(a),
            "* 2 FETCH (FLAGS (\\Flagged))\r\na1 OK STORE completed\r\n",
            "{chunking:?}"
        );
        // At once, without B sending anything.
        assert_eq!(
            world.take(b),
            "* 2 FETCH (FLAGS (\\Flagged))\r\n",
            "{chunking:?}"
        );
        world.send(b, b"DONE\r\n");
        assert_eq!(world.take(b), "b1 OK IDLE terminated\r\n", "{chunking:?}");
    }
}

#[test]
fn a_message_appended_by_a_reaches_b_s_idle() {
    for chunking in chunkings() {
        let mut world = World::new(store_with(2));
        let a = world.login(None, chunking.clone());
        let b = world.login(Some("INBOX"), chunking.clone());
        world.send(b, b"b1 IDLE\r\n");
        world.take(b);
        let message = corpus::small(3);
        let mut append = format!("a1 APPEND INBOX (\\Seen) {{{}}}\r\n", message.len()).into_bytes();
        // The client waits for the continuation request before the data.
        world.send(a, &append);
        assert_eq!(world.take(a), "+ Ready for literal data\r\n");
        append.clear();
        append.extend_from_slice(&message);
        append.extend_from_slice(b"\r\n");
        world.send(a, &append);
        let validity = world.store.folder("INBOX").unwrap().uid_validity;
        assert_eq!(
            world.take(a),
            format!("a1 OK [APPENDUID {validity} 3] APPEND completed\r\n"),
            "{chunking:?}"
        );
        assert_eq!(world.take(b), "* 3 EXISTS\r\n", "{chunking:?}");
        world.send(b, b"DONE\r\nb2 FETCH 3 (FLAGS BODY.PEEK[])\r\n");
        assert_eq!(
            world.take(b),
            format!(
                "b1 OK IDLE terminated\r\n* 3 FETCH (FLAGS (\\Seen) BODY[] {{{}}}\r\n{})\r\nb2 OK FETCH completed\r\n",
                message.len(),
                String::from_utf8_lossy(&message)
            ),
            "{chunking:?}"
        );
    }
}

#[test]
fn a_view_queue_overflow_ends_b_with_bye_and_bounded_memory() {
    const LIMIT: usize = 8;
    for chunking in chunkings() {
        let mut world = World::new(store_with(40));
        let a = world.login(Some("INBOX"), chunking.clone());
        let mut config = plaintext_config();
        config.view = ViewConfig::with_max_pending(LIMIT);
        let b = world.connect(config, chunking.clone());
        world.send(b, b"b1 LOGIN alice secret\r\nb2 SELECT INBOX\r\n");
        world.take(b);
        // B is idle between commands: every change A makes queues in B's view.
        for n in 1..=40 {
            world.send(
                a,
                format!("a{n} STORE {n} +FLAGS.SILENT (\\Seen)\r\n").as_bytes(),
            );
            let pending = world.conns[b].server.view().map_or(0, |v| v.pending());
            assert!(pending <= LIMIT, "{chunking:?}: {pending} changes queued");
        }
        assert_eq!(
            world.take(b),
            "* BYE [ALERT] Too many changes to the mailbox; reconnect to resynchronise\r\n",
            "{chunking:?}"
        );
        assert!(world.conns[b].server.is_closed());
        let closed: Vec<&Event> = world.conns[b]
            .events
            .iter()
            .filter(|e| matches!(e, Event::Closed(_)))
            .collect();
        assert_eq!(
            closed,
            [&Event::Closed(Err(SessionError::ViewOverflow))],
            "{chunking:?}"
        );
        // A is unaffected.
        world.send(a, b"a99 NOOP\r\n");
        assert!(world.take(a).ends_with("a99 OK NOOP completed\r\n"));
    }
}

#[test]
fn starttls_command_injection_closes_the_session() {
    // Both lines in one read, or the injected one cut after its first octets.
    for chunking in [
        Chunking::Whole,
        Chunking::Cuts(vec![14]),
        Chunking::Cuts(vec![20, 30]),
    ] {
        let mut world = World::default();
        let i = world.connect(ServerConfig::default(), chunking.clone());
        world.take(i);
        // The LOGIN rides in the same read as STARTTLS: it would run inside the TLS session.
        world.send(i, b"a1 STARTTLS\r\na2 LOGIN alice secret\r\n");
        // The OK was queued before the injection was seen; the LOGIN is never answered, and
        // no handshake is started.
        assert_eq!(
            world.take(i),
            "a1 OK Begin TLS negotiation now\r\n",
            "{chunking:?}"
        );
        assert!(
            !world.conns[i].events.contains(&Event::StartTls),
            "{chunking:?}: {:?}",
            world.conns[i].events
        );
        assert!(world.conns[i].server.is_closed(), "{chunking:?}");
        assert!(
            world.conns[i]
                .events
                .contains(&Event::Closed(Err(SessionError::StartTlsInjection))),
            "{chunking:?}: {:?}",
            world.conns[i].events
        );
        assert!(
            !world.conns[i]
                .events
                .iter()
                .any(|e| matches!(e, Event::AuthStep { .. })),
            "{chunking:?}: no credential check"
        );
    }
}

#[test]
fn logindisabled_before_tls_and_login_after_it() {
    for chunking in chunkings() {
        let mut world = World::default();
        let i = world.connect(ServerConfig::default(), chunking.clone());
        let greeting = world.take(i);
        assert!(
            greeting.starts_with("* OK [CAPABILITY IMAP4rev1 "),
            "{greeting}"
        );
        assert!(greeting.contains(" STARTTLS"), "{greeting}");
        assert!(greeting.contains(" LOGINDISABLED"), "{greeting}");
        assert!(!greeting.contains("AUTH="), "{greeting}");
        world.send(i, b"a1 LOGIN alice secret\r\n");
        let out = world.take(i);
        assert!(
            out.starts_with("a1 NO [PRIVACYREQUIRED] "),
            "{chunking:?}: {out}"
        );
        assert!(
            !world.conns[i]
                .events
                .iter()
                .any(|e| matches!(e, Event::AuthStep { .. })),
            "the password is never checked in plaintext"
        );
        world.send(i, b"a2 STARTTLS\r\n");
        assert!(world.take(i).starts_with("a2 OK "));
        world.send(i, b"a3 CAPABILITY\r\n");
        let caps = world.take(i);
        assert!(caps.starts_with("* CAPABILITY IMAP4rev1 "), "{caps}");
        assert!(!caps.contains("LOGINDISABLED"), "{caps}");
        assert!(!caps.contains("STARTTLS"), "{caps}");
        assert!(caps.contains(" AUTH=PLAIN"), "{caps}");
        world.send(i, b"a4 LOGIN alice secret\r\n");
        let out = world.take(i);
        assert!(
            out.starts_with("a4 OK [CAPABILITY IMAP4rev1 "),
            "{chunking:?}: {out}"
        );
    }
}

#[test]
fn append_streams_a_big_literal_in_pieces() {
    const SIZE: usize = 200_000;
    for chunking in [
        Chunking::Whole,
        Chunking::Seeded { seed: 5, max: 4096 },
        Chunking::Sizes(vec![65_536]),
    ] {
        let mut world = World::new(Store::new());
        let mut config = plaintext_config();
        config.append_chunk = 8192;
        let i = world.connect(config, chunking.clone());
        world.send(i, b"L1 LOGIN alice secret\r\n");
        world.take(i);
        let mut message = b"Subject: big\r\n\r\n".to_vec();
        while message.len() < SIZE {
            message.extend_from_slice(
                b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz\r\n",
            );
        }
        let mut command = format!("a1 APPEND INBOX {{{}+}}\r\n", message.len()).into_bytes();
        command.extend_from_slice(&message);
        command.extend_from_slice(b"\r\n");
        world.send(i, &command);
        let out = world.take(i);
        assert!(out.starts_with("a1 OK [APPENDUID "), "{chunking:?}: {out}");
        let pieces: Vec<usize> = world.conns[i]
            .events
            .iter()
            .filter_map(|e| match e {
                Event::AppendData(piece) => Some(piece.len()),
                _ => None,
            })
            .collect();
        assert!(
            pieces.len() >= SIZE / 8192,
            "{chunking:?}: {} pieces",
            pieces.len()
        );
        assert!(
            pieces.iter().all(|&len| (1..=8192).contains(&len)),
            "{chunking:?}: {pieces:?}"
        );
        assert_eq!(pieces.iter().sum::<usize>(), message.len());
        assert_eq!(world.conns[i].app.append_pieces, [pieces.len()]);
        let stored = &world.store.folder("INBOX").unwrap().messages[0].raw;
        assert_eq!(&stored[..], &message[..], "{chunking:?}");
    }
}

#[test]
fn pipelined_commands_are_answered_in_order() {
    for chunking in chunkings() {
        let mut world = World::new(store_with(2));
        let i = world.connect(plaintext_config(), chunking.clone());
        world.take(i);
        world.send(
            i,
            b"p1 LOGIN alice secret\r\n\
              p2 SELECT INBOX\r\n\
              p3 STORE 1 +FLAGS (\\Flagged)\r\n\
              p4 FETCH 1:2 (FLAGS)\r\n\
              p5 SEARCH FLAGGED\r\n\
              p6 LOGOUT\r\n",
        );
        let out = world.take(i);
        let tagged: Vec<&str> = out
            .lines()
            .filter(|l| l.starts_with('p'))
            .map(|l| &l[..2])
            .collect();
        assert_eq!(
            tagged,
            ["p1", "p2", "p3", "p4", "p5", "p6"],
            "{chunking:?}: {out}"
        );
        // Each command sees what the one before it did.
        let tail = out.split_once("p3 OK").unwrap().1;
        assert!(
            tail.contains(
                "\r\n* 1 FETCH (FLAGS (\\Flagged))\r\n* 2 FETCH (FLAGS ())\r\np4 OK FETCH completed\r\n\
                 * SEARCH 1\r\np5 OK SEARCH completed\r\n* BYE "
            ),
            "{chunking:?}: {out}"
        );
        assert!(world.conns[i].server.is_closed());
        assert!(world.conns[i].events.contains(&Event::Closed(Ok(()))));
    }
}

#[test]
fn move_copy_close_and_esearch_reach_the_other_session() {
    for chunking in chunkings() {
        let mut world = World::new(store_with(3));
        let a = world.login(Some("INBOX"), chunking.clone());
        let b = world.login(Some("INBOX"), chunking.clone());
        world.send(
            a,
            b"a0 CREATE Trash\r\n\
              a1 MOVE 2 Trash\r\n\
              a2 COPY 1 Trash\r\n\
              a3 STATUS Trash (MESSAGES UIDNEXT)\r\n\
              a4 LIST \"\" *\r\n\
              a5 UID STORE 3 +FLAGS (\\Deleted)\r\n\
              a6 CLOSE\r\n",
        );
        // MOVE expunges at once (RFC 6851 section 3.3), COPYUID in an untagged OK before
        // (section 4.3); the UIDs map 2 -> 1 and 1 -> 2 in
        // Trash (UIDVALIDITY 3857529046, the store's second mailbox); CLOSE expunges silently.
        assert_eq!(
            world.take(a),
            "a0 OK CREATE completed\r\n\
             * OK [COPYUID 3857529046 2 1] Moved\r\n\
             * 2 EXPUNGE\r\n\
             a1 OK MOVE completed\r\n\
             a2 OK [COPYUID 3857529046 1 2] COPY completed\r\n\
             * STATUS Trash (MESSAGES 2 UIDNEXT 3)\r\n\
             a3 OK STATUS completed\r\n\
             * LIST () \"/\" INBOX\r\n\
             * LIST () \"/\" Trash\r\n\
             a4 OK LIST completed\r\n\
             * 2 FETCH (FLAGS (\\Deleted) UID 3)\r\n\
             a5 OK STORE completed\r\n\
             a6 OK CLOSE completed\r\n",
            "{chunking:?}"
        );
        // B, idle meanwhile, hears both expunges (highest number first) at its NOOP.
        world.send(b, b"b1 NOOP\r\n");
        assert_eq!(
            world.take(b),
            "* 3 EXPUNGE\r\n* 2 EXPUNGE\r\nb1 OK NOOP completed\r\n",
            "{chunking:?}"
        );
        world.send(
            a,
            b"a7 EXAMINE Trash\r\na8 UID SEARCH RETURN (MIN MAX COUNT) ALL\r\n",
        );
        let out = world.take(a);
        assert!(out.contains("* 2 EXISTS\r\n"), "{chunking:?}: {out}");
        assert!(
            out.ends_with(
                "a7 OK [READ-ONLY] EXAMINE completed\r\n\
                 * ESEARCH (TAG \"a8\") UID MIN 1 MAX 2 COUNT 2\r\n\
                 a8 OK SEARCH completed\r\n"
            ),
            "{chunking:?}: {out}"
        );
    }
}

#[test]
fn a_conditional_store_reports_what_another_session_modified() {
    for chunking in chunkings() {
        // Two messages, mod-sequences 2 and 3 (HIGHESTMODSEQ 3).
        let mut world = World::new(store_with(2));
        let mut config = plaintext_config();
        config.capabilities = vec![imap_proto::response::Capability::new("CONDSTORE").unwrap()];
        let a = world.connect(config.clone(), chunking.clone());
        let b = world.connect(config, chunking.clone());
        for i in [a, b] {
            world.send(i, b"L LOGIN alice secret\r\nS SELECT INBOX\r\n");
            assert!(
                world.take(i).contains("* OK [HIGHESTMODSEQ 3] "),
                "{chunking:?}"
            );
        }
        // B changes message 1 (mod-sequence 4) while A is not looking.
        world.send(b, b"b1 STORE 1 +FLAGS.SILENT (\\Answered)\r\n");
        world.take(b);
        world.send(
            a,
            b"a1 STORE 1:2 (UNCHANGEDSINCE 3) +FLAGS (\\Seen)\r\na2 FETCH 1:2 (FLAGS MODSEQ)\r\n",
        );
        // RFC 7162 section 3.1.3: message 1 is left alone and named in MODIFIED; A learns its
        // current flags from B's change; UNCHANGEDSINCE enabled CONDSTORE, so MODSEQ rides along.
        assert_eq!(
            world.take(a),
            "* 1 FETCH (FLAGS (\\Answered) MODSEQ (4))\r\n\
             * 2 FETCH (FLAGS (\\Seen) MODSEQ (5))\r\n\
             a1 OK [MODIFIED 1] Conditional STORE failed\r\n\
             * 1 FETCH (FLAGS (\\Answered) MODSEQ (4))\r\n\
             * 2 FETCH (FLAGS (\\Seen) MODSEQ (5))\r\n\
             a2 OK FETCH completed\r\n",
            "{chunking:?}"
        );
    }
}

#[test]
fn a_saved_search_result_serves_dollar_until_the_mailbox_is_left() {
    for chunking in chunkings() {
        let mut world = World::new(store_with(4));
        let mut config = plaintext_config();
        config.capabilities = ["ESEARCH", "SEARCHRES"]
            .iter()
            .map(|c| imap_proto::response::Capability::new(*c).unwrap())
            .collect();
        let a = world.connect(config, chunking.clone());
        world.send(a, b"L LOGIN alice secret\r\nS SELECT INBOX\r\n");
        world.take(a);
        // RFC 5182 section 2: SAVE keeps 2 and 4; `$` names them in FETCH, STORE, SEARCH.
        world.send(
            a,
            b"a1 SEARCH RETURN (SAVE) 2,4\r\na2 FETCH $ (FLAGS)\r\n\
              a3 STORE $ +FLAGS (\\Seen)\r\na4 UID SEARCH $ SEEN\r\na5 SEARCH NOT $\r\n",
        );
        assert_eq!(
            world.take(a),
            "a1 OK SEARCH completed\r\n\
             * 2 FETCH (FLAGS ())\r\n\
             * 4 FETCH (FLAGS ())\r\n\
             a2 OK FETCH completed\r\n\
             * 2 FETCH (FLAGS (\\Seen))\r\n\
             * 4 FETCH (FLAGS (\\Seen))\r\n\
             a3 OK STORE completed\r\n\
             * SEARCH 2 4\r\n\
             a4 OK SEARCH completed\r\n\
             * SEARCH 1 3\r\n\
             a5 OK SEARCH completed\r\n",
            "{chunking:?}"
        );
        // RFC 5182 section 2.1: a SEARCH ... SAVE that fails empties the result.
        world.send(
            a,
            b"b1 SEARCH RETURN (SAVE) CHARSET KOI8-R ALL\r\nb2 SEARCH $\r\n",
        );
        assert_eq!(
            world.take(a),
            "b1 NO [BADCHARSET (UTF-8 US-ASCII)] charset KOI8-R is not supported (UTF-8 and US-ASCII are)\r\n\
             * SEARCH\r\nb2 OK SEARCH completed\r\n",
            "{chunking:?}"
        );
        world.send(a, b"c1 SEARCH RETURN (SAVE) 3\r\n");
        world.take(a);
        // RFC 5182 section 2.1: leaving the mailbox forgets the result; `$` is then empty.
        world.send(
            a,
            b"a6 UNSELECT\r\na7 SELECT INBOX\r\na8 SEARCH $\r\na9 FETCH $ (FLAGS)\r\n",
        );
        let out = world.take(a);
        assert!(
            out.ends_with(
                "a7 OK [READ-WRITE] SELECT completed\r\n\
                 * SEARCH\r\na8 OK SEARCH completed\r\n\
                 a9 OK FETCH completed\r\n"
            ),
            "{chunking:?}: {out}"
        );
    }
}
