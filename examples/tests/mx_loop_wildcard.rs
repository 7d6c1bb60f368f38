//! MX loop detection with the SMTP listener bound to the whole IPv4 family (`--bind 0.0.0.0`,
//! the common production bind), end to end: the real `mail-server` binary, its SMTP port as
//! every MX's port, and Debian's dnsmasq (started by the test on loopback, through `--dns`)
//! giving `self.test` an MX whose address is 127.0.0.1. That MX is this server: the mail is
//! bounced at once with `5.4.6` "loops back to myself" (RFC 5321 section 5.1), and the server
//! never connects to itself.
//!
//! Without dnsmasq or python3 the test prints why and passes, except under `CI=true`, where
//! it fails.

#[path = "../../crates/mx-resolve/tests/support/dnsmasq.rs"]
mod dnsmasq;
mod support;

use support::{
    ALICE, ALICE_PASSWORD, MailServer, PyArgs, TempDir, files, free_ports, have_python, maildir,
    poll, py_smtp, users,
};

#[test]
fn a_wildcard_bound_server_is_its_own_loopback_mx_and_bounces_with_5_4_6() {
    if !have_python() {
        return;
    }
    let Some(dns) = dnsmasq::Dnsmasq::start(&[
        "--mx-host=self.test,mx.self.test,10".into(),
        "--host-record=mx.self.test,127.0.0.1".into(),
    ]) else {
        return;
    };
    let dir = TempDir::new("mx-loop-wildcard");
    let [smtp, submission, submissions] = free_ports();
    let mut args = users();
    args.extend(
        [
            "--bind",
            "0.0.0.0",
            "--allow-plaintext-auth",
            "--dns",
            &dns.addr.to_string(),
            "--mx-port",
            &smtp.to_string(),
        ]
        .map(String::from),
    );
    let server = MailServer::try_start(dir.path(), &args, &[], &[], smtp, submission, submissions)
        .unwrap_or_else(|stderr| panic!("mail-server did not start:\n{stderr}"));

    let message = b"From: <alice@localhost>\r\nTo: <a@self.test>\r\nSubject: loop\r\n\r\nhi\r\n";
    let sent = py_smtp(
        dir.path(),
        PyArgs {
            mode: "plain",
            port: server.submission,
            auth: Some(("PLAIN", ALICE, ALICE_PASSWORD)),
            from: ALICE,
            to: &["a@self.test"],
            message: Some(message),
            params: "",
        },
    );
    assert_eq!(sent.code("data"), 250, "{}", sent.raw);

    // The bounce, in alice's own Maildir.
    let bounce = poll("the bounce to alice", || {
        files(&maildir(dir.path(), ALICE).join("new"))
            .pop()
            .map(|(_, bytes)| String::from_utf8_lossy(&bytes).into_owned())
    });
    assert!(bounce.contains("Status: 5.4.6\r\n"), "{bounce}");
    // The planner's own wording, the same as with a specific `--bind` (the domain as a DNS
    // name, with its trailing dot).
    assert!(
        bounce.contains("mail for self.test. loops back to myself"),
        "{bounce}"
    );
    let logs = server.logs();
    assert!(
        !logs.contains("connected for outbound delivery"),
        "the server connected to itself:\n{logs}"
    );
}
