//! `command` (RFC 1939 section 3, RFC 2449 section 3): a keyword of 3 or 4 letters, then
//! arguments separated by single spaces.

use mail_wire::Secret;

use super::{count, number};
use crate::command::Command;
use crate::error::CommandError;

/// One command line, without its CRLF.
pub(crate) fn command(line: &[u8]) -> Result<Command<'_>, CommandError> {
    let line = match std::str::from_utf8(line) {
        Ok(line) => line,
        Err(error) => {
            return Err(CommandError::NotUtf8 {
                offset: error.valid_up_to(),
            });
        }
    };
    if let Some(offset) = line.bytes().position(|b| b < 0x20 || b == 0x7f) {
        // Control octets (NUL, a bare CR or LF) are never part of a command.
        return Err(CommandError::BadArgument { verb: "", offset });
    }
    let (keyword, rest) = match line.find(' ') {
        Some(space) => (&line[..space], Some((&line[space + 1..], space + 1))),
        None => (line, None),
    };
    let verb = verb(keyword)?;
    let none = |command: Command<'static>| match rest {
        None => Ok(command),
        Some((_, offset)) => Err(CommandError::UnexpectedArgument {
            verb,
            offset: offset - 1,
        }),
    };
    let arg = || rest.ok_or(CommandError::MissingArgument { verb });
    match verb {
        "STAT" => none(Command::Stat),
        "NOOP" => none(Command::Noop),
        "RSET" => none(Command::Rset),
        "QUIT" => none(Command::Quit),
        "CAPA" => none(Command::Capa),
        "STLS" => none(Command::Stls),
        "UTF8" => none(Command::Utf8),
        "LIST" => Ok(Command::List(optional_number(verb, rest)?)),
        "UIDL" => Ok(Command::Uidl(optional_number(verb, rest)?)),
        "RETR" => Ok(Command::Retr(one_number(verb, arg()?)?)),
        "DELE" => Ok(Command::Dele(one_number(verb, arg()?)?)),
        "TOP" => {
            let (args, offset) = arg()?;
            let Some((message, lines)) = args.split_once(' ') else {
                return Err(CommandError::MissingArgument { verb });
            };
            let message = number(message).ok_or(CommandError::BadArgument { verb, offset })?;
            let offset = offset + args.len() - lines.len();
            let lines = count(lines).ok_or(CommandError::BadArgument { verb, offset })?;
            Ok(Command::Top { message, lines })
        }
        "USER" => {
            let (name, offset) = arg()?;
            word(verb, name, offset)?;
            Ok(Command::User(name))
        }
        // The password is the rest of the line: RFC 1939 section 7 lets it hold spaces.
        "PASS" => {
            let (password, _) = arg()?;
            if password.is_empty() {
                return Err(CommandError::MissingArgument { verb });
            }
            Ok(Command::Pass(Secret::new(password.to_owned())))
        }
        "APOP" => {
            let (args, offset) = arg()?;
            let Some((name, digest)) = args.rsplit_once(' ') else {
                return Err(CommandError::MissingArgument { verb });
            };
            word(verb, name, offset)?;
            let digest_offset = offset + name.len() + 1;
            if digest.len() != 32 || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(CommandError::BadArgument {
                    verb,
                    offset: digest_offset,
                });
            }
            Ok(Command::Apop { name, digest })
        }
        "AUTH" => {
            let (args, offset) = arg()?;
            let (mechanism, initial) = match args.split_once(' ') {
                Some((mechanism, initial)) => (mechanism, Some(initial)),
                None => (args, None),
            };
            if mechanism.is_empty()
                || mechanism.len() > 20
                || !mechanism
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err(CommandError::BadArgument { verb, offset });
            }
            let initial_response = match initial {
                None => None,
                Some(initial) => {
                    let at = offset + mechanism.len() + 1;
                    if initial.is_empty() || initial.contains(' ') {
                        return Err(CommandError::BadArgument { verb, offset: at });
                    }
                    Some(Secret::new(initial.to_owned()))
                }
            };
            Ok(Command::Auth {
                mechanism,
                initial_response,
            })
        }
        "LANG" => match rest {
            None => Ok(Command::Lang(None)),
            Some((range, offset)) => {
                word(verb, range, offset)?;
                Ok(Command::Lang(Some(range)))
            }
        },
        _ => Err(CommandError::UnknownCommand),
    }
}

/// The keyword, matched case-insensitively against the commands POP3 defines.
fn verb(keyword: &str) -> Result<&'static str, CommandError> {
    const VERBS: [&str; 17] = [
        "USER", "PASS", "APOP", "AUTH", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "QUIT",
        "TOP", "UIDL", "CAPA", "STLS", "UTF8", "LANG",
    ];
    VERBS
        .into_iter()
        .find(|verb| verb.eq_ignore_ascii_case(keyword))
        .ok_or(CommandError::UnknownCommand)
}

/// A single word argument: not empty, no space.
fn word(verb: &'static str, text: &str, offset: usize) -> Result<(), CommandError> {
    match text.find(' ') {
        _ if text.is_empty() => Err(CommandError::MissingArgument { verb }),
        Some(space) => Err(CommandError::UnexpectedArgument {
            verb,
            offset: offset + space,
        }),
        None => Ok(()),
    }
}

fn one_number(verb: &'static str, (text, offset): (&str, usize)) -> Result<u32, CommandError> {
    if let Some(space) = text.find(' ') {
        return Err(CommandError::UnexpectedArgument {
            verb,
            offset: offset + space,
        });
    }
    number(text).ok_or(CommandError::BadArgument { verb, offset })
}

fn optional_number(
    verb: &'static str,
    rest: Option<(&str, usize)>,
) -> Result<Option<u32>, CommandError> {
    rest.map(|arg| one_number(verb, arg)).transpose()
}
