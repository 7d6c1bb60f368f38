//! Shared input generators for the sansmail benchmarks.
//!
//! The benchmarks live in `benches/benches/`; run them with `cargo bench -p sansmail-benches`.

/// A message body of `size` bytes (at least) made of 76-character lines plus CRLF, where every
/// 50th line starts with a dot (so an encoder must stuff it), without the end marker.
pub fn message_body(size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size + 80);
    let mut line = 0usize;
    while out.len() < size {
        if line % 50 == 7 {
            out.push(b'.');
        }
        while out.len() % 78 < 76 && out.len() < size + 76 {
            let c = b"abcdefghijklmnopqrstuvwxyz0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                [(out.len() * 7 + line) % 63];
            out.push(c);
            if out.len() % 78 == 76 {
                break;
            }
        }
        out.extend_from_slice(b"\r\n");
        line += 1;
    }
    out
}

/// `count` command-like lines of exactly 80 bytes including CRLF.
pub fn lines_80(count: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(count * 80);
    for i in 0..count {
        let start = out.len();
        out.extend_from_slice(format!("RCPT TO:<user{i}@example.org>").as_bytes());
        out.resize(start + 78, b' ');
        out.extend_from_slice(b"\r\n");
    }
    out
}
