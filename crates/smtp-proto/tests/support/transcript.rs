//! The transcript format of the tests: RFC-style `S:` (server) and `C:` (client) lines.
//!
//! Each line is sent with CRLF on the wire. A space after the colon is dropped, the rest of
//! the line is kept as written (trailing blanks included). Leading blanks of a line are
//! ignored, so transcripts can be indented; blank lines and lines starting with `#` (comments)
//! are skipped. Consecutive lines of one side form one [`Step`]: a pipelined group of
//! commands, or everything the server answers before the client speaks again.

/// One step of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Bytes the server sends.
    Server(Vec<u8>),
    /// Bytes the client sends.
    Client(Vec<u8>),
    /// The side under test sees the end of input: the peer closed the connection. Never
    /// parsed; tests add it to a transcript.
    Eof,
}

/// Parses a transcript into steps.
///
/// # Panics
///
/// On a line that is not blank, not a comment, and starts with neither `S:` nor `C:`.
pub fn transcript(text: &str) -> Vec<Step> {
    let mut steps: Vec<Step> = Vec::new();
    for (number, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (server, rest) = if let Some(rest) = line.strip_prefix("S:") {
            (true, rest)
        } else if let Some(rest) = line.strip_prefix("C:") {
            (false, rest)
        } else {
            panic!(
                "transcript line {} is neither S: nor C:: {raw:?}",
                number + 1
            );
        };
        let mut bytes = rest.strip_prefix(' ').unwrap_or(rest).as_bytes().to_vec();
        bytes.extend_from_slice(b"\r\n");
        match (steps.last_mut(), server) {
            (Some(Step::Server(b)), true) | (Some(Step::Client(b)), false) => {
                b.extend_from_slice(&bytes)
            }
            _ => steps.push(if server {
                Step::Server(bytes)
            } else {
                Step::Client(bytes)
            }),
        }
    }
    steps
}
