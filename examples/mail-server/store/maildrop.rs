//! What a mail reader (POP3) does with a Maildir: list it, mark a message seen, remove
//! messages. No protocol here: `pop3.rs` decides when.
//!
//! - **Unique-ids** ([`uid_for`]): a message's id is its Maildir unique name, the part of the
//!   file name before the `:2,` flags, which never changes: not when the message moves from
//!   `new/` to `cur/`, not when its flags change, not across restarts. A name longer than 70
//!   octets (the most RFC 1939 section 7 allows; unique names run to about 47 characters plus
//!   the host name) or holding an octet a unique-id may not (outside `0x21..=0x7E`) is
//!   replaced by the lower-case hex SHA-256 of the name, 64 octets, stable in the same way.
//! - **Sizes** ([`crlf_size`]): the octets as `RETR` sends them, every line ending CRLF (RFC
//!   1939 section 11): a bare LF or bare CR counts two, and a last line without a line end
//!   counts the CRLF sent after it. Deliveries write that size into the file name (`,W=`,
//!   beside the file size `,S=`, as Dovecot does), so that listing a maildrop reads no message
//!   ([`sent_size`]); a file without them, or whose length no longer matches `S=`, is read.
//! - **Seen** ([`Store::mark_seen`]): `new/NAME` is renamed to `cur/NAME:2,S` (a file already
//!   in `cur/` gains `S` among its flags), then both directories are fsynced: a crash leaves
//!   the message in one place or the other, never in both or neither.
//! - **Removal** ([`Store::remove_messages`]): unlink, fsync of the directories, and the
//!   quota's kept total forgotten ([`Store::forget_usage`]) so the next check scans again.
//! - **IMAP**: when the INBOX has an IMAP index (`store::mailboxes`), seen and removal go
//!   through it, so that the index records them and every IMAP session with the INBOX
//!   selected hears them (`\Seen` set, messages expunged).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::Store;
use super::maildir::sync_dir;
use crate::accounts::Address;

/// The longest unique-id RFC 1939 section 7 allows.
pub const MAX_UID: usize = 70;

/// One message of a maildrop as a session lists it when it opens the maildrop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// Where the file was when listed.
    pub path: PathBuf,
    /// The Maildir unique name (the file name before `:`).
    pub name: String,
    /// The unique-id ([`uid_for`] of `name`).
    pub uid: String,
    /// The size as sent ([`sent_size`]).
    pub size: u64,
}

/// The unique name in a Maildir file name: everything before the first `:`.
pub fn unique_name(file_name: &str) -> &str {
    file_name
        .split_once(':')
        .map_or(file_name, |(name, _)| name)
}

/// The unique-id of the message with Maildir unique name `name`: the name itself when it
/// fits a unique-id (at most [`MAX_UID`] octets, each `0x21..=0x7E`), otherwise the hex
/// SHA-256 of the name (64 octets).
pub fn uid_for(name: &str) -> String {
    let fits = !name.is_empty()
        && name.len() <= MAX_UID
        && name.bytes().all(|b| (0x21..=0x7e).contains(&b));
    if fits {
        return name.to_owned();
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Counts octets as `RETR` sends them, fed in pieces: bare LF and bare CR count as CRLF,
/// and a last line without a line end counts the CRLF sent after it.
#[derive(Debug, Default, Clone, Copy)]
pub struct CrlfCounter {
    size: u64,
    after_cr: bool,
    last: Option<u8>,
}

impl CrlfCounter {
    /// Counts the next piece of the message.
    pub fn update(&mut self, bytes: &[u8]) {
        let Some(&last) = bytes.last() else {
            return;
        };
        for &b in bytes {
            self.size += 1;
            // A CR not followed by LF, and an LF not preceded by CR, gain their partner.
            if (self.after_cr && b != b'\n') || (b == b'\n' && !self.after_cr) {
                self.size += 1;
            }
            self.after_cr = b == b'\r';
        }
        self.last = Some(last);
    }

    /// The size as sent of everything counted.
    pub fn total(&self) -> u64 {
        match self.last {
            // A final bare CR goes out as CRLF.
            Some(b'\r') => self.size + 1,
            // A last line without its line end gets a CRLF before the `.` that ends `RETR`.
            Some(b) if b != b'\n' => self.size + 2,
            _ => self.size,
        }
    }
}

/// The size of the file at `path` as `RETR` sends it ([`CrlfCounter`]), read in full.
pub fn crlf_size(path: &Path) -> io::Result<u64> {
    let mut file = File::open(path)?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut counter = CrlfCounter::default();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(counter.total());
        }
        counter.update(&buf[..n]);
    }
}

/// The `,S=<size>` (octets in the file) and `,W=<size as sent>` fields of a unique name, as
/// this server's deliveries write them (Dovecot's convention): `None` unless both are there.
pub fn sizes_in_name(name: &str) -> Option<(u64, u64)> {
    let mut file_size = None;
    let mut sent_size = None;
    for field in name.split(',').skip(1) {
        if let Some(v) = field.strip_prefix("S=") {
            file_size = v.parse().ok();
        } else if let Some(v) = field.strip_prefix("W=") {
            sent_size = v.parse().ok();
        }
    }
    Some((file_size?, sent_size?))
}

/// The size as sent of the message file at `path` with unique name `name`: the name's `W=`
/// when the name carries `S=` and `W=` and the file still has `S` octets (a file edited by
/// hand since is counted again), otherwise [`crlf_size`], which reads the whole file.
pub fn sent_size(path: &Path, name: &str) -> io::Result<u64> {
    if let Some((file_size, sent)) = sizes_in_name(name) {
        if fs::metadata(path)?.len() == file_size {
            return Ok(sent);
        }
    }
    crlf_size(path)
}

/// The order messages are listed in: by delivery time, from the `<secs>.M<micros>` start of
/// the unique name (numbers, so `M999` comes before `M1000`), then by name; a name of
/// another shape after every one of that shape.
pub fn delivery_order(name: &str) -> (u64, u64, String) {
    let time = name.split_once('.').and_then(|(secs, rest)| {
        let micros = rest.strip_prefix('M')?;
        let end = micros
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(micros.len());
        Some((secs.parse().ok()?, micros[..end].parse().ok()?))
    });
    let (secs, micros) = time.unwrap_or((u64::MAX, u64::MAX));
    (secs, micros, name.to_owned())
}

impl Store {
    /// The maildrop of `account`: its messages in `new/` and `cur/` in delivery order
    /// ([`delivery_order`]), each with its unique-id and size. A file whose unique-id repeats
    /// an earlier one (a copy made by hand) is left out: a unique-id names one message.
    pub fn list_maildrop(&self, account: &Address) -> io::Result<Vec<Listed>> {
        let mut seen = std::collections::HashSet::new();
        let mut listed = Vec::new();
        let mut paths = self.messages(account)?;
        paths.sort_by_cached_key(|path| {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            delivery_order(unique_name(name))
        });
        for path in paths {
            let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let name = unique_name(file_name).to_owned();
            let uid = uid_for(&name);
            if !seen.insert(uid.clone()) {
                continue;
            }
            let size = match sent_size(&path, &name) {
                Ok(size) => size,
                // Removed by someone else since the directory was read.
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            listed.push(Listed {
                path,
                name,
                uid,
                size,
            });
        }
        Ok(listed)
    }

    /// Where the message with unique name `name` of `account` is now (in `new/` or `cur/`,
    /// with or without an info part such as `:2,S`: [`Store::list_maildrop`] lists a file of
    /// either shape in either directory); `None` when it is gone.
    pub fn find_message(&self, account: &Address, name: &str) -> io::Result<Option<PathBuf>> {
        let maildir = self.maildir(account);
        let in_new = maildir.join("new").join(name);
        if in_new.is_file() {
            return Ok(Some(in_new));
        }
        for sub in ["cur", "new"] {
            let entries = match fs::read_dir(maildir.join(sub)) {
                Ok(entries) => entries,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                if entry.file_name().to_str().map(unique_name) == Some(name)
                    && entry.file_type()?.is_file()
                {
                    return Ok(Some(entry.path()));
                }
            }
        }
        Ok(None)
    }

    /// Marks the message at `path` seen: `new/NAME` becomes `cur/NAME:2,S`; in `cur/` the
    /// `S` flag joins the others (kept in ASCII order, as the Maildir specification asks).
    /// The rename is atomic and the directories are fsynced. Returns the new path.
    pub fn mark_seen(&self, path: &Path) -> io::Result<PathBuf> {
        // An INBOX with an IMAP index: `\Seen` goes through it (recorded, then mirrored
        // into the file name, and announced to the IMAP sessions).
        if let Some(to) = self.inner.mailboxes.mark_seen(path)? {
            return Ok(to);
        }
        let file_name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| io::Error::other("message file name is not UTF-8"))?;
        let from_dir = path
            .parent()
            .ok_or_else(|| io::Error::other("message file has no directory"))?;
        let maildir = from_dir
            .parent()
            .ok_or_else(|| io::Error::other("message file is not in a Maildir"))?;
        let cur = maildir.join("cur");
        let name = unique_name(file_name);
        let flags = match file_name.split_once(":2,") {
            Some((_, flags)) => flags,
            None => "",
        };
        if flags.contains('S') && from_dir == cur {
            return Ok(path.to_path_buf());
        }
        let mut flags: Vec<char> = flags.chars().chain(['S']).collect();
        flags.sort_unstable();
        flags.dedup();
        let flags: String = flags.into_iter().collect();
        let to = cur.join(format!("{name}:2,{flags}"));
        fs::rename(path, &to)?;
        sync_dir(&cur)?;
        if from_dir != cur {
            sync_dir(from_dir)?;
        }
        Ok(to)
    }

    /// Removes the messages of `account` with these unique `names` (wherever they are now,
    /// with any info part; one already gone is skipped), fsyncs `new/` and `cur/`, and forgets
    /// the kept usage total so the quota sees the room freed. `new/` and `cur/` are read once,
    /// whatever the number of names (a lookup per name would read `cur/` once per message).
    /// Returns how many files it removed.
    pub fn remove_messages(&self, account: &Address, names: &[String]) -> io::Result<usize> {
        // An INBOX with an IMAP index: what it holds is expunged through it (unlink, fsync,
        // record, announced); whatever else matches is removed below.
        let mut removed = match self.inner.mailboxes.remove(&self.maildir(account), names) {
            Ok(n) => n,
            Err(e) => {
                self.forget_usage(account);
                return Err(e.into());
            }
        };
        let wanted: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
        if names.is_empty() {
            return Ok(0);
        }
        let result = (|| {
            let maildir = self.maildir(account);
            for sub in ["new", "cur"] {
                let dir = maildir.join(sub);
                let entries = match fs::read_dir(&dir) {
                    Ok(entries) => entries,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(e),
                };
                for entry in entries {
                    let entry = entry?;
                    let matches = entry
                        .file_name()
                        .to_str()
                        .is_some_and(|n| wanted.contains(unique_name(n)));
                    if !matches || !entry.file_type()?.is_file() {
                        continue;
                    }
                    match fs::remove_file(entry.path()) {
                        Ok(()) => removed += 1,
                        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                        Err(e) => return Err(e),
                    }
                }
                sync_dir(&dir)?;
            }
            Ok(())
        })();
        // Whatever happened, some files may be gone: the next quota check scans again.
        self.forget_usage(account);
        result.map(|()| removed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, bytes: &[u8]) {
        fs::write(path, bytes).unwrap();
    }

    #[test]
    fn sizes_count_every_line_end_as_crlf() {
        let dir = std::env::temp_dir().join(format!("p3srv-size-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let cases: [(&[u8], u64); 8] = [
            (b"no end", 8),
            (b"a\r\nlast", 9),
            (b"a\r\nb\r\n", 6),
            (b"a\nb\n", 6),
            (b"a\rb\r", 6),
            (b"a\r", 3),
            (b"", 0),
            (b"x\r\r\n", 5),
        ];
        for (i, (bytes, size)) in cases.iter().enumerate() {
            let path = dir.join(i.to_string());
            write(&path, bytes);
            assert_eq!(crlf_size(&path).unwrap(), *size, "{bytes:?}");
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Every file of up to 7 octets of `a`, CR and LF: the size counted is the octets the
    /// normalizing dot encoder sends before its `.` CRLF terminator.
    #[test]
    fn sizes_match_what_retr_sends() {
        let dir = std::env::temp_dir().join(format!("rp3srv-sizes-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m");
        for len in 0..=7u32 {
            for code in 0..3u32.pow(len) {
                let bytes: Vec<u8> = (0..len)
                    .map(|i| [b'a', b'\r', b'\n'][(code / 3u32.pow(i) % 3) as usize])
                    .collect();
                write(&path, &bytes);
                let mut out = bytes::BytesMut::new();
                let mut encoder = mail_wire::dot::DotEncoder::normalizing();
                encoder.encode(&bytes, &mut out);
                encoder.finish(&mut out);
                let sent = out.len() - b".\r\n".len();
                assert_eq!(crlf_size(&path).unwrap(), sent as u64, "{bytes:?}");
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// The counter fed in every split of the input counts what reading the file counts: a
    /// CR at the end of one piece and an LF at the start of the next are one line end.
    #[test]
    fn the_counter_in_pieces_counts_what_the_file_reading_counts() {
        let dir = std::env::temp_dir().join(format!("rp3srv-counter-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m");
        for bytes in [&b"a\r\nb\rc\nd"[..], b"\r\n\r\n", b"\r", b"x\r\r\n\n", b""] {
            write(&path, bytes);
            let whole = crlf_size(&path).unwrap();
            for split in 0..=bytes.len() {
                let mut counter = CrlfCounter::default();
                counter.update(&bytes[..split]);
                counter.update(&[]);
                counter.update(&bytes[split..]);
                assert_eq!(counter.total(), whole, "{bytes:?} split at {split}");
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }

    /// Listing takes the size from `W=` while the file still has `S=` octets, and reads the
    /// file when the name has no sizes or the file was changed since it was delivered.
    #[test]
    fn listing_trusts_the_name_only_while_the_file_length_matches() {
        let dir = crate::accounts::tests::TempDir::new("rp3srv-wsize");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = Address::parse("alice@example.com").unwrap();
        let maildir = store.create_maildir(&alice).unwrap();
        // Five octets on disk, six as sent; the name claims W=99 to show which is used.
        write(&maildir.join("new/1.M1P1.h,S=5,W=99"), b"a\nb\r\n");
        // The length no longer matches S=: the file is read (6).
        write(&maildir.join("new/2.M1P1.h,S=4,W=99"), b"a\nb\r\n");
        // No W=: the file is read.
        write(&maildir.join("cur/3.M1P1.h,S=5:2,S"), b"a\nb\r\n");
        let sizes: Vec<(String, u64)> = store
            .list_maildrop(&alice)
            .unwrap()
            .into_iter()
            .map(|m| (m.name, m.size))
            .collect();
        assert_eq!(
            sizes,
            [
                ("1.M1P1.h,S=5,W=99".to_owned(), 99),
                ("2.M1P1.h,S=4,W=99".to_owned(), 6),
                ("3.M1P1.h,S=5".to_owned(), 6),
            ]
        );
        assert_eq!(sizes_in_name("1.M1P1.h,S=6,W=7"), Some((6, 7)));
        assert_eq!(sizes_in_name("1.M1P1.h,W=7,S=6"), Some((6, 7)));
        assert_eq!(sizes_in_name("1.M1P1.h,S=6"), None);
        assert_eq!(sizes_in_name("1.M1P1.h,S=x,W=7"), None);
    }

    /// Removal finds each name in `new/` or `cur/`, with or without an info part, and leaves
    /// every other file; a name already gone is skipped.
    #[test]
    fn remove_messages_finds_names_in_either_directory_with_any_info() {
        let dir = crate::accounts::tests::TempDir::new("rp3srv-remove");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = Address::parse("alice@example.com").unwrap();
        let maildir = store.create_maildir(&alice).unwrap();
        for (sub, file) in [
            ("new", "a"),
            ("new", "b:2,"),
            ("cur", "c:2,S"),
            ("cur", "d"),
            ("new", "keep"),
            ("cur", "kept:2,RS"),
        ] {
            write(&maildir.join(sub).join(file), b"x\r\n");
        }
        let names: Vec<String> = ["a", "b", "c", "d", "gone"].map(String::from).to_vec();
        assert_eq!(store.remove_messages(&alice, &names).unwrap(), 4);
        let mut left: Vec<String> = ["new", "cur"]
            .iter()
            .flat_map(|sub| fs::read_dir(maildir.join(sub)).unwrap())
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["keep", "kept:2,RS"]);
        assert_eq!(store.remove_messages(&alice, &[]).unwrap(), 0);
        assert_eq!(
            store.find_message(&alice, "kept").unwrap(),
            Some(maildir.join("cur").join("kept:2,RS"))
        );
    }

    #[test]
    fn long_or_odd_names_are_hashed_to_a_stable_uid() {
        let short = "1700000000.M1P2Q3R0123456789abcdef.mail.example";
        assert_eq!(uid_for(short), short);
        let long = format!("1700000000.M1P2Q3R0123456789abcdef.{}", "h".repeat(60));
        let uid = uid_for(&long);
        assert_eq!(uid.len(), 64);
        assert_eq!(uid, uid_for(&long));
        assert_ne!(uid, uid_for(&format!("{long}x")));
        assert_eq!(uid_for("has space").len(), 64);
        assert_eq!(unique_name("abc:2,S"), "abc");
        assert_eq!(unique_name("abc"), "abc");
    }

    #[test]
    fn messages_are_listed_in_delivery_order() {
        let mut names = ["10.M1000P1.h", "10.M999P1.h", "9.M5P1.h", "odd"];
        names.sort_by_key(|n| delivery_order(n));
        assert_eq!(names, ["9.M5P1.h", "10.M999P1.h", "10.M1000P1.h", "odd"]);
    }
}
