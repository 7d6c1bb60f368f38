//! Taking one message for one or more recipients, durably.
//!
//! # The protocol (the Maildir convention, made crash-safe)
//! 1. [`Store::deliver`] creates a file with a unique name in the first recipient's `tmp/`.
//! 2. [`Delivery::write`] appends the message (for SMTP: the trace headers, then the body) as
//!    it arrives.
//! 3. [`Delivery::commit`] fsyncs the file, hard-links it into the `new/` of every other
//!    recipient (copying through their `tmp/` when a link is impossible), renames it into the
//!    first recipient's `new/`, fsyncs every `new/` directory, and only then returns: the
//!    server acknowledges the message after that, never before. Each INBOX that IMAP has
//!    open indexes the message then (durably) and announces it to its sessions
//!    (`store::mailboxes`); an INBOX not open picks the file up when it is opened.
//!
//! A crash before the renames leaves at most a file in `tmp/`, which no reader looks at and
//! which [`Store::open`] removes once it is 36 hours old; a crash after them but before the
//! acknowledgement may deliver a message the client will send again (SMTP's at-least-once
//! contract). No crash leaves a partial file in `new/`, and no message is acknowledged before
//! it is on disk.
//!
//! Every call blocks on the file system, and `commit` waits for the disk: from async code,
//! move the [`Delivery`] (it is `Send + 'static`) into `tokio::task::spawn_blocking` for the
//! commit, and for writes of large chunks.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use super::Store;
use super::maildir::{copy_durably, create_private, sync_dir};
use super::maildrop::CrlfCounter;
use crate::accounts::Address;

/// Buffer between [`Delivery::write`] and the file, so small chunks cost no system call each.
const WRITE_BUFFER: usize = 64 * 1024;

/// How many fresh names [`Store::deliver`] tries before giving up on `tmp/` collisions.
const NAME_ATTEMPTS: u32 = 8;

impl Store {
    /// Starts a delivery of one message to the Maildirs of `recipients` (each once, however
    /// often it is listed), creating them if needed. Write the message with
    /// [`Delivery::write`], then [`Delivery::commit`] or [`Delivery::abort`].
    pub fn deliver(&self, recipients: &[Address]) -> io::Result<Delivery> {
        let mut seen = HashSet::new();
        let mut maildirs = Vec::new();
        for rcpt in recipients {
            if seen.insert(rcpt) {
                maildirs.push(self.create_maildir(rcpt)?);
            }
        }
        let Some(first) = maildirs.first() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a delivery needs at least one recipient",
            ));
        };
        let mut attempt = 0;
        loop {
            let name = self.unique_name()?;
            let tmp = first.join("tmp").join(&name);
            match create_private(&tmp) {
                Ok(file) => {
                    return Ok(Delivery {
                        hub: self.inner.mailboxes.clone(),
                        maildirs,
                        name,
                        tmp,
                        file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
                        size: 0,
                        sent: CrlfCounter::default(),
                        failed: false,
                        done: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < NAME_ATTEMPTS => {
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// One message on its way into one or more Maildirs.
///
/// Dropping it without [`commit`](Self::commit) is the same as [`abort`](Self::abort): the
/// file in `tmp/` is removed and nothing appears in `new/`.
pub struct Delivery {
    /// The IMAP hub, told of each message committed (`store::mailboxes`).
    hub: super::mailboxes::Mailboxes,
    /// The recipients' Maildirs; the file is created in the first one's `tmp/`.
    maildirs: Vec<PathBuf>,
    /// The unique base name.
    name: String,
    /// The file in the first Maildir's `tmp/`.
    tmp: PathBuf,
    file: Option<BufWriter<File>>,
    size: u64,
    /// The size as a POP3 `RETR` sends the message (every line end CRLF), for `,W=`.
    sent: CrlfCounter,
    /// A write failed: the file may be incomplete, so it can no longer be committed.
    failed: bool,
    /// Committed or cleaned up.
    done: bool,
}

impl fmt::Debug for Delivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Delivery")
            .field("name", &self.name)
            .field("maildirs", &self.maildirs)
            .field("size", &self.size)
            .field("failed", &self.failed)
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// Appends `bytes` to the message. After an error the delivery can only be aborted.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.failed {
            return Err(poisoned());
        }
        let file = self.file.as_mut().ok_or_else(poisoned)?;
        match file.write_all(bytes) {
            Ok(()) => {
                self.size += bytes.len() as u64;
                self.sent.update(bytes);
                Ok(())
            }
            Err(e) => {
                self.failed = true;
                Err(e)
            }
        }
    }

    /// The number of bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The unique base name of the message (usable as a queue id in logs).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Makes the message durable in every recipient's `new/` and returns the paths there.
    ///
    /// Returns only after the file and every `new/` directory have been fsynced; answer 250
    /// after that, never before. On error, nothing written by this delivery is left behind (as
    /// far as removing it succeeds) and the client should be told to retry (4xx).
    pub fn commit(mut self) -> io::Result<Vec<PathBuf>> {
        let result = self.try_commit();
        if let Ok(paths) = &result {
            self.done = true;
            // Durable in every new/: now indexed (durably) and announced to the IMAP
            // sessions of each INBOX that is open.
            for path in paths {
                self.hub.delivered(path);
            }
        }
        result
    }

    fn try_commit(&mut self) -> io::Result<Vec<PathBuf>> {
        if self.failed {
            return Err(poisoned());
        }
        let file = self.file.take().ok_or_else(poisoned)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);

        let final_name = format!("{},S={},W={}", self.name, self.size, self.sent.total());
        let mut placed: Vec<PathBuf> = Vec::with_capacity(self.maildirs.len());
        let result = (|| {
            for maildir in &self.maildirs[1..] {
                let target = maildir.join("new").join(&final_name);
                if fs::hard_link(&self.tmp, &target).is_err() {
                    // Another file system, or one without hard links: copy via its tmp/.
                    let copy = maildir.join("tmp").join(&self.name);
                    let copied =
                        copy_durably(&self.tmp, &copy).and_then(|()| fs::rename(&copy, &target));
                    if let Err(e) = copied {
                        let _ = fs::remove_file(&copy);
                        return Err(e);
                    }
                }
                placed.push(target);
            }
            let target = self.maildirs[0].join("new").join(&final_name);
            fs::rename(&self.tmp, &target)?;
            placed.push(target);
            for maildir in &self.maildirs {
                sync_dir(&maildir.join("new"))?;
            }
            Ok(())
        })();
        match result {
            Ok(()) => {
                // In recipient order: the renamed file (first recipient) was placed last.
                placed.rotate_right(1);
                Ok(placed)
            }
            Err(e) => {
                for path in &placed {
                    let _ = fs::remove_file(path);
                }
                Err(e)
            }
        }
    }

    /// Abandons the message: removes its file from `tmp/`.
    pub fn abort(mut self) {
        self.clean_up();
    }

    fn clean_up(&mut self) {
        if !self.done {
            self.done = true;
            self.file = None;
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.clean_up();
    }
}

fn poisoned() -> io::Error {
    io::Error::other("an earlier write of this delivery failed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::TempDir;
    use std::path::Path;

    fn addr(s: &str) -> Address {
        Address::parse(s).unwrap()
    }

    fn files_in(dir: &Path) -> Vec<PathBuf> {
        match fs::read_dir(dir) {
            Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
            Err(_) => Vec::new(),
        }
    }

    #[test]
    fn delivery_lands_byte_for_byte() {
        let dir = TempDir::new("bytes");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = addr("alice@Example.com");
        let mut delivery = store.deliver(std::slice::from_ref(&alice)).unwrap();
        let mut expected = Vec::new();
        let chunks: Vec<Vec<u8>> = vec![
            b"Return-Path: <bob@example.org>\r\n".to_vec(),
            b"Subject: hi\r\n\r\n".to_vec(),
            (0..=255u8).collect(),
            vec![b'x'; 200_000],
            b"\r\n.\r\nlast line\r\n".to_vec(),
        ];
        for chunk in &chunks {
            delivery.write(chunk).unwrap();
            expected.extend_from_slice(chunk);
        }
        assert_eq!(delivery.size(), expected.len() as u64);
        let name = delivery.name().to_owned();
        let paths = delivery.commit().unwrap();
        assert_eq!(paths.len(), 1);
        let maildir = dir.0.join("mail/example.com/alice");
        assert_eq!(paths[0].parent().unwrap(), maildir.join("new"));
        assert_eq!(fs::read(&paths[0]).unwrap(), expected);
        let file_name = paths[0].file_name().unwrap().to_str().unwrap().to_owned();
        // S= the octets in the file; W= the octets a POP3 RETR sends (bare CR and LF in the
        // 0..=255 chunk count as CRLF), the same figure as reading the file counts.
        let sent = super::super::maildrop::crlf_size(&paths[0]).unwrap();
        assert!(sent > expected.len() as u64);
        assert_eq!(file_name, format!("{name},S={},W={sent}", expected.len()));
        assert!(files_in(&maildir.join("tmp")).is_empty());
        assert!(maildir.join("cur").is_dir());
        assert_eq!(store.messages(&alice).unwrap(), paths);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&paths[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn handles_move_between_threads() {
        fn sendable<T: Send + Sync + 'static>() {}
        sendable::<Store>();
        fn movable<T: Send + 'static>() {}
        movable::<Delivery>();
    }

    #[test]
    fn abort_and_drop_leave_nothing() {
        let dir = TempDir::new("abort");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = addr("alice@example.com");
        let maildir = store.create_maildir(&alice).unwrap();

        let mut aborted = store.deliver(std::slice::from_ref(&alice)).unwrap();
        aborted.write(b"partial").unwrap();
        assert_eq!(files_in(&maildir.join("tmp")).len(), 1);
        aborted.abort();

        {
            let mut dropped = store.deliver(std::slice::from_ref(&alice)).unwrap();
            dropped.write(&[b'y'; 100_000]).unwrap();
        }

        for sub in ["tmp", "new", "cur"] {
            assert!(files_in(&maildir.join(sub)).is_empty(), "{sub}");
        }
        assert!(store.messages(&alice).unwrap().is_empty());
    }

    #[test]
    fn multiple_recipients_each_get_the_message() {
        let dir = TempDir::new("multi");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let rcpts = [
            addr("alice@example.com"),
            addr("bob@example.com"),
            addr("carol@example.org"),
            addr("alice@EXAMPLE.com"),
        ];
        let mut delivery = store.deliver(&rcpts).unwrap();
        delivery.write(b"Subject: all\r\n\r\nbody\r\n").unwrap();
        let paths = delivery.commit().unwrap();
        assert_eq!(paths.len(), 3, "alice appears twice but gets one copy");
        for rcpt in &rcpts {
            let messages = store.messages(rcpt).unwrap();
            assert_eq!(messages.len(), 1, "{rcpt}");
            assert_eq!(
                fs::read(&messages[0]).unwrap(),
                b"Subject: all\r\n\r\nbody\r\n"
            );
            let tmp = store.maildir(rcpt).join("tmp");
            assert!(files_in(&tmp).is_empty(), "{rcpt}");
        }
        assert!(store.deliver(&[]).is_err());
    }

    #[test]
    fn names_never_collide_across_10000_deliveries() {
        let dir = TempDir::new("unique");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = addr("alice@example.com");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let store = store.clone();
                let alice = alice.clone();
                std::thread::spawn(move || {
                    for i in 0..2500 {
                        let mut d = store.deliver(std::slice::from_ref(&alice)).unwrap();
                        d.write(format!("{t}-{i}").as_bytes()).unwrap();
                        d.commit().unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let messages = store.messages(&alice).unwrap();
        assert_eq!(messages.len(), 10_000);
        let mut contents: Vec<Vec<u8>> = messages.iter().map(|p| fs::read(p).unwrap()).collect();
        contents.sort();
        contents.dedup();
        assert_eq!(contents.len(), 10_000, "every delivery kept its own file");
        let names: HashSet<String> = (0..10_000).map(|_| store.unique_name().unwrap()).collect();
        assert_eq!(names.len(), 10_000);
    }
}
