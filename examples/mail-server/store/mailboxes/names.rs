//! Folder names and the directories that hold them (Maildir++).
//!
//! INBOX is the account's Maildir; the folder `a/b` is the directory `<maildir>/.a.b`, each
//! component encoded by [`encode`]: ASCII letters and digits and `` -_+,;=!#$&'()@[]^{}~` ``
//! and space stay; every other octet (`.`, `/`, `%`, `\`, `:`, `*`, `?`, `"`, `<`, `>`, `|`,
//! controls, and the octets of non-ASCII UTF-8) becomes `%XX` (upper-case hex). The mapping
//! is reversible ([`name_of_dir`]) and no component can name `.`, `..` or another directory.
//! A name is refused ([`MailboxError::BadName`]) when a component is empty, `.` or `..`, when
//! it holds a control character, or when its directory name would pass [`MAX_DIR_NAME`].
//! `INBOX` is matched without regard to case, as the first component too (`inbox/x` is
//! `INBOX/x`).

use std::path::{Path, PathBuf};

use super::{DELIMITER, MailboxError};

/// The longest directory name a folder may have (most file systems allow 255 octets).
pub(super) const MAX_DIR_NAME: usize = 255;

/// The canonical form of an IMAP folder name: a trailing delimiter dropped, a first
/// component `INBOX` in any case written `INBOX`; refused as the module docs say.
pub(super) fn canonical(name: &str) -> Result<String, MailboxError> {
    let name = name.strip_suffix(DELIMITER).unwrap_or(name);
    if name.is_empty() {
        return Err(MailboxError::BadName("empty name"));
    }
    if name.chars().any(char::is_control) {
        return Err(MailboxError::BadName("control character in the name"));
    }
    let mut out = String::with_capacity(name.len());
    for (i, part) in name.split(DELIMITER).enumerate() {
        match part {
            "" => return Err(MailboxError::BadName("empty hierarchy level")),
            "." | ".." => return Err(MailboxError::BadName("\".\" or \"..\" as a level")),
            _ => {}
        }
        if i > 0 {
            out.push(DELIMITER);
        }
        if i == 0 && part.eq_ignore_ascii_case("INBOX") {
            out.push_str("INBOX");
        } else {
            out.push_str(part);
        }
    }
    if out != "INBOX" && dir_name(&out).len() > MAX_DIR_NAME {
        return Err(MailboxError::BadName("name too long"));
    }
    Ok(out)
}

/// Whether the canonical `name` is INBOX.
pub(super) fn is_inbox(name: &str) -> bool {
    name == "INBOX"
}

/// The directory of the canonical folder `name` in `maildir`.
pub(super) fn dir_of(maildir: &Path, name: &str) -> PathBuf {
    if is_inbox(name) {
        maildir.to_path_buf()
    } else {
        maildir.join(dir_name(name))
    }
}

/// `.` and the encoded components joined with `.`.
fn dir_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    for part in name.split(DELIMITER) {
        out.push('.');
        encode(part, &mut out);
    }
    out
}

/// Encodes one component (see the module docs).
fn encode(part: &str, out: &mut String) {
    for b in part.bytes() {
        let keep = b.is_ascii_alphanumeric() || b" -_+,;=!#$&'()@[]^{}~`".contains(&b);
        if keep {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The canonical folder name a directory entry of a Maildir holds, `None` when the entry is
/// not a folder of this store (not `.`-prefixed, an empty component, a bad escape, a name
/// that is not canonical, INBOX itself).
pub(super) fn name_of_dir(dir_name_: &str) -> Option<String> {
    let rest = dir_name_.strip_prefix('.')?;
    let mut name = String::with_capacity(rest.len());
    for (i, part) in rest.split('.').enumerate() {
        if part.is_empty() {
            return None;
        }
        if i > 0 {
            name.push(DELIMITER);
        }
        name.push_str(&super::index::unescape(part)?);
    }
    let canonical = canonical(&name).ok()?;
    (canonical == name && !is_inbox(&name) && dir_name(&name) == dir_name_).then_some(name)
}

/// Whether `name` is `parent` or under it.
pub(super) fn is_within(name: &str, parent: &str) -> bool {
    name == parent
        || name
            .strip_prefix(parent)
            .is_some_and(|rest| rest.starts_with(DELIMITER))
}

/// The names of the parents of `name`, outermost first (`a`, `a/b` for `a/b/c`).
pub(super) fn parents(name: &str) -> Vec<&str> {
    name.match_indices(DELIMITER)
        .map(|(at, _)| &name[..at])
        .collect()
}
