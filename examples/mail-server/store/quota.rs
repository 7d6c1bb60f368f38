//! How much each mailbox holds (for the per-account quota) and how much room the data file
//! system has left (for the free-space guard).
//!
//! # Usage accounting
//! A mailbox's usage is the total size of the regular files in its `new/` and `cur/` and in
//! those of its IMAP folders (what a reader sees; `tmp/` holds deliveries in progress). The first [`Store::usage`] of an account
//! scans its Maildir once; after that the total is kept in memory and grown by
//! [`Store::add_usage`] on every delivery, so a check costs a map lookup. Anything else that
//! changes a Maildir (a POP3 or IMAP delete, a user's `rm`) is caught up with in two ways:
//! a deleter calls [`Store::forget_usage`], which makes the next check scan again, and every
//! total is re-scanned anyway once it is [`RESCAN_AFTER`] old.
//!
//! The last check of a message, once its size is known, is [`Store::reserve`]: it adds the
//! message to the total if it fits, in one step under the lock, so concurrent deliveries to
//! one mailbox cannot all pass a check made before any of them was counted; a delivery that
//! then fails gives its octets back with [`Store::release`].

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::Store;
use crate::accounts::Address;

/// Age after which a kept usage total is computed again from the Maildir.
pub const RESCAN_AFTER: Duration = Duration::from_secs(5 * 60);

/// The usage totals kept in memory: one entry per account that received or was checked (all
/// of them accounts of the server, so the map is bounded by the accounts file).
#[derive(Debug, Default)]
pub(super) struct Usage {
    totals: Mutex<HashMap<Address, Total>>,
}

#[derive(Debug, Clone, Copy)]
struct Total {
    bytes: u64,
    scanned: Instant,
}

impl Usage {
    fn totals(&self) -> std::sync::MutexGuard<'_, HashMap<Address, Total>> {
        // Nothing panics while holding the lock; if something did, the map is still whole.
        self.totals.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store {
    /// The octets held in `account`'s Maildir (`new/` and `cur/`), from the kept total or,
    /// when there is none or it is [`RESCAN_AFTER`] old, from a scan.
    pub fn usage(&self, account: &Address) -> io::Result<u64> {
        if let Some(total) = self.inner.usage.totals().get(account) {
            if total.scanned.elapsed() < RESCAN_AFTER {
                return Ok(total.bytes);
            }
        }
        let scanned = Instant::now();
        let bytes = scan(&self.maildir(account))?;
        self.inner
            .usage
            .totals()
            .insert(account.clone(), Total { bytes, scanned });
        Ok(bytes)
    }

    /// Adds a delivered message's `bytes` to the kept total of `account` (nothing when there
    /// is none: the next [`usage`](Self::usage) scans, and sees the message).
    pub fn add_usage(&self, account: &Address, bytes: u64) {
        if let Some(total) = self.inner.usage.totals().get_mut(account) {
            total.bytes = total.bytes.saturating_add(bytes);
        }
    }

    /// Adds `bytes` to the kept total of `account` if the total stays within `quota`, as one
    /// step (check and count together, so concurrent deliveries cannot all fit in the same
    /// room); returns whether it did. Scans first when there is no fresh total.
    pub fn reserve(&self, account: &Address, bytes: u64, quota: u64) -> io::Result<bool> {
        let current = self.usage(account)?;
        let mut totals = self.inner.usage.totals();
        // Forgotten between the scan and the lock: the scan's figure is as fresh as any.
        let total = totals.entry(account.clone()).or_insert(Total {
            bytes: current,
            scanned: Instant::now(),
        });
        if total.bytes.saturating_add(bytes) > quota {
            return Ok(false);
        }
        total.bytes += bytes;
        Ok(true)
    }

    /// Takes back `bytes` that [`reserve`](Self::reserve) counted for a delivery that did not
    /// happen.
    pub fn release(&self, account: &Address, bytes: u64) {
        if let Some(total) = self.inner.usage.totals().get_mut(account) {
            total.bytes = total.bytes.saturating_sub(bytes);
        }
    }

    /// Drops the kept total of `account`, so the next [`usage`](Self::usage) scans its
    /// Maildir: for whatever removes messages (POP3 `DELE`, IMAP `EXPUNGE`).
    pub fn forget_usage(&self, account: &Address) {
        self.inner.usage.totals().remove(account);
    }

    /// The octets an unprivileged process may still write on the file system of the store
    /// (`statvfs`: available blocks times the fragment size).
    pub fn free_space(&self) -> io::Result<u64> {
        let stat = rustix::fs::statvfs(self.root())?;
        Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
    }
}

/// The total size of the regular files in the `new/` and `cur/` of `maildir` and of its
/// IMAP folders (the Maildir++ subdirectories `.name`); 0 for a Maildir that does not exist
/// yet.
fn scan(maildir: &Path) -> io::Result<u64> {
    let mut bytes = scan_folder(maildir)?;
    let entries = match fs::read_dir(maildir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let folder = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with('.'));
        if folder && entry.file_type()?.is_dir() {
            bytes = bytes.saturating_add(scan_folder(&entry.path())?);
        }
    }
    Ok(bytes)
}

/// The total size of the regular files in one folder's `new/` and `cur/`.
fn scan_folder(maildir: &Path) -> io::Result<u64> {
    let mut bytes = 0u64;
    for sub in ["new", "cur"] {
        let entries = match fs::read_dir(maildir.join(sub)) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for entry in entries {
            let entry = entry?;
            // A file removed between the listing and the look is simply not counted.
            match entry.metadata() {
                Ok(meta) if meta.is_file() => bytes = bytes.saturating_add(meta.len()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::tests::TempDir;

    #[test]
    fn usage_is_scanned_once_then_kept_and_forgotten_on_demand() {
        let dir = TempDir::new("quota");
        let store = Store::open(&dir.0, "mx.example").unwrap();
        let alice = Address::parse("alice@example.com").unwrap();
        assert_eq!(store.usage(&alice).unwrap(), 0);
        let maildir = store.create_maildir(&alice).unwrap();
        fs::write(maildir.join("new").join("a"), [0u8; 100]).unwrap();
        fs::write(maildir.join("cur").join("b:2,S"), [0u8; 20]).unwrap();
        fs::write(maildir.join("tmp").join("c"), [0u8; 7]).unwrap();
        // The kept total (0) is used until it is forgotten...
        assert_eq!(store.usage(&alice).unwrap(), 0);
        store.add_usage(&alice, 5);
        assert_eq!(store.usage(&alice).unwrap(), 5);
        // ...then new/ and cur/ are scanned, tmp/ is not counted.
        store.forget_usage(&alice);
        assert_eq!(store.usage(&alice).unwrap(), 120);
        store.add_usage(&alice, 30);
        assert_eq!(store.usage(&alice).unwrap(), 150);
        // A reservation counts at once if it fits (exactly the quota fits), not otherwise.
        assert!(store.reserve(&alice, 50, 200).unwrap());
        assert_eq!(store.usage(&alice).unwrap(), 200);
        assert!(!store.reserve(&alice, 1, 200).unwrap());
        assert_eq!(store.usage(&alice).unwrap(), 200);
        store.release(&alice, 50);
        assert_eq!(store.usage(&alice).unwrap(), 150);
        // Without a kept total, a reservation scans first.
        store.forget_usage(&alice);
        assert!(!store.reserve(&alice, 81, 200).unwrap());
        assert!(store.reserve(&alice, 80, 200).unwrap());
        assert_eq!(store.usage(&alice).unwrap(), 200);
        assert!(store.free_space().unwrap() > 0);
    }
}
