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

/// `1*DIGIT` as a `u64` (message and maildrop sizes).
pub(crate) fn size(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}
