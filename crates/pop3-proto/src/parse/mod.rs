//! Parsers, one function per ABNF rule, over complete lines (docs/design.md section 2.3):
//! framing has already found the line and its CRLF is gone.

pub(crate) mod capability;
pub(crate) mod command;
pub(crate) mod response;

/// `1*DIGIT` as a `u32`, with no sign, no leading `+`, and no overflow.
pub(crate) fn number(text: &str) -> Option<u32> {
    if text.is_empty() || text.len() > 10 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// `1*DIGIT` as a line count (`TOP`'s second argument): any non-negative number (RFC 1939
/// section 7), a count past `u32::MAX` read as `u32::MAX`, every line of the message. At most
/// [`MAX_COMMAND_LINE`] digits: no count is longer than the line that carries it.
///
/// [`MAX_COMMAND_LINE`]: crate::MAX_COMMAND_LINE
pub(crate) fn count(text: &str) -> Option<u32> {
    if text.is_empty()
        || text.len() > crate::MAX_COMMAND_LINE
        || !text.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let significant = text.trim_start_matches('0');
    if significant.is_empty() {
        return Some(0);
    }
    // Past 10 significant digits the value is past u32::MAX; within them it fits a u64.
    let value = if significant.len() > 10 {
        u64::MAX
    } else {
        significant.parse().unwrap_or(u64::MAX)
    };
    Some(u32::try_from(value).unwrap_or(u32::MAX))
}

/// `1*DIGIT` as a `u64` (message and maildrop sizes).
pub(crate) fn size(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
