//! What a server computes from a stored message for FETCH and SEARCH: ENVELOPE,
//! BODYSTRUCTURE, `BODY[section]<partial>` and `BINARY[section]` extraction, the header fields
//! and text a SEARCH key looks at, all through the `mail-parser` MIME parser (feature `mime`).

/// A raw message (RFC 5322, possibly MIME) parsed once, for every FETCH and SEARCH helper of
/// this module. It borrows the raw octets; nothing is copied until a helper must decode.
pub struct ParsedMessage<'a> {
    raw: &'a [u8],
    /// `None` when `raw` holds no header field at all (mail-parser then finds no message):
    /// the helpers treat such octets as a body with an empty header.
    parsed: Option<mail_parser::Message<'a>>,
}

impl<'a> ParsedMessage<'a> {
    /// Parses `raw`. Never fails: any octets are a message (with no header fields, or a body
    /// only, when they are not RFC 5322).
    pub fn parse(raw: &'a [u8]) -> Self {
        let parsed = mail_parser::MessageParser::new().parse(raw);
        ParsedMessage { raw, parsed }
    }

    /// The octets as stored.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    /// The parse, for the helpers of this module; `None` for octets without a header field.
    pub(crate) fn parsed(&self) -> Option<&mail_parser::Message<'a>> {
        self.parsed.as_ref()
    }
}

impl std::fmt::Debug for ParsedMessage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedMessage")
            .field("octets", &self.raw.len())
            .field("parts", &self.parsed.as_ref().map_or(0, |m| m.parts.len()))
            .finish()
    }
}
