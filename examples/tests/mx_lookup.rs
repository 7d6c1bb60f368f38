//! End-to-end tests of the `mx-lookup` example: the real binary (built by `cargo test` next to
//! this test binary) against dnsmasq, a DNS server we did not write, started on loopback by
//! each test (the helper is mx-resolve's, `crates/mx-resolve/tests/support/dnsmasq.rs`). Never
//! skipped under `CI=true`.

mod support;

#[path = "../../crates/mx-resolve/tests/support/dnsmasq.rs"]
mod dnsmasq;

use std::net::UdpSocket;
use std::process::{Command, Output};

use dnsmasq::Dnsmasq;
use support::example_bin;

fn run(args: &[&str]) -> Output {
    Command::new(example_bin("mx-lookup"))
        .args(args)
        .output()
        .expect("run mx-lookup")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn zone() -> Vec<String> {
    [
        "--mx-host=mx.test,mx1.mx.test,10",
        "--mx-host=mx.test,mx2.mx.test,20",
        "--host-record=mx1.mx.test,127.0.0.2",
        "--host-record=mx2.mx.test,127.0.0.3,fd00::3",
        "--mx-host=null.test,.,0",
    ]
    .iter()
    .map(ToString::to_string)
    .collect()
}

#[test]
fn prints_the_candidates_in_delivery_order() {
    let Some(server) = Dnsmasq::start(&zone()) else {
        return;
    };
    let addr = server.addr.to_string();
    let output = run(&["--server", &addr, "mx.test"]);
    assert_eq!(text(&output.stderr), "");
    assert_eq!(
        text(&output.stdout),
        "10 mx1.mx.test. 127.0.0.2\n20 mx2.mx.test. fd00::3\n20 mx2.mx.test. 127.0.0.3\n"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_null_mx_is_a_permanent_failure_on_stderr() {
    let Some(server) = Dnsmasq::start(&zone()) else {
        return;
    };
    let addr = server.addr.to_string();
    let output = run(&["--server", &addr, "null.test"]);
    assert_eq!(text(&output.stdout), "");
    assert_eq!(
        text(&output.stderr),
        "permanent 5.1.10: null.test. does not accept mail (null MX, RFC 7505)\n"
    );
    assert_eq!(output.status.code(), Some(1));

    let output = run(&["--server", &addr, "nope.test"]);
    assert_eq!(
        text(&output.stderr),
        "permanent 5.4.4: nope.test.: no such domain (NXDOMAIN)\n"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn a_silent_nameserver_is_a_temporary_failure() {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap().to_string();
    let output = run(&["--server", &addr, "--timeout", "0.1", "mx.test"]);
    assert_eq!(
        text(&output.stderr),
        "temporary 4.4.3: MX lookup of mx.test.: timed out\n"
    );
    assert_eq!(output.status.code(), Some(75));
}

#[test]
fn address_literals_need_no_nameserver() {
    let output = run(&["--server", "127.0.0.1:9", "[IPv6:2001:db8::7]"]);
    assert_eq!(text(&output.stdout), "0 . 2001:db8::7\n");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn help_and_usage_errors() {
    let output = run(&["--help"]);
    let help = text(&output.stdout);
    assert!(help.contains("PREFERENCE EXCHANGE ADDRESS"), "{help}");
    assert!(help.contains("permanent 5.1.10:"), "{help}");
    assert!(help.contains("--server IP:PORT"), "{help}");
    assert_eq!(output.status.code(), Some(0));

    for args in [
        &[][..],
        &["--server", "nonsense", "a.test"],
        &["a.test", "b.test"],
        &["--bogus", "a.test"],
    ] {
        let output = run(args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(text(&output.stderr).starts_with("mx-lookup: "), "{args:?}");
    }
}
