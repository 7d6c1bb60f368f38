//! Folder commands: PLACEHOLDER on branch i19-service only, replaced by helper "folders"'s
//! module (branch i19-folders) at the merge. It answers every folder command `NO`.

use imap_proto::command::CommandBody;
use imap_proto::core::Tag;
use imap_proto::mailbox::Mailbox;
use imap_proto::response::{Code, StatusKind};
use imap_proto::server::{Server, ServerError};

use crate::store::mailboxes::Account;

/// The UTF-8 folder name of a mailbox argument.
pub(crate) fn folder_name(mailbox: &Mailbox<'_>) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_owned(),
        other => other
            .to_utf8()
            .map(|n| n.into_owned())
            .unwrap_or_else(|_| String::from_utf8_lossy(other.as_bytes()).into_owned()),
    }
}

/// Whether `body` is a folder command.
pub(crate) fn is_folder_command(body: &CommandBody<'_>) -> bool {
    matches!(
        body,
        CommandBody::Create { .. }
            | CommandBody::Delete { .. }
            | CommandBody::Rename { .. }
            | CommandBody::Subscribe { .. }
            | CommandBody::Unsubscribe { .. }
            | CommandBody::List { .. }
            | CommandBody::Lsub { .. }
            | CommandBody::Status { .. }
    )
}

/// Answers a folder command: `NO` until the folders module lands.
pub(crate) fn answer(
    _account: &Account,
    server: &mut Server,
    _tag: &Tag<'static>,
    _body: CommandBody<'static>,
    _selected: Option<&str>,
) -> Result<(), ServerError> {
    server.complete(
        StatusKind::No,
        Some(Code::Cannot),
        "Folders are not served yet",
    )
}
