//! The lexical building blocks: tags, atoms, strings (quoted and literal), `astring`,
//! `nstring`, and free text.

/// How a literal is sent (RFC 3501 section 4.3, RFC 7888).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LiteralMode {
    /// `{n}`: the client waits for a continuation request before sending the data.
    #[default]
    Sync,
    /// `{n+}` (LITERAL+ / LITERAL-): the data follows at once.
    NonSync,
}
