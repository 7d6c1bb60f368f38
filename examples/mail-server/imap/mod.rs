//! The IMAP service (issue 19); on this branch only its folder commands.

pub(crate) mod folders;
