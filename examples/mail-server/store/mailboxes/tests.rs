//! The IMAP store against temporary directories: what a session sees (snapshots, metas,
//! bytes, changes) and what is on disk, across restarts and damage.

use std::fs;
use std::num::{NonZeroU32, NonZeroU64};
use std::path::{Path, PathBuf};

use imap_proto::command::StoreKind;
use imap_proto::flag::Flag;
use imap_proto::view::Change;

use super::index::{self, LOG_FILE, SNAPSHOT_FILE};
use super::*;
use crate::accounts::tests::TempDir;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

fn uids(list: &[u32]) -> Vec<NonZeroU32> {
    list.iter().map(|&n| nz(n)).collect()
}

fn alice() -> Address {
    Address::parse("alice@example.com").unwrap()
}

fn open(dir: &Path) -> (Store, Account) {
    let store = Store::open(dir, "mx.example").unwrap();
    let account = store.account(&alice()).unwrap();
    (store, account)
}

fn message(account: &Account, body: &[u8]) -> NewMessage {
    let mut m = account.new_message().unwrap();
    m.write(body).unwrap();
    m
}

fn append(account: &Account, folder: &str, bodies: &[&[u8]]) -> Appended {
    let messages = bodies
        .iter()
        .map(|b| (message(account, b), Vec::new(), None))
        .collect();
    account.append(folder, messages).unwrap()
}

fn keyword(k: &str) -> Flag<'static> {
    Flag::keyword(k.to_owned()).unwrap()
}

/// The files of a folder directory's `new/` and `cur/`, as `sub/name`.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for sub in ["new", "cur"] {
        for e in fs::read_dir(dir.join(sub)).unwrap() {
            out.push(format!(
                "{sub}/{}",
                e.unwrap().file_name().to_str().unwrap()
            ));
        }
    }
    out.sort();
    out
}

fn deliver(store: &Store, body: &[u8]) -> PathBuf {
    let mut d = store.deliver(&[alice()]).unwrap();
    d.write(body).unwrap();
    d.commit().unwrap().remove(0)
}

/// Runs `f` with the log lines it writes (tracing, without colours) captured.
fn logged<T>(f: impl FnOnce() -> T) -> (T, String) {
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    (out, text)
}

#[test]
fn account_has_inbox_and_the_special_use_folders_subscribed() {
    let dir = TempDir::new("imap-special");
    let (_store, account) = open(&dir.0);
    let list = account.list().unwrap();
    let names: Vec<&str> = list.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["INBOX", "Archive", "Drafts", "Junk", "Sent", "Trash"]
    );
    for info in &list[1..] {
        assert!(info.subscribed, "{}", info.name);
        assert_eq!(info.special_use, special_use_of(&info.name));
        assert!(info.special_use.is_some());
    }
    assert_eq!(list[0].special_use, None);
    let maildir = account.maildir().to_owned();
    for name in ["Sent", "Drafts", "Trash", "Junk", "Archive"] {
        for sub in ["tmp", "new", "cur"] {
            assert!(maildir.join(format!(".{name}")).join(sub).is_dir());
        }
    }
    // A user who unsubscribes keeps it so; a deleted one comes back on the next open.
    account.subscribe("Junk", false).unwrap();
    account.delete("Archive").unwrap();
    let (_store, account) = open(&dir.0);
    let subs = account.subscriptions().unwrap();
    assert_eq!(subs, ["Archive", "Drafts", "Sent", "Trash"]);
    assert!(account.list().unwrap().iter().any(|f| f.name == "Archive"));
}

#[test]
fn append_select_fetch_store_expunge_and_every_session_hears() {
    let dir = TempDir::new("imap-common");
    let (_store, account) = open(&dir.0);
    let a = account.select("inbox", false, 100).unwrap();
    assert_eq!(a.name(), "INBOX");
    let first = a.snapshot();
    assert!(first.uids.is_empty());
    assert_eq!(first.uid_next, nz(1));
    let b = account.select("INBOX", false, 100).unwrap();

    let date = index::datetime_from(837_596_665, -420);
    let messages = vec![
        (
            message(&account, b"Subject: one\r\n\r\nbody\r\n"),
            vec![Flag::Seen, keyword("$Forwarded")],
            Some(date),
        ),
        (
            message(&account, b"Subject: two\n\nbare LF\n"),
            vec![],
            None,
        ),
    ];
    let appended = account.append("INBOX", messages).unwrap();
    assert_eq!(appended.uids, uids(&[1, 2]));
    assert_eq!(appended.uid_validity, first.uid_validity);
    // Nothing left in tmp/.
    assert_eq!(
        fs::read_dir(account.maildir().join("tmp")).unwrap().count(),
        0
    );

    for session in [&a, &b] {
        let changes = session.changes().unwrap();
        assert_eq!(changes.len(), 2);
        assert!(
            matches!(&changes[0], Change::Added { uid, flags, modseq: Some(_) }
            if *uid == nz(1) && flags.contains(&Flag::Seen))
        );
        assert!(matches!(&changes[1], Change::Added { uid, .. } if *uid == nz(2)));
    }
    let metas = a.metas(&uids(&[1, 2, 3]));
    let one = metas[0].clone().unwrap();
    assert_eq!(one.flags, vec![Flag::Seen, keyword("$Forwarded")]);
    assert_eq!(one.internal_date, date);
    assert_eq!(one.size, 22);
    assert!(
        one.path.to_str().unwrap().ends_with(":2,S"),
        "{:?}",
        one.path
    );
    let two = metas[1].clone().unwrap();
    assert_eq!(two.size, 25, "bare LFs count as CRLF");
    assert!(metas[2].is_none());
    assert_eq!(
        &a.read(nz(1)).unwrap().unwrap()[..],
        b"Subject: one\r\n\r\nbody\r\n"
    );
    assert!(a.read(nz(9)).unwrap().is_none());

    // STORE: the others hear it; this session too unless .SILENT.
    let stored = a
        .store(
            &uids(&[2]),
            StoreKind::Add,
            &[Flag::Flagged, Flag::Deleted],
            None,
            false,
        )
        .unwrap();
    let Stored::Changed { modseq, .. } = &stored[0] else {
        panic!("{stored:?}");
    };
    assert!(modseq.get() > one.modseq.get());
    assert_eq!(a.changes().unwrap(), []);
    assert_eq!(
        b.changes().unwrap(),
        [Change::Flags {
            uid: nz(2),
            flags: vec![Flag::Flagged, Flag::Deleted],
            modseq: Some(*modseq),
        }]
    );
    // The standard flags are mirrored into the file name.
    let path = a.metas(&uids(&[2]))[0].clone().unwrap().path;
    assert!(path.to_str().unwrap().ends_with(":2,FT"), "{path:?}");
    assert_eq!(
        &a.read(nz(2)).unwrap().unwrap()[..],
        b"Subject: two\n\nbare LF\n"
    );
    // Unchanged, and UNCHANGEDSINCE below the message's mod-sequence.
    let again = a
        .store(&uids(&[2]), StoreKind::Add, &[Flag::Flagged], None, true)
        .unwrap();
    assert!(matches!(again[0], Stored::Unchanged { .. }));
    let since = NonZeroU64::new(modseq.get() - 1).unwrap();
    let refused = a
        .store(
            &uids(&[2, 7]),
            StoreKind::Remove,
            &[Flag::Flagged],
            Some(since),
            true,
        )
        .unwrap();
    assert_eq!(refused, [Stored::Modified(nz(2)), Stored::Gone(nz(7))]);

    // EXPUNGE: only \Deleted; every session, this one included, hears it.
    assert_eq!(a.expunge(None).unwrap(), uids(&[2]));
    for session in [&a, &b] {
        assert!(matches!(
            &session.changes().unwrap()[..],
            [Change::Expunged { uid, modseq: Some(_) }] if *uid == nz(2)
        ));
    }
    assert!(a.read(nz(2)).unwrap().is_none());
    assert_eq!(files(account.maildir()).len(), 1);
    let status = account.status("INBOX").unwrap();
    assert_eq!(status.messages, 1);
    assert_eq!(status.uid_next, nz(3));
    assert_eq!(status.unseen, 0);
    assert_eq!(status.size, 22);

    // EXAMINE refuses changes.
    let ro = account.select("INBOX", true, 10).unwrap();
    assert!(matches!(
        ro.store(&uids(&[1]), StoreKind::Add, &[Flag::Deleted], None, true),
        Err(MailboxError::Cannot(_))
    ));
    assert!(matches!(ro.expunge(None), Err(MailboxError::Cannot(_))));
}

#[test]
fn restart_keeps_uids_flags_keywords_and_modseqs_and_never_reuses_a_uid() {
    let dir = TempDir::new("imap-restart");
    let before;
    let metas_before;
    {
        let (_store, account) = open(&dir.0);
        append(&account, "INBOX", &[b"1\r\n", b"2\r\n", b"3\r\n"]);
        let s = account.select("INBOX", false, 10).unwrap();
        s.store(
            &uids(&[1]),
            StoreKind::Add,
            &[keyword("work"), Flag::Answered],
            None,
            true,
        )
        .unwrap();
        s.store(&uids(&[3]), StoreKind::Add, &[Flag::Deleted], None, true)
            .unwrap();
        assert_eq!(s.expunge(None).unwrap(), uids(&[3]));
        before = account.status("INBOX").unwrap();
        metas_before = s.metas(&uids(&[1, 2]));
    }
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(
        account.status("INBOX").unwrap(),
        FolderStatus {
            recent: 0,
            ..before
        }
    );
    assert_eq!(s.snapshot().uids, uids(&[1, 2]));
    assert_eq!(s.metas(&uids(&[1, 2])), metas_before);
    assert!(s.flags().contains(&keyword("work")));
    // UID 3 was expunged: the next message gets 4.
    assert_eq!(append(&account, "INBOX", &[b"4\r\n"]).uids, uids(&[4]));
    drop(s);
    let (_store, account) = open(&dir.0);
    assert_eq!(
        account.select("INBOX", false, 10).unwrap().snapshot().uids,
        uids(&[1, 2, 4])
    );
}

#[test]
fn a_torn_log_tail_is_dropped_and_the_rest_replayed() {
    let dir = TempDir::new("imap-torn");
    let maildir;
    {
        let (_store, account) = open(&dir.0);
        maildir = account.maildir().to_owned();
        append(&account, "INBOX", &[b"a\r\n", b"b\r\n"]);
        let s = account.select("INBOX", false, 10).unwrap();
        s.store(&uids(&[2]), StoreKind::Add, &[Flag::Seen], None, true)
            .unwrap();
    }
    let log = maildir.join(LOG_FILE);
    let mut bytes = fs::read(&log).unwrap();
    assert_eq!(
        bytes.iter().filter(|&&b| b == b'\n').count(),
        4,
        "header and three records"
    );
    // A record cut off in mid-write (no newline), as a crash leaves it.
    bytes.extend_from_slice(b"0badc0de f 9 1 8");
    fs::write(&log, &bytes).unwrap();
    let ((_store, account, s), logs) = logged(|| {
        let (store, account) = open(&dir.0);
        let s = account.select("INBOX", false, 10).unwrap();
        (store, account, s)
    });
    assert!(logs.contains("WARN"), "{logs}");
    assert!(
        logs.contains("dropped the torn tail of the index log"),
        "{logs}"
    );
    let _ = account;
    assert_eq!(s.snapshot().uids, uids(&[1, 2]));
    let metas = s.metas(&uids(&[1, 2]));
    assert_eq!(metas[0].as_ref().unwrap().flags, []);
    assert_eq!(metas[1].as_ref().unwrap().flags, [Flag::Seen]);
    // The torn bytes are gone from the log.
    assert!(!fs::read(&log).unwrap().ends_with(b"8"));
}

#[test]
fn a_damaged_record_before_good_ones_rebuilds_with_a_new_uidvalidity() {
    let dir = TempDir::new("imap-damaged");
    let (old, maildir) = {
        let (_store, account) = open(&dir.0);
        append(&account, "INBOX", &[b"a\r\n", b"b\r\n"]);
        (
            account.status("INBOX").unwrap(),
            account.maildir().to_owned(),
        )
    };
    let log = maildir.join(LOG_FILE);
    let text = fs::read_to_string(&log).unwrap();
    let damaged = text.replacen(" a 2 1 ", " a 2 7 ", 1);
    assert_ne!(text, damaged);
    fs::write(&log, damaged).unwrap();
    let (_store, account) = open(&dir.0);
    let new = account.status("INBOX").unwrap();
    assert!(new.uid_validity > old.uid_validity);
    assert_eq!(new.messages, 2);
}

/// A corrupt, unknown-version or missing index: a new UIDVALIDITY, above every one the
/// account issued, and every file still served.
#[test]
fn a_bad_or_missing_index_is_rebuilt_and_every_file_served() {
    let dir = TempDir::new("imap-rebuild");
    let damage: [&dyn Fn(&Path); 4] = [
        &|m| {
            let p = m.join(SNAPSHOT_FILE);
            let mut b = fs::read(&p).unwrap();
            let at = b.len() / 2;
            b[at] ^= 1;
            fs::write(p, b).unwrap();
        },
        &|m| {
            let p = m.join(SNAPSHOT_FILE);
            let t = fs::read_to_string(&p).unwrap();
            fs::write(
                p,
                t.replacen("sansmail-imap-index 1", "sansmail-imap-index 99", 1),
            )
            .unwrap();
        },
        &|m| fs::remove_file(m.join(SNAPSHOT_FILE)).unwrap(),
        &|m| {
            fs::remove_file(m.join(SNAPSHOT_FILE)).unwrap();
            fs::remove_file(m.join(LOG_FILE)).unwrap();
        },
    ];
    let mut last = 0;
    {
        let (_store, account) = open(&dir.0);
        append(&account, "INBOX", &[b"x\r\n", b"y\r\n", b"z\r\n"]);
        let s = account.select("INBOX", false, 10).unwrap();
        s.store(&uids(&[2]), StoreKind::Add, &[Flag::Flagged], None, true)
            .unwrap();
    }
    for (i, damage) in damage.iter().enumerate() {
        let maildir = {
            let (_store, account) = open(&dir.0);
            // Fold the log into the snapshot, so damaging the snapshot matters.
            let status = account.status("INBOX").unwrap();
            assert!(status.uid_validity.get() > last, "case {i}");
            last = status.uid_validity.get();
            account.maildir().to_owned()
        };
        damage(&maildir);
        let ((_store, _account, s), logs) = logged(|| {
            let (store, account) = open(&dir.0);
            let s = account.select("INBOX", false, 10).unwrap();
            (store, account, s)
        });
        let snap = s.snapshot();
        let expected = format!("uid_validity={}", snap.uid_validity);
        if i < 3 {
            assert!(logs.contains("WARN"), "case {i}: {logs}");
            assert!(
                logs.contains("index rebuilt from the message files with a new UIDVALIDITY"),
                "case {i}: {logs}"
            );
        } else {
            // Both files gone: indexed as a new folder would be (a log line, no warning).
            assert!(logs.contains("folder indexed"), "case {i}: {logs}");
        }
        let problem = [
            "corrupt index: checksum mismatch",
            "unknown index version",
            "the index snapshot is missing",
            "folder indexed",
        ][i];
        assert!(logs.contains(problem), "case {i}: {logs}");
        assert!(logs.contains(&expected), "case {i}: {logs}");
        assert!(
            logs.contains(&maildir.display().to_string()),
            "case {i}: {logs}"
        );
        assert!(snap.uid_validity.get() > last, "case {i}");
        assert_eq!(snap.uids, uids(&[1, 2, 3]), "case {i}");
        let mut bodies: Vec<Vec<u8>> = snap
            .uids
            .iter()
            .map(|u| s.read(*u).unwrap().unwrap().to_vec())
            .collect();
        bodies.sort();
        assert_eq!(
            bodies,
            [b"x\r\n".to_vec(), b"y\r\n".to_vec(), b"z\r\n".to_vec()]
        );
        // The standard flags survive in the file names.
        let flagged: Vec<_> = s
            .metas(&snap.uids)
            .into_iter()
            .filter(|m| m.as_ref().unwrap().flags == [Flag::Flagged])
            .collect();
        assert_eq!(flagged.len(), 1, "case {i}");
    }
}

#[test]
fn files_added_or_removed_behind_its_back_are_reconciled() {
    let dir = TempDir::new("imap-reconcile");
    let maildir = {
        let (_store, account) = open(&dir.0);
        append(&account, "INBOX", &[b"kept\r\n", b"removed\r\n"]);
        account.maildir().to_owned()
    };
    let gone = files(&maildir)
        .into_iter()
        .find(|f| fs::read(maildir.join(f)).unwrap() == b"removed\r\n")
        .unwrap();
    fs::remove_file(maildir.join(&gone)).unwrap();
    fs::write(maildir.join("new/2000000000.M2P1.other"), b"later\r\n").unwrap();
    fs::write(
        maildir.join("cur/1000000000.M1P1.other:2,RS"),
        b"earlier\r\n",
    )
    .unwrap();
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    // UID 2 expunged; the new files get 3 and 4 in delivery order, flags from their names.
    assert_eq!(s.snapshot().uids, uids(&[1, 3, 4]));
    assert_eq!(&s.read(nz(3)).unwrap().unwrap()[..], b"earlier\r\n");
    assert_eq!(&s.read(nz(4)).unwrap().unwrap()[..], b"later\r\n");
    let metas = s.metas(&uids(&[3, 4]));
    assert_eq!(
        metas[0].as_ref().unwrap().flags,
        [Flag::Answered, Flag::Seen]
    );
    assert_eq!(metas[1].as_ref().unwrap().flags, []);
    // The message from new/ is \Recent to the first session.
    assert_eq!(s.recent(), uids(&[4]));
    assert!(
        account
            .select("INBOX", false, 10)
            .unwrap()
            .recent()
            .is_empty()
    );
}

#[test]
fn smtp_delivery_and_pop3_reach_the_selected_sessions() {
    let dir = TempDir::new("imap-cross");
    let (store, account) = open(&dir.0);
    // Delivered before IMAP ever opened the INBOX: picked up on select.
    deliver(&store, b"early\r\n");
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.snapshot().uids, uids(&[1]));
    // Delivered with the INBOX open: announced at once.
    deliver(&store, b"Subject: live\r\n\r\n");
    let changes = s.changes().unwrap();
    assert!(
        matches!(&changes[..], [Change::Added { uid, modseq: Some(_), .. }] if *uid == nz(2)),
        "{changes:?}"
    );
    assert_eq!(
        &s.read(nz(2)).unwrap().unwrap()[..],
        b"Subject: live\r\n\r\n"
    );
    // POP3 RETR marks it seen: the session hears \Seen, and the file moved to cur/.
    let listed = store.list_maildrop(&alice()).unwrap();
    assert_eq!(listed.len(), 2);
    let seen = store.mark_seen(&listed[1].path).unwrap();
    assert!(seen.to_str().unwrap().ends_with(":2,S"));
    assert!(seen.parent().unwrap().ends_with("cur"));
    let changes = s.changes().unwrap();
    assert!(
        matches!(&changes[..], [Change::Flags { uid, flags, .. }] if *uid == nz(2) && flags == &[Flag::Seen]),
        "{changes:?}"
    );
    // POP3 QUIT removes the first: expunged for the session.
    let removed = store
        .remove_messages(&alice(), &[listed[0].name.clone()])
        .unwrap();
    assert_eq!(removed, 1);
    let changes = s.changes().unwrap();
    assert!(
        matches!(&changes[..], [Change::Expunged { uid, .. }] if *uid == nz(1)),
        "{changes:?}"
    );
    assert_eq!(store.list_maildrop(&alice()).unwrap().len(), 1);
    // After a restart the index agrees with what POP3 did.
    drop(s);
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.snapshot().uids, uids(&[2]));
    assert_eq!(
        s.metas(&uids(&[2]))[0].as_ref().unwrap().flags,
        [Flag::Seen]
    );
}

#[test]
fn a_session_queue_overflows_past_max_pending() {
    let dir = TempDir::new("imap-overflow");
    let (_store, account) = open(&dir.0);
    let slow = account.select("INBOX", false, 3).unwrap();
    let fine = account.select("INBOX", false, 10).unwrap();
    append(&account, "INBOX", &[b"1", b"2", b"3"]);
    assert_eq!(slow.changes().unwrap().len(), 3);
    append(&account, "INBOX", &[b"4", b"5", b"6", b"7"]);
    assert_eq!(slow.changes(), Err(Interrupted::Overflowed));
    assert_eq!(slow.changes(), Err(Interrupted::Overflowed));
    assert_eq!(fine.changes().unwrap().len(), 7);
}

/// A folder deleted or renamed by one session while another has it selected: the other
/// hears `Gone` (and is woken for it), never an Io error later.
#[test]
fn a_folder_deleted_or_renamed_away_is_gone_for_its_sessions() {
    let dir = TempDir::new("imap-gone");
    let (_store, account) = open(&dir.0);
    account.create("Doomed").unwrap();
    account.create("Moving").unwrap();
    append(&account, "Doomed", &[b"1"]);
    let doomed = account.select("Doomed", false, 10).unwrap();
    let moving = account.select("Moving", true, 10).unwrap();
    let inbox = account.select("INBOX", false, 10).unwrap();
    assert_eq!(doomed.changes(), Ok(Vec::new()));
    account.delete("Doomed").unwrap();
    account.rename("Moving", "Moved").unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // Woken at once, as an IDLE session must be.
    rt.block_on(async {
        tokio::time::timeout(std::time::Duration::from_secs(5), doomed.changed())
            .await
            .unwrap();
        tokio::time::timeout(std::time::Duration::from_secs(5), moving.changed())
            .await
            .unwrap();
    });
    assert_eq!(doomed.changes(), Err(Interrupted::Gone));
    assert_eq!(doomed.changes(), Err(Interrupted::Gone));
    assert_eq!(moving.changes(), Err(Interrupted::Gone));
    assert_eq!(inbox.changes(), Ok(Vec::new()));
}

#[test]
fn changed_wakes_a_waiting_session() {
    let dir = TempDir::new("imap-wake");
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let writer = account.clone();
        let waiting = s.changed();
        let t = std::thread::spawn(move || append(&writer, "INBOX", &[b"x"]));
        waiting.await;
        t.join().unwrap();
    });
    assert_eq!(s.changes().unwrap().len(), 1);
    // Already queued: at once.
    append(&account, "INBOX", &[b"y"]);
    rt.block_on(s.changed());
}

#[test]
fn multiappend_is_all_or_none() {
    let dir = TempDir::new("imap-multi");
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    let good = message(&account, b"good\r\n");
    let bad = message(&account, b"bad\r\n");
    // The second message's file vanishes before the commit.
    fs::remove_file(&bad.tmp).unwrap();
    let result = account.append("INBOX", vec![(good, vec![], None), (bad, vec![], None)]);
    assert!(matches!(result, Err(MailboxError::Io(_))), "{result:?}");
    assert!(files(account.maildir()).is_empty());
    assert_eq!(
        fs::read_dir(account.maildir().join("tmp")).unwrap().count(),
        0
    );
    assert_eq!(s.changes().unwrap(), []);
    assert_eq!(append(&account, "INBOX", &[b"next"]).uids, uids(&[1]));
    assert!(matches!(
        account.append("Nowhere", vec![(message(&account, b"x"), vec![], None)]),
        Err(MailboxError::NoSuchMailbox)
    ));
}

#[test]
fn copy_and_move_keep_flags_and_dates_and_answer_copyuid() {
    let dir = TempDir::new("imap-copy");
    let (_store, account) = open(&dir.0);
    account.create("Work").unwrap();
    let date = index::datetime_from(1_000_000_000, 120);
    account
        .append(
            "INBOX",
            vec![
                (
                    message(&account, b"one\r\n"),
                    vec![keyword("k"), Flag::Seen],
                    Some(date),
                ),
                (message(&account, b"two\r\n"), vec![], None),
            ],
        )
        .unwrap();
    let inbox = account.select("INBOX", false, 10).unwrap();
    let work = account.select("Work", false, 10).unwrap();
    let copied = inbox.copy(&uids(&[2, 1, 9]), "Work").unwrap();
    assert_eq!(copied.source, uids(&[1, 2]));
    assert_eq!(copied.destination, uids(&[1, 2]));
    assert_eq!(copied.uid_validity, work.snapshot().uid_validity);
    assert_eq!(work.changes().unwrap().len(), 2);
    let meta = work.metas(&uids(&[1]))[0].clone().unwrap();
    assert_eq!(meta.flags, [Flag::Seen, keyword("k")]);
    assert_eq!(meta.internal_date, date);
    assert_eq!(&work.read(nz(1)).unwrap().unwrap()[..], b"one\r\n");
    assert!(matches!(
        inbox.copy(&uids(&[1]), "Nowhere"),
        Err(MailboxError::NoSuchMailbox)
    ));
    // Only expunged UIDs: nothing copied, no error.
    let none = inbox.copy(&uids(&[7, 8]), "Work").unwrap();
    assert!(none.source.is_empty() && none.destination.is_empty());
    let _ = inbox.changes();
    let moved = inbox.move_to(&uids(&[2]), "Work").unwrap();
    assert_eq!(moved.destination, uids(&[3]));
    assert!(
        matches!(&inbox.changes().unwrap()[..], [Change::Expunged { uid, .. }] if *uid == nz(2))
    );
    assert_eq!(
        inbox.snapshot().uids,
        uids(&[1, 2]),
        "the snapshot is the one at select"
    );
    assert_eq!(account.status("INBOX").unwrap().messages, 1);
    assert_eq!(account.status("Work").unwrap().messages, 3);
}

#[test]
fn quota_counts_append_and_copy_across_folders() {
    let dir = TempDir::new("imap-quota");
    let (store, account) = open(&dir.0);
    let account = account.with_quota(Some(20));
    append(&account, "Sent", &[b"0123456789"]);
    assert_eq!(store.usage(&alice()).unwrap(), 10);
    let over = account.append(
        "INBOX",
        vec![(message(&account, b"01234567890"), vec![], None)],
    );
    assert!(matches!(over, Err(MailboxError::OverQuota)), "{over:?}");
    let sent = account.select("Sent", false, 10).unwrap();
    sent.copy(&uids(&[1]), "INBOX").unwrap();
    assert!(matches!(
        sent.copy(&uids(&[1]), "INBOX"),
        Err(MailboxError::OverQuota)
    ));
    // A fresh scan counts the folders too.
    store.forget_usage(&alice());
    assert_eq!(store.usage(&alice()).unwrap(), 20);
}

/// MOVE within the account needs no room (Thunderbird deletes by MOVE to Trash); COPY
/// still does.
#[test]
fn move_is_not_refused_by_a_full_quota_but_copy_is() {
    let dir = TempDir::new("imap-move-quota");
    let (store, account) = open(&dir.0);
    let account = account.with_quota(Some(20));
    append(&account, "INBOX", &[b"0123456789"]);
    append(&account, "Sent", &[b"abcdefghij"]);
    assert_eq!(store.usage(&alice()).unwrap(), 20);
    let inbox = account.select("INBOX", false, 10).unwrap();
    let copy = inbox.copy(&uids(&[1]), "Trash");
    assert!(matches!(copy, Err(MailboxError::OverQuota)), "{copy:?}");
    let moved = inbox.move_to(&uids(&[1]), "Trash").unwrap();
    assert_eq!(moved.destination, uids(&[1]));
    assert_eq!(store.usage(&alice()).unwrap(), 20);
    assert_eq!(account.status("INBOX").unwrap().messages, 0);
    assert_eq!(account.status("Trash").unwrap().messages, 1);
    // Still full: the next append is refused; a fresh scan agrees.
    let over = account.append("INBOX", vec![(message(&account, b"x"), vec![], None)]);
    assert!(matches!(over, Err(MailboxError::OverQuota)), "{over:?}");
    store.forget_usage(&alice());
    assert_eq!(store.usage(&alice()).unwrap(), 20);
}

/// Breaks `source` (and `target` too if `both`) while the MOVE's copy into `target` is
/// being committed, so the expunge (and the undo) that follow fail.
fn break_during_copy(account: &Account, source: &str, target: &str, both: bool) {
    let source = account.folder(source).unwrap();
    let target = account.folder(target).unwrap();
    let hooked = std::sync::Mutex::new(Some((source, target.clone())));
    *target.in_commit.lock().unwrap() = Some(folder::TestHook(Box::new(move || {
        if let Some((source, target)) = hooked.lock().unwrap().take() {
            // Broken by a disk that stays full: reading it again fails too.
            *source.fault.lock().unwrap() = Some(folder::Fault::Write);
            source.state().broken = Some("test: source broken".to_owned());
            if both {
                *target.fault.lock().unwrap() = Some(folder::Fault::Write);
                target.state().broken = Some("test: target broken".to_owned());
            }
        }
    })));
}

#[test]
fn a_move_whose_expunge_fails_undoes_the_copy() {
    let dir = TempDir::new("imap-move-undo");
    let (store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let inbox = account.select("INBOX", false, 10).unwrap();
    break_during_copy(&account, "INBOX", "Trash", false);
    let moved = inbox.move_to(&uids(&[1]), "Trash");
    assert!(matches!(moved, Err(MailboxError::Io(_))), "{moved:?}");
    assert_eq!(account.status("Trash").unwrap().messages, 0);
    assert_eq!(
        files(&names::dir_of(account.maildir(), "Trash")),
        Vec::<String>::new()
    );
    drop((inbox, account, store));
    let (_store, account) = open(&dir.0);
    assert_eq!(account.status("INBOX").unwrap().messages, 1);
    assert_eq!(account.status("Trash").unwrap().messages, 0);
}

#[test]
fn a_move_whose_expunge_and_undo_fail_is_reported_done() {
    let dir = TempDir::new("imap-move-done");
    let (store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let inbox = account.select("INBOX", false, 10).unwrap();
    break_during_copy(&account, "INBOX", "Trash", true);
    let (moved, log) = logged(|| inbox.move_to(&uids(&[1]), "Trash"));
    let moved = moved.unwrap();
    assert_eq!((moved.source, moved.destination), (uids(&[1]), uids(&[1])));
    assert!(log.contains("reported as moved"), "{log}");
    drop((inbox, account, store));
    // Never lost: in both folders (a NO would have made the client copy it again).
    let (_store, account) = open(&dir.0);
    assert_eq!(account.status("INBOX").unwrap().messages, 1);
    assert_eq!(account.status("Trash").unwrap().messages, 1);
}

#[test]
fn keywords_past_their_bounds_are_refused_with_limit() {
    let dir = TempDir::new("imap-keyword-bounds");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let long = keyword(&"k".repeat(MAX_KEYWORD_LEN + 1));
    let fits = keyword(&"k".repeat(MAX_KEYWORD_LEN));
    let appended = account.append(
        "INBOX",
        vec![(message(&account, b"two\r\n"), vec![long.clone()], None)],
    );
    assert!(
        matches!(appended, Err(MailboxError::Limit(_))),
        "{appended:?}"
    );
    let s = account.select("INBOX", false, 10).unwrap();
    let stored = s.store(&uids(&[1]), StoreKind::Add, &[long], None, true);
    assert!(matches!(stored, Err(MailboxError::Limit(_))), "{stored:?}");
    s.store(&uids(&[1]), StoreKind::Add, &[fits], None, true)
        .unwrap();
    let many: Vec<Flag<'static>> = (0..=MAX_KEYWORDS_PER_MESSAGE)
        .map(|n| keyword(&format!("k{n}")))
        .collect();
    let stored = s.store(&uids(&[1]), StoreKind::Replace, &many, None, true);
    assert!(matches!(stored, Err(MailboxError::Limit(_))), "{stored:?}");
    s.store(
        &uids(&[1]),
        StoreKind::Replace,
        &many[..MAX_KEYWORDS_PER_MESSAGE],
        None,
        true,
    )
    .unwrap();
    // One more by +FLAGS is past the bound too; nothing changed.
    let stored = s.store(
        &uids(&[1]),
        StoreKind::Add,
        &many[MAX_KEYWORDS_PER_MESSAGE..],
        None,
        true,
    );
    assert!(matches!(stored, Err(MailboxError::Limit(_))), "{stored:?}");
    let meta = s.metas(&uids(&[1]))[0].clone().unwrap();
    assert_eq!(meta.flags.len(), MAX_KEYWORDS_PER_MESSAGE);
    assert_eq!(account.status("INBOX").unwrap().messages, 1);
}

#[test]
fn folders_past_the_count_or_depth_bound_are_refused_with_limit() {
    let dir = TempDir::new("imap-folder-bounds");
    let (_store, account) = open(&dir.0);
    let deep: Vec<String> = (1..=MAX_DEPTH).map(|n| format!("d{n}")).collect();
    let deep = deep.join("/");
    account.create(&deep).unwrap();
    let deeper = format!("{deep}/one-more");
    let created = account.create(&deeper);
    assert!(
        matches!(created, Err(MailboxError::Limit(_))),
        "{created:?}"
    );
    account.create("x").unwrap();
    let renamed = account.rename("x", &deeper);
    assert!(
        matches!(renamed, Err(MailboxError::Limit(_))),
        "{renamed:?}"
    );
    // Renaming d1 under x makes every child one level deeper: the deepest is past it.
    let renamed = account.rename("d1", "x/d1");
    assert!(
        matches!(renamed, Err(MailboxError::Limit(_))),
        "{renamed:?}"
    );
    let have = account.list().unwrap().len();
    for n in have..MAX_FOLDERS {
        account.create(&format!("f{n}")).unwrap();
    }
    assert_eq!(account.list().unwrap().len(), MAX_FOLDERS);
    let created = account.create("one-too-many");
    assert!(
        matches!(created, Err(MailboxError::Limit(_))),
        "{created:?}"
    );
    let renamed = account.rename("INBOX", "inbox-copy");
    assert!(
        matches!(renamed, Err(MailboxError::Limit(_))),
        "{renamed:?}"
    );
    // Deleting one makes room again.
    account.delete("x").unwrap();
    account.create("one-too-many").unwrap();
}

#[test]
fn folders_create_rename_delete_with_children() {
    let dir = TempDir::new("imap-folders");
    let (_store, account) = open(&dir.0);
    account.create("Projects/2026/").unwrap();
    assert!(matches!(
        account.create("Projects"),
        Err(MailboxError::AlreadyExists)
    ));
    assert!(matches!(
        account.create("inbox"),
        Err(MailboxError::AlreadyExists)
    ));
    let list = account.list().unwrap();
    let projects = list.iter().find(|f| f.name == "Projects").unwrap();
    assert!(projects.has_children);
    let year = list.iter().find(|f| f.name == "Projects/2026").unwrap();
    assert!(!year.has_children);
    assert!(account.maildir().join(".Projects.2026/cur").is_dir());

    append(&account, "Projects/2026", &[b"plan\r\n"]);
    account.subscribe("Projects/2026", true).unwrap();
    let old = account.status("Projects/2026").unwrap();
    let held = account.select("Projects/2026", false, 10).unwrap();
    account.rename("Projects", "Archive/Old").unwrap();
    let names: Vec<String> = account
        .list()
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert!(names.contains(&"Archive/Old/2026".to_owned()), "{names:?}");
    assert!(
        !names.iter().any(|n| n.starts_with("Projects")),
        "{names:?}"
    );
    assert_eq!(
        account
            .subscriptions()
            .unwrap()
            .iter()
            .filter(|s| s.contains("2026"))
            .collect::<Vec<_>>(),
        ["Archive/Old/2026"]
    );
    let moved = account.status("Archive/Old/2026").unwrap();
    assert_eq!(moved.messages, 1);
    assert!(
        moved.uid_validity > old.uid_validity,
        "a renamed folder gets a new UIDVALIDITY"
    );
    // The session that had the old name selected can no longer change it.
    assert!(matches!(
        held.expunge(None),
        Err(MailboxError::NoSuchMailbox)
    ));
    assert!(matches!(
        account.rename("Projects", "X"),
        Err(MailboxError::NoSuchMailbox)
    ));
    assert!(matches!(
        account.rename("Sent", "Trash"),
        Err(MailboxError::AlreadyExists)
    ));

    // DELETE keeps the children.
    account.delete("Archive/Old").unwrap();
    let names: Vec<String> = account
        .list()
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert!(names.contains(&"Archive/Old/2026".to_owned()));
    assert!(!names.contains(&"Archive/Old".to_owned()));
    assert!(matches!(
        account.delete("Archive/Old"),
        Err(MailboxError::NoSuchMailbox)
    ));
    assert!(matches!(
        account.delete("INBOX"),
        Err(MailboxError::Cannot(_))
    ));
    // Re-created: a UIDVALIDITY above every earlier one.
    account.create("Archive/Old").unwrap();
    assert!(account.status("Archive/Old").unwrap().uid_validity > moved.uid_validity);
    assert!(
        !fs::read_dir(account.maildir()).unwrap().any(|e| e
            .unwrap()
            .file_name()
            .to_str()
            .unwrap()
            .starts_with(".."))
    );
}

#[test]
fn renaming_inbox_moves_its_messages_and_leaves_it_empty() {
    let dir = TempDir::new("imap-rename-inbox");
    let (store, account) = open(&dir.0);
    deliver(&store, b"delivered\r\n");
    account
        .append(
            "INBOX",
            vec![(
                message(&account, b"appended\r\n"),
                vec![keyword("kw")],
                None,
            )],
        )
        .unwrap();
    let inbox = account.select("INBOX", false, 10).unwrap();
    account.rename("INBOX", "Old mail").unwrap();
    assert!(matches!(
        &inbox.changes().unwrap()[..],
        [Change::Expunged { .. }, Change::Expunged { .. }]
    ));
    assert_eq!(account.status("INBOX").unwrap().messages, 0);
    assert!(files(account.maildir()).is_empty());
    let old = account.select("Old mail", false, 10).unwrap();
    assert_eq!(old.snapshot().uids, uids(&[1, 2]));
    assert_eq!(&old.read(nz(1)).unwrap().unwrap()[..], b"delivered\r\n");
    assert_eq!(
        old.metas(&uids(&[2]))[0].as_ref().unwrap().flags,
        [keyword("kw")]
    );
    // INBOX goes on: new mail arrives there, with UIDs after the old ones.
    deliver(&store, b"new\r\n");
    assert_eq!(account.status("INBOX").unwrap().uid_next, nz(4));
    drop((inbox, old));
    let (_store, account) = open(&dir.0);
    assert_eq!(account.status("Old mail").unwrap().messages, 2);
    assert_eq!(account.status("INBOX").unwrap().messages, 1);
}

#[test]
fn names_that_try_to_escape_are_refused_or_encoded() {
    let dir = TempDir::new("imap-names");
    let (_store, account) = open(&dir.0);
    for bad in [
        "../x",
        "a/../b",
        "a//b",
        "/a",
        "",
        "/",
        "a/./b",
        "tab\there",
        "nul\0",
    ] {
        assert!(
            matches!(account.create(bad), Err(MailboxError::BadName(_))),
            "{bad:?}"
        );
    }
    assert!(matches!(
        account.create(&"x".repeat(300)),
        Err(MailboxError::BadName(_))
    ));
    for odd in [".x", "a.b", "..", "%41", "Ünïcode/ß", "back\\slash", "*"] {
        if odd == ".." {
            continue;
        }
        account.create(odd).unwrap();
    }
    let names: Vec<String> = account
        .list()
        .unwrap()
        .into_iter()
        .map(|f| f.name)
        .collect();
    for odd in [
        ".x",
        "a.b",
        "%41",
        "Ünïcode",
        "Ünïcode/ß",
        "back\\slash",
        "*",
    ] {
        assert!(names.contains(&odd.to_owned()), "{odd} in {names:?}");
    }
    // Everything stayed inside the Maildir, one directory per folder.
    let root = account.maildir().parent().unwrap();
    let outside: Vec<_> = fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(outside.len(), 1, "{outside:?}");
    for e in fs::read_dir(account.maildir()).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        assert!(!name.contains('/') && !name.starts_with(".."), "{name}");
    }
    assert!(account.maildir().join(".%2Ex/cur").is_dir());
    assert!(account.maildir().join(".a%2Eb/cur").is_dir());
}

/// Ten sessions appending at once (the group commit): every message gets its own UID, the
/// UIDs are 1..=N without a gap, and a selected session hears every one, in UID order.
/// Prints the rate (`--nocapture`; the figure in docs/performance.md comes from this test
/// run in release mode).
#[test]
fn concurrent_appends_get_distinct_uids_announced_in_order() {
    const SESSIONS: usize = 10;
    const EACH: usize = 60;
    let dir = TempDir::new("imap-concurrent");
    let (store, account) = open(&dir.0);
    let watcher = account
        .select("INBOX", false, SESSIONS * EACH + 10)
        .unwrap();
    let started = std::time::Instant::now();
    let threads: Vec<_> = (0..SESSIONS)
        .map(|t| {
            let account = account.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                for i in 0..EACH {
                    let body = format!("Subject: {t}-{i}\r\n\r\nbody\r\n");
                    got.extend(append(&account, "INBOX", &[body.as_bytes()]).uids);
                }
                got
            })
        })
        .collect();
    // Deliveries by SMTP at the same time land in the same sequence.
    for _ in 0..5 {
        deliver(&store, b"smtp\r\n");
    }
    let mut all: Vec<u32> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .map(NonZeroU32::get)
        .collect();
    let elapsed = started.elapsed();
    let total = SESSIONS * EACH + 5;
    eprintln!(
        "{} durable APPENDs over {SESSIONS} threads (+5 deliveries) in {elapsed:?}: {:.0}/s",
        SESSIONS * EACH,
        (SESSIONS * EACH) as f64 / elapsed.as_secs_f64()
    );
    all.sort_unstable();
    all.dedup();
    assert_eq!(all.len(), SESSIONS * EACH);
    let heard: Vec<u32> = watcher
        .changes()
        .unwrap()
        .into_iter()
        .map(|c| match c {
            Change::Added { uid, .. } => uid.get(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(heard, (1..=total as u32).collect::<Vec<_>>());
    drop(watcher);
    let (_store, account) = open(&dir.0);
    let status = account.status("INBOX").unwrap();
    assert_eq!(status.messages as usize, total);
    assert_eq!(status.uid_next.get() as usize, total + 1);
}

/// FLAGS of 10,000 messages come from memory, under one lock, with no file-system call.
/// Prints the time taken (`--nocapture`).
#[test]
fn metas_of_ten_thousand_messages_come_from_memory() {
    let dir = TempDir::new("imap-metas");
    let (_store, account) = open(&dir.0);
    let cur = account.maildir().join("cur");
    for i in 0..10_000u32 {
        fs::write(
            cur.join(format!("{}.M{i}P1.host,S=3,W=3:2,S", 1_700_000_000 + i)),
            b"x\r\n",
        )
        .unwrap();
    }
    let s = account.select("INBOX", false, 10).unwrap();
    let all = s.snapshot().uids;
    assert_eq!(all.len(), 10_000);
    // The files could all be gone: metas does not look at them.
    let started = std::time::Instant::now();
    let metas = s.metas(&all);
    let elapsed = started.elapsed();
    eprintln!("metas of 10,000 messages: {elapsed:?}");
    assert!(
        metas
            .iter()
            .all(|m| m.as_ref().unwrap().flags == [Flag::Seen])
    );
    assert_eq!(metas[9_999].as_ref().unwrap().size, 3);
    // The borrowing accessor: nothing copied per message but what FETCH FLAGS INTERNALDATE
    // RFC822.SIZE MODSEQ answers with (the flags list, the date).
    let started = std::time::Instant::now();
    let mut seen = 0;
    let mut octets = 0;
    s.with_metas(&all, |_, meta| {
        let meta = meta.unwrap();
        seen += meta.flags().len();
        octets += meta.size();
        std::hint::black_box((meta.internal_date(), meta.modseq()));
    });
    let elapsed = started.elapsed();
    eprintln!("with_metas of 10,000 messages (flags, date, size, modseq): {elapsed:?}");
    assert_eq!((seen, octets), (10_000, 30_000));
    let started = std::time::Instant::now();
    assert_eq!(s.first_unseen(), None);
    eprintln!("first_unseen of 10,000 messages: {:?}", started.elapsed());
}

/// `first_unseen` counts in the folder as selected (expunged messages not yet announced
/// count); `with_metas` agrees with `metas`.
#[test]
fn first_unseen_and_with_metas_agree_with_metas() {
    let dir = TempDir::new("imap-unseen");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"1", b"2", b"3", b"4"]);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.first_unseen(), Some(nz(1)));
    s.store(&uids(&[1, 2, 3]), StoreKind::Add, &[Flag::Seen], None, true)
        .unwrap();
    s.store(&uids(&[2]), StoreKind::Add, &[Flag::Deleted], None, true)
        .unwrap();
    s.expunge(None).unwrap();
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.snapshot().uids, uids(&[1, 3, 4]));
    assert_eq!(s.first_unseen(), Some(nz(3)));
    let asked = uids(&[1, 2, 4]);
    let mut seen = Vec::new();
    s.with_metas(&asked, |uid, meta| {
        seen.push((
            uid,
            meta.map(|m| (m.uid(), m.flags(), m.size(), m.modseq(), m.internal_date())),
        ));
    });
    let metas: Vec<_> = s
        .metas(&asked)
        .into_iter()
        .zip(&asked)
        .map(|(m, uid)| {
            (
                *uid,
                m.map(|m| (m.uid, m.flags, m.size, m.modseq, m.internal_date)),
            )
        })
        .collect();
    assert_eq!(seen, metas);
    assert!(seen[1].1.is_none());
    // Another session marks message 4 seen, expunges 1: the first session counts as told.
    let other = account.select("INBOX", false, 10).unwrap();
    other
        .store(&uids(&[4]), StoreKind::Add, &[Flag::Seen], None, true)
        .unwrap();
    assert_eq!(s.first_unseen(), None);
    other
        .store(&uids(&[4]), StoreKind::Remove, &[Flag::Seen], None, true)
        .unwrap();
    other
        .store(&uids(&[1]), StoreKind::Add, &[Flag::Deleted], None, true)
        .unwrap();
    other.expunge(None).unwrap();
    assert_eq!(s.first_unseen(), Some(nz(3)));
}

/// Another program changes the files while the folder is open: the next SELECT or STATUS
/// reconciles (durably), and the sessions already selected hear it.
#[test]
fn changes_behind_an_open_folder_are_reconciled_at_select() {
    let dir = TempDir::new("imap-behind");
    let (store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n", b"two\r\n"]);
    let s = account.select("INBOX", false, 10).unwrap();
    let _ = s.changes();
    let maildir = account.maildir().to_owned();
    let two = s.metas(&uids(&[2]))[0].clone().unwrap().path;
    fs::remove_file(&two).unwrap();
    fs::write(maildir.join("new/1900000000.M1P1.other"), b"outside\r\n").unwrap();
    // Another reader moved message 1 and marked it seen: followed, the index keeps its flags.
    let one = s.metas(&uids(&[1]))[0].clone().unwrap().path;
    let moved = maildir.join("cur").join(format!(
        "{}:2,S",
        one.file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .split(':')
            .next()
            .unwrap()
    ));
    fs::rename(&one, &moved).unwrap();
    let status = account.status("INBOX").unwrap();
    assert_eq!(status.messages, 2);
    let changes = s.changes().unwrap();
    assert!(
        matches!(&changes[..], [Change::Expunged { uid: e, .. }, Change::Added { uid: a, .. }]
            if *e == nz(2) && *a == nz(3)),
        "{changes:?}"
    );
    assert_eq!(&s.read(nz(1)).unwrap().unwrap()[..], b"one\r\n");
    assert_eq!(&s.read(nz(3)).unwrap().unwrap()[..], b"outside\r\n");
    // Nothing changed since: nothing more.
    let again = account.select("INBOX", false, 10).unwrap();
    assert_eq!(again.snapshot().uids, uids(&[1, 3]));
    assert_eq!(s.changes().unwrap(), []);
    // A delivery with the folder open is indexed once, not again by the next select.
    deliver(&store, b"smtp\r\n");
    assert_eq!(
        account.select("INBOX", false, 10).unwrap().snapshot().uids,
        uids(&[1, 3, 4])
    );
    assert_eq!(s.changes().unwrap().len(), 1);
}

/// The delivery hook racing a SELECT (issue 19's crash test found it): the file is in
/// `new/`, a SELECT's refresh queues it and is writing the batch when the hook asks to
/// index it. The hook must see it as known: one message, one UID, before and after a
/// restart.
#[test]
fn a_delivery_hook_during_a_refresh_commit_does_not_index_twice() {
    let dir = TempDir::new("imap-hook-race");
    let (store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let s = account.select("INBOX", false, 10).unwrap();
    let _ = s.changes();
    let folder = account.folder("INBOX").unwrap();
    let file = "1900000000.M1P1.race,S=7,W=7";
    fs::write(account.maildir().join("new").join(file), b"smtp\r\n").unwrap();
    let hooked = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let hook_folder = folder.clone();
    let hook_hooked = hooked.clone();
    let hook_done = std::sync::Mutex::new(Some(done_tx));
    *folder.in_commit.lock().unwrap() = Some(folder::TestHook(Box::new(move || {
        let Some(done) = hook_done.lock().unwrap().take() else {
            return;
        };
        hook_hooked.store(true, std::sync::atomic::Ordering::SeqCst);
        // The delivery hook, on its own thread (as in the server): it must not wait for
        // this commit, let alone queue the file again. Without the fix it blocks on the
        // commit lock this thread holds; the wait below then ends and the duplicate shows.
        let f = hook_folder.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let result = f.add_delivered(file);
            let _ = tx.send(());
            done.send(result.map_err(|e| e.to_string())).unwrap();
        });
        let _ = rx.recv_timeout(std::time::Duration::from_secs(3));
    })));
    assert_eq!(account.status("INBOX").unwrap().messages, 2);
    assert!(hooked.load(std::sync::atomic::Ordering::SeqCst));
    done_rx.recv().unwrap().unwrap();
    *folder.in_commit.lock().unwrap() = None;
    drop(folder);
    // The open session hears of one new message, and SELECT and STATUS count two.
    let changes = s.changes().unwrap();
    assert!(
        matches!(&changes[..], [Change::Added { uid, .. }] if *uid == nz(2)),
        "{changes:?}"
    );
    assert_eq!(account.status("INBOX").unwrap().messages, 2);
    let again = account.select("INBOX", false, 10).unwrap();
    assert_eq!(again.snapshot().uids, uids(&[1, 2]));
    drop(again);
    drop((s, account, store));
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.snapshot().uids, uids(&[1, 2]));
    assert_eq!(&s.read(nz(2)).unwrap().unwrap()[..], b"smtp\r\n");
}

/// kill -9 of a process appending from four threads and setting flags: after the restart
/// every acknowledged message is there under its UID with its bytes, every acknowledged
/// flag is set, and the next UID is above every one given before.
///
/// The test runs itself again as the child (the variable `SANSMAIL_STORE_CRASH_CHILD` names
/// its data directory), which prints `ACK <uid> <tag>` and `FLAG <uid>` after each append
/// and STORE returns.
#[test]
fn kill_9_during_appends_loses_nothing_acknowledged() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};

    const CHILD: &str = "SANSMAIL_STORE_CRASH_CHILD";
    if let Some(dir) = std::env::var_os(CHILD) {
        let (_store, account) = open(Path::new(&dir));
        let out = std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let account = account.clone();
                let out = out.clone();
                std::thread::spawn(move || {
                    let s = account.select("INBOX", false, 1).unwrap();
                    for i in 0.. {
                        let tag = format!("{t}-{i}");
                        let body = format!("Subject: {tag}\r\n\r\n{tag}\r\n");
                        let uid = append(&account, "INBOX", &[body.as_bytes()]).uids[0];
                        writeln!(out.lock().unwrap(), "ACK {uid} {tag}").unwrap();
                        if i % 3 == 0 {
                            s.store(&[uid], StoreKind::Add, &[Flag::Flagged], None, false)
                                .unwrap();
                            writeln!(out.lock().unwrap(), "FLAG {uid}").unwrap();
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            let _ = t.join();
        }
        return;
    }

    let dir = TempDir::new("imap-kill9");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "store::mailboxes::tests::kill_9_during_appends_loses_nothing_acknowledged",
            "--nocapture",
        ])
        .env(CHILD, &dir.0)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut flagged = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 300 {
        let Some(line) = lines.next() else {
            panic!("the child ended after {} acknowledgements", acked.len());
        };
        let line = line.unwrap();
        let mut words = line.split(' ');
        match words.next() {
            Some("ACK") => {
                let uid: u32 = words.next().unwrap().parse().unwrap();
                acked.push((uid, words.next().unwrap().to_owned()));
            }
            Some("FLAG") => flagged.push(words.next().unwrap().parse::<u32>().unwrap()),
            _ => {}
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(lines);

    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    let snapshot = s.snapshot();
    for (uid, tag) in &acked {
        let body = s
            .read(nz(*uid))
            .unwrap()
            .unwrap_or_else(|| panic!("UID {uid} lost"));
        assert_eq!(body, format!("Subject: {tag}\r\n\r\n{tag}\r\n").as_bytes());
    }
    for uid in &flagged {
        let meta = s.metas(&[nz(*uid)])[0].clone().unwrap();
        assert!(meta.flags.contains(&Flag::Flagged), "UID {uid}");
    }
    // Nothing partial: every message served is whole (one of the child's bodies).
    for uid in &snapshot.uids {
        let body = s.read(*uid).unwrap().unwrap();
        let text = std::str::from_utf8(&body).unwrap();
        let tag = text
            .strip_prefix("Subject: ")
            .unwrap()
            .split("\r\n")
            .next()
            .unwrap();
        assert_eq!(text, format!("Subject: {tag}\r\n\r\n{tag}\r\n"));
    }
    let top = acked.iter().map(|(u, _)| *u).max().unwrap();
    assert!(snapshot.uid_next.get() > top);
    let next = append(&account, "INBOX", &[b"after\r\n"]).uids[0];
    assert!(next.get() >= snapshot.uid_next.get());
}

/// The log is folded into the snapshot once it holds 4096 records more than the folder has
/// messages; the state survives a restart either way.
#[test]
fn the_log_is_compacted_into_the_snapshot() {
    let dir = TempDir::new("imap-compact");
    let (_store, account) = open(&dir.0);
    let bodies: Vec<Vec<u8>> = (0..100).map(|i| format!("{i}\r\n").into_bytes()).collect();
    let bodies: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    append(&account, "INBOX", &bodies);
    let s = account.select("INBOX", false, 10).unwrap();
    let all = s.snapshot().uids;
    let log = account.maildir().join(LOG_FILE);
    let mut longest = 0;
    for round in 0..43 {
        let kind = if round % 2 == 0 {
            StoreKind::Add
        } else {
            StoreKind::Remove
        };
        s.store(&all, kind, &[Flag::Flagged], None, false).unwrap();
        longest = longest.max(fs::read_to_string(&log).unwrap().lines().count());
    }
    // 100 adds + 4300 flag records > 4096 + 100: compacted once, the log short again.
    let lines = fs::read_to_string(&log).unwrap().lines().count();
    assert!(lines < 500, "{lines} lines in the log");
    assert!(longest > 4096, "the log grew to {longest} lines first");
    let snapshot = fs::read_to_string(account.maildir().join(SNAPSHOT_FILE)).unwrap();
    assert!(snapshot.starts_with("sansmail-imap-index 1\n"));
    let before = s.metas(&all);
    // 43 rounds, the last an add.
    assert!(
        before
            .iter()
            .all(|m| m.as_ref().unwrap().flags == [Flag::Flagged])
    );
    drop(s);
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.metas(&all), before);
}

/// Large records reach the octet bound long before the record count: compacted then.
#[test]
fn the_log_is_compacted_when_its_octets_pass_the_bound() {
    let dir = TempDir::new("imap-compact-bytes");
    let (_store, account) = open(&dir.0);
    let bodies: Vec<Vec<u8>> = (0..100).map(|i| format!("{i}\r\n").into_bytes()).collect();
    let bodies: Vec<&[u8]> = bodies.iter().map(Vec::as_slice).collect();
    append(&account, "INBOX", &bodies);
    let s = account.select("INBOX", false, 10).unwrap();
    let all = s.snapshot().uids;
    let log = account.maildir().join(LOG_FILE);
    let mut longest = 0;
    let mut rounds = 0;
    // Each round: 100 records of about 4 KiB (63 or 64 keywords of 60 octets; the same 64
    // in every round, within the folder's bound of distinct keywords).
    let kws: Vec<Flag<'static>> = (0..MAX_KEYWORDS_PER_MESSAGE)
        .map(|n| keyword(&format!("{n:02}{}", "k".repeat(58))))
        .collect();
    for round in 0..12 {
        let some = &kws[round % 2..];
        s.store(&all, StoreKind::Replace, some, None, false)
            .unwrap();
        let len = fs::metadata(&log).unwrap().len();
        rounds += 1;
        if len < longest {
            break;
        }
        longest = len;
    }
    // Compacted after about 1,000 records (far below 4,096 + 100), once past 4 MiB.
    assert!(
        longest > folder::COMPACT_BYTES - 500_000,
        "the log grew to {longest} first"
    );
    assert!(
        fs::metadata(&log).unwrap().len() < longest,
        "never compacted in {rounds} rounds"
    );
    let before = s.metas(&all);
    drop(s);
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.metas(&all), before);
}

/// A folder whose UIDs run out refuses more messages (`NO [LIMIT]`), all or none.
#[test]
fn a_folder_out_of_uids_refuses_appends() {
    let dir = TempDir::new("imap-uids");
    let maildir = {
        let (_store, account) = open(&dir.0);
        account.maildir().to_owned()
    };
    let mut index = index::Index::new(7);
    index.uid_next = u32::MAX - 1;
    fs::write(maildir.join(SNAPSHOT_FILE), index.encode()).unwrap();
    fs::write(maildir.join(LOG_FILE), index::log_header(7)).unwrap();
    let (_store, account) = open(&dir.0);
    let two = account.append(
        "INBOX",
        vec![
            (message(&account, b"a"), vec![], None),
            (message(&account, b"b"), vec![], None),
        ],
    );
    assert!(matches!(two, Err(MailboxError::UidsExhausted)), "{two:?}");
    assert_eq!(
        append(&account, "INBOX", &[b"last"]).uids,
        uids(&[u32::MAX - 1])
    );
    assert!(matches!(
        account.append("INBOX", vec![(message(&account, b"c"), vec![], None)]),
        Err(MailboxError::UidsExhausted)
    ));
    assert_eq!(account.status("INBOX").unwrap().messages, 1);
    assert_eq!(files(&maildir).len(), 1);
}

/// The handles move into `spawn_blocking` and are shared between tasks.
#[test]
fn handles_are_send_and_sync() {
    fn shared<T: Send + Sync + 'static>() {}
    shared::<Account>();
    shared::<Selected>();
    shared::<Mailboxes>();
    fn movable<T: Send + 'static>() {}
    movable::<NewMessage>();
}

/// A folder defines at most `MAX_KEYWORDS` keywords: the STORE, APPEND or COPY that would
/// define one more is refused whole and changes nothing; keywords already defined stay usable,
/// in this folder and after a restart.
#[test]
fn keywords_beyond_the_bound_are_refused() {
    let dir = TempDir::new("imap-keywords");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"1", b"2", b"3"]);
    let s = account.select("INBOX", false, 1000).unwrap();
    let defined: Vec<Flag<'static>> = (0..MAX_KEYWORDS)
        .map(|i| keyword(&format!("k{i}")))
        .collect();
    // Over two messages: one message holds at most MAX_KEYWORDS_PER_MESSAGE.
    let (first, second) = defined.split_at(MAX_KEYWORDS / 2);
    s.store(&uids(&[1]), StoreKind::Add, first, None, true)
        .unwrap();
    s.store(&uids(&[2]), StoreKind::Add, second, None, true)
        .unwrap();
    let over = [keyword("k0"), keyword("one-too-many")];
    assert!(matches!(
        s.store(&uids(&[3]), StoreKind::Add, &over, None, true),
        Err(MailboxError::TooManyKeywords)
    ));
    assert_eq!(s.metas(&uids(&[3]))[0].as_ref().unwrap().flags, []);
    // A defined keyword is still fine.
    s.store(&uids(&[3]), StoreKind::Add, &[keyword("k5")], None, true)
        .unwrap();
    let mut m = account.new_message().unwrap();
    m.write(b"3").unwrap();
    assert!(matches!(
        account.append("INBOX", vec![(m, vec![keyword("fresh")], None)]),
        Err(MailboxError::TooManyKeywords)
    ));
    // COPY into a full folder of a message with a keyword it does not define.
    account.create("Other").unwrap();
    let mut m = account.new_message().unwrap();
    m.write(b"4").unwrap();
    account
        .append("Other", vec![(m, vec![keyword("elsewhere")], None)])
        .unwrap();
    let other = account.select("Other", false, 10).unwrap();
    assert!(matches!(
        other.copy(&uids(&[1]), "INBOX"),
        Err(MailboxError::TooManyKeywords)
    ));
    drop((s, other));
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.snapshot().uids, uids(&[1, 2, 3]));
    assert_eq!(s.flags().len(), 5 + MAX_KEYWORDS);
    // After a restart the bound holds the same way.
    drop(s);
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    assert!(matches!(
        s.store(&uids(&[3]), StoreKind::Add, &[keyword("late")], None, true),
        Err(MailboxError::TooManyKeywords)
    ));
}

/// Sessions on more folders than the cache holds: while they are selected every folder stays
/// loaded; once they end the hub keeps at most `CACHED_FOLDERS`, the ones used last, and a
/// folder read again has its UIDs, flags and UIDVALIDITY.
#[test]
fn the_hub_unloads_folders_no_session_holds_beyond_the_cache() {
    let dir = TempDir::new("imap-unload");
    let (store, account) = open(&dir.0);
    let hub = &store.inner.mailboxes;
    let count = CACHED_FOLDERS + 20;
    for i in 0..count {
        account.create(&format!("f{i}")).unwrap();
    }
    append(&account, "f0", &[b"kept"]);
    let first = account.select("f0", false, 10).unwrap();
    first
        .store(&uids(&[1]), StoreKind::Add, &[keyword("kept")], None, true)
        .unwrap();
    let validity = first.snapshot().uid_validity;
    drop(first);
    let sessions: Vec<Selected> = (0..count)
        .map(|i| account.select(&format!("f{i}"), false, 10).unwrap())
        .collect();
    assert!(hub.loaded_count() >= count, "{}", hub.loaded_count());
    drop(sessions);
    assert!(
        hub.loaded_count() <= CACHED_FOLDERS,
        "{} folders loaded",
        hub.loaded_count()
    );
    // The last used stayed; the first was unloaded and comes back the same from disk.
    let last = names::dir_of(account.maildir(), &format!("f{}", count - 1));
    assert!(hub.loaded(&last).is_some());
    assert!(
        hub.loaded(&names::dir_of(account.maildir(), "f0"))
            .is_none()
    );
    let again = account.select("f0", false, 10).unwrap();
    assert_eq!(again.snapshot().uid_validity, validity);
    assert_eq!(again.snapshot().uids, uids(&[1]));
    assert_eq!(
        again.metas(&uids(&[1]))[0].as_ref().unwrap().flags,
        [keyword("kept")]
    );
}

/// This server's own changes (APPEND, STORE renaming files for their flags, EXPUNGE) leave
/// the directories' times unsettled: the next SELECT lists them again, but with no lock
/// held, and finds nothing to reconcile, so it does not wait for a commit in progress (the
/// commit lock, held by this thread; before, every such SELECT took it).
#[test]
fn a_select_after_own_changes_reconciles_nothing_and_waits_for_no_commit() {
    let dir = TempDir::new("imap-own-changes");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n", b"two\r\n", b"three\r\n"]);
    let s = account.select("INBOX", false, 10).unwrap();
    s.store(&uids(&[1, 2]), StoreKind::Add, &[Flag::Flagged], None, true)
        .unwrap();
    s.store(&uids(&[3]), StoreKind::Add, &[Flag::Deleted], None, true)
        .unwrap();
    s.expunge(None).unwrap();
    let folder = account.folder("INBOX").unwrap();
    let commit = folder.lock_commit();
    let (tx, rx) = std::sync::mpsc::channel();
    let other = account.clone();
    std::thread::spawn(move || {
        let selected = other.select("INBOX", false, 10).map(|s| s.snapshot().uids);
        tx.send(selected).unwrap();
    });
    let selected = rx.recv_timeout(std::time::Duration::from_secs(20));
    drop(commit);
    let selected = selected.expect("SELECT waited for the commit lock");
    assert_eq!(selected.unwrap(), uids(&[1, 2]));
    // Nothing was queued for the open session by the refresh (only its own changes).
    let changes = s.changes().unwrap();
    assert!(
        changes.iter().all(|c| !matches!(c, Change::Added { .. })),
        "{changes:?}"
    );
}

/// A file another program drops while the commit lock is held (an APPEND's commit in
/// progress): the listing without locks sees it, and the SELECT reconciles it under the
/// commit lock once that is free, as before.
#[test]
fn a_file_from_outside_is_reconciled_after_the_commit_in_progress() {
    let dir = TempDir::new("imap-outside-commit");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let s = account.select("INBOX", false, 10).unwrap();
    let _ = s.changes();
    let folder = account.folder("INBOX").unwrap();
    fs::write(
        account.maildir().join("new/1900000000.M1P1.other"),
        b"outside\r\n",
    )
    .unwrap();
    let commit = folder.lock_commit();
    let (tx, rx) = std::sync::mpsc::channel();
    let other = account.clone();
    std::thread::spawn(move || {
        let selected = other.select("INBOX", false, 10).map(|s| s.snapshot().uids);
        tx.send(selected).unwrap();
    });
    // It needs the commit lock: no answer while it is held.
    assert!(
        rx.recv_timeout(std::time::Duration::from_millis(300))
            .is_err()
    );
    drop(commit);
    let selected = rx.recv_timeout(std::time::Duration::from_secs(20)).unwrap();
    assert_eq!(selected.unwrap(), uids(&[1, 2]));
    let changes = s.changes().unwrap();
    assert!(
        matches!(&changes[..], [Change::Added { uid, .. }] if *uid == nz(2)),
        "{changes:?}"
    );
    assert_eq!(&s.read(nz(2)).unwrap().unwrap()[..], b"outside\r\n");
}

/// `read_range` reads the octets asked for at the start, in the middle, at the end and past
/// it, without reading the rest: the message here is a 1 TiB sparse file, which reading
/// whole (as `read` does) would not fit in memory.
#[test]
fn read_range_reads_only_the_range_of_a_huge_message() {
    use std::io::{Seek, SeekFrom, Write};
    let dir = TempDir::new("imap-range");
    let (_store, account) = open(&dir.0);
    const SIZE: u64 = 1 << 40;
    let name = format!("1900000000.M1P1.huge,S={SIZE},W={SIZE}:2,S");
    let path = account.maildir().join("cur").join(&name);
    let mut file = fs::File::create(&path).unwrap();
    file.write_all(b"Subject: huge\r\n\r\nstart").unwrap();
    file.seek(SeekFrom::Start(SIZE / 2)).unwrap();
    file.write_all(b"middle").unwrap();
    file.set_len(SIZE).unwrap();
    file.seek(SeekFrom::Start(SIZE - 3)).unwrap();
    file.write_all(b"end").unwrap();
    drop(file);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.snapshot().uids, uids(&[1]));
    let range = |start, len| s.read_range(nz(1), start, len).unwrap().unwrap();
    assert_eq!(range(0, 13), (b"Subject: huge".to_vec(), SIZE));
    assert_eq!(range(17, 5).0, b"start");
    assert_eq!(range(SIZE / 2 - 2, 10).0, b"\0\0middle\0\0");
    assert_eq!(range(SIZE - 5, 100).0, b"\0\0end");
    assert_eq!(range(SIZE, 100), (Vec::new(), SIZE));
    assert_eq!(range(u64::MAX, u64::MAX), (Vec::new(), SIZE));
    // Expunged: None.
    s.store(&uids(&[1]), StoreKind::Add, &[Flag::Deleted], None, true)
        .unwrap();
    s.expunge(None).unwrap();
    assert_eq!(s.read_range(nz(1), 0, 10).unwrap(), None);
}

/// `FlagSet` answers as the list of flags does: system flags, keywords spelt exactly so,
/// never `\Recent`.
#[test]
fn flag_set_agrees_with_the_flag_list() {
    let dir = TempDir::new("imap-flagset");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n", b"two\r\n"]);
    let s = account.select("INBOX", false, 10).unwrap();
    s.store(
        &uids(&[1]),
        StoreKind::Add,
        &[Flag::Seen, Flag::Draft, keyword("$Junk")],
        None,
        true,
    )
    .unwrap();
    let asked = [
        Flag::Answered,
        Flag::Flagged,
        Flag::Deleted,
        Flag::Seen,
        Flag::Draft,
        keyword("$Junk"),
        keyword("$junk"),
        keyword("$NotJunk"),
    ];
    let mut checked = 0;
    s.with_metas(&uids(&[1, 2]), |_, meta| {
        let meta = meta.unwrap();
        let set = meta.flag_set();
        assert_eq!(set.to_list(), meta.flags());
        for flag in &asked {
            assert_eq!(set.contains(flag), meta.flags().contains(flag), "{flag:?}");
            checked += 1;
        }
    });
    assert_eq!(checked, 16);
    s.with_metas(&uids(&[1]), |_, meta| {
        let set = meta.unwrap().flag_set();
        assert!(set.contains(&Flag::Seen) && set.contains(&keyword("$Junk")));
        assert!(!set.contains(&keyword("$junk")) && !set.contains(&Flag::Flagged));
    });
}

/// Sets (or clears) a disk fault on the open folder `name` (found without an operation on
/// it, which would read a broken one again).
fn fault(account: &Account, name: &str, fault: Option<folder::Fault>) {
    let dir = names::dir_of(account.maildir(), name);
    *account.hub().loaded(&dir).unwrap().fault.lock().unwrap() = fault;
}

#[test]
fn a_failed_log_write_recovers_by_itself_and_keeps_the_sessions() {
    let dir = TempDir::new("imap-broken-recovers");
    let (store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n", b"two\r\n"]);
    let a = account.select("INBOX", false, 100).unwrap();
    let b = account.select("INBOX", false, 100).unwrap();
    let validity = a.snapshot().uid_validity;
    fault(&account, "INBOX", Some(folder::Fault::Write));
    let (stored, log) =
        logged(|| a.store(&uids(&[2]), StoreKind::Add, &[keyword("lost")], None, true));
    assert!(matches!(stored, Err(MailboxError::Io(_))), "{stored:?}");
    assert!(log.contains("index log write failed"), "{log}");
    // While the disk is full: every change is refused, nothing is lost or announced, and
    // no session is interrupted.
    assert_eq!(a.changes(), Ok(Vec::new()));
    let again = b.store(&uids(&[1]), StoreKind::Add, &[Flag::Flagged], None, true);
    assert!(matches!(again, Err(MailboxError::Io(_))), "{again:?}");
    assert!(matches!(account.status("INBOX"), Err(MailboxError::Io(_))));
    // SMTP delivers all the same (the file is durable in new/; indexed once readable), and
    // POP3's RETR and QUIT are refused rather than wedged.
    deliver(&store, b"three\r\n");
    let listed = store.list_maildrop(&alice()).unwrap();
    assert_eq!(listed.len(), 3);
    assert!(store.mark_seen(&listed[0].path).is_err());
    assert!(
        store
            .remove_messages(&alice(), &[listed[0].name.clone()])
            .is_err()
    );
    assert_eq!(b.changes(), Ok(Vec::new()));

    // The disk has room again: the next operation reads the folder again and goes on.
    fault(&account, "INBOX", None);
    let (stored, log) =
        logged(|| a.store(&uids(&[2]), StoreKind::Add, &[Flag::Flagged], None, true));
    let stored = stored.unwrap();
    assert!(
        matches!(&stored[..], [Stored::Changed { uid, flags, .. }] if *uid == nz(2) && flags == &[Flag::Flagged]),
        "{stored:?}"
    );
    assert!(
        log.contains("folder read again after a failed write; its sessions go on"),
        "{log}"
    );
    for session in [&a, &b] {
        let changes = session.changes().unwrap();
        assert!(
            matches!(&changes[..], [
                Change::Added { uid: three, .. },
                Change::Flags { uid: two, flags, .. },
            ] if *three == nz(3) && *two == nz(2) && flags == &[Flag::Flagged]),
            "{changes:?}"
        );
    }
    assert_eq!(account.status("INBOX").unwrap().messages, 3);
    // After a restart: exactly what was acknowledged.
    drop((a, b, account, store));
    let (_store, account) = open(&dir.0);
    let s = account.select("INBOX", false, 10).unwrap();
    assert_eq!(s.snapshot().uid_validity, validity);
    assert_eq!(s.snapshot().uids, uids(&[1, 2, 3]));
    let metas = s.metas(&uids(&[1, 2]));
    assert_eq!(
        metas[0].as_ref().unwrap().flags,
        Vec::<Flag<'static>>::new()
    );
    assert_eq!(metas[1].as_ref().unwrap().flags, [Flag::Flagged]);
}

#[test]
fn a_noop_recovers_a_broken_folder() {
    let dir = TempDir::new("imap-broken-noop");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let a = account.select("INBOX", false, 100).unwrap();
    fault(&account, "INBOX", Some(folder::Fault::Write));
    assert!(
        a.expunge(None).is_ok(),
        "nothing to expunge: nothing written"
    );
    assert!(
        a.store(&uids(&[1]), StoreKind::Add, &[Flag::Deleted], None, false)
            .is_err()
    );
    fault(&account, "INBOX", None);
    // Only asking for changes (a NOOP, a FETCH) reads it again: the folder is whole.
    assert_eq!(a.changes(), Ok(Vec::new()));
    assert!(account.folder("INBOX").unwrap().state().usable().is_ok());
}

#[test]
fn records_on_disk_whose_fsync_failed_are_told_as_changes() {
    let dir = TempDir::new("imap-broken-sync");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let a = account.select("INBOX", false, 100).unwrap();
    let b = account.select("INBOX", false, 100).unwrap();
    fault(&account, "INBOX", Some(folder::Fault::Sync));
    let stored = a.store(&uids(&[1]), StoreKind::Add, &[keyword("maybe")], None, true);
    assert!(matches!(stored, Err(MailboxError::Io(_))), "{stored:?}");
    fault(&account, "INBOX", None);
    // The record reached the log after all: read again, it is a change both are told of.
    for session in [&a, &b] {
        let changes = session.changes().unwrap();
        assert!(
            matches!(&changes[..], [Change::Flags { uid, flags, .. }] if *uid == nz(1) && flags == &[keyword("maybe")]),
            "{changes:?}"
        );
    }
}

#[test]
fn a_folder_read_again_with_a_new_uidvalidity_interrupts_its_sessions() {
    let dir = TempDir::new("imap-broken-rebuilt");
    let (_store, account) = open(&dir.0);
    append(&account, "INBOX", &[b"one\r\n"]);
    let a = account.select("INBOX", false, 100).unwrap();
    let b = account.select("INBOX", false, 100).unwrap();
    let validity = a.snapshot().uid_validity;
    fault(&account, "INBOX", Some(folder::Fault::Write));
    assert!(
        a.store(&uids(&[1]), StoreKind::Add, &[Flag::Seen], None, true)
            .is_err()
    );
    // Meanwhile the snapshot is damaged: the index is rebuilt with a new UIDVALIDITY.
    fs::write(account.maildir().join(SNAPSHOT_FILE), b"damaged\n").unwrap();
    fault(&account, "INBOX", None);
    let (changes, log) = logged(|| a.changes());
    assert_eq!(changes, Err(Interrupted::Unavailable));
    assert!(
        log.contains("differs from what its sessions know; they are closed"),
        "{log}"
    );
    assert_eq!(b.changes(), Err(Interrupted::Unavailable));
    // Never "deleted": the folder is there, and a new session sees the new UIDVALIDITY.
    let c = account.select("INBOX", false, 100).unwrap();
    assert!(c.snapshot().uid_validity > validity);
    assert_eq!(c.snapshot().uids, uids(&[1]));
    assert_eq!(c.changes(), Ok(Vec::new()));
}
