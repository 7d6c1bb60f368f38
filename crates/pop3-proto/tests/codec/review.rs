//! Review findings on the codec: response codes as RFC 2449 section 9 defines them
//! (`resp-level = 1*rchar`, `rchar` any printable ASCII but `/` and `]`), not only letters,
//! digits and hyphens. A client that refuses a well-formed code ends its session on a
//! server's ordinary answer.

use pop3_proto::{RespCode, Response, Status};

#[test]
fn response_codes_take_every_rchar() {
    for (line, name, text) in [
        (&b"-ERR [X_VENDOR] busy"[..], "X_VENDOR", "busy"),
        (b"-ERR [sys/temp] later", "sys/temp", "later"),
        (b"+OK [X.Y/Z!] fine", "X.Y/Z!", "fine"),
        (b"-ERR [A[B]", "A[B", ""),
    ] {
        let response = Response::parse(line)
            .unwrap_or_else(|e| panic!("{}: {e}", String::from_utf8_lossy(line)));
        assert_eq!(response.code().map(RespCode::name), Some(name));
        assert_eq!(response.text(), text);
        assert_eq!(response.is_ok(), response.status() == Status::Ok);
    }
    // Not codes: an empty level, a space (outside rchar), an unclosed bracket.
    for line in [
        &b"-ERR [] x"[..],
        b"-ERR [A//B] x",
        b"-ERR [A B] x",
        b"-ERR [AUTH",
    ] {
        assert!(
            Response::parse(line).is_err(),
            "{}",
            String::from_utf8_lossy(line)
        );
    }
}
