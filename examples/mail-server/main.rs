//! The sansmail mail server: SMTP relay and submission into durable Maildirs, composed from
//! the workspace crates (smtp-proto for the protocol, mail-tls for TLS).
//!
//! ```text
//! cargo run --release --example mail-server            # embedded defaults, ports 2525/2587/2465
//! cargo run --release --example mail-server -- --help  # every option
//! ```
//!
//! Modules:
//! - `options`: the command line;
//! - `startup`: start-up (accounts, TLS material, store, one listener per service), the banner,
//!   graceful shutdown;
//! - `listeners`: protocol-neutral listeners: the `Service` trait a protocol implements, the
//!   accept loop, a connection pool per listener with IPv6 clients grouped by prefix, stress
//!   mode, login phases, implicit TLS with the mode-mismatch diagnosis, shutdown;
//! - `guard`: the per-client login penalty every listener shares;
//! - `hops`: mail-loop protection, the count of a message's `Received:` fields;
//! - `logsafe`: escaping of client-controlled strings in the log;
//! - `imap`: the IMAP service (`--imap` with STARTTLS, `--imaps` with implicit TLS) over the
//!   store's IMAP mailboxes: login, the storage commands, live changes pushed to every session
//!   with the folder selected (IDLE at once); folder commands in `imap::folders`;
//! - `pop3`: the POP3 service (`--pop3` with STLS, `--pop3s` with implicit TLS) over the same
//!   Maildirs: login, one session per maildrop, RETR marks seen, DELE and QUIT remove;
//! - `smtp`: the SMTP service (relay, submission and submissions are three instances) and the
//!   per-session policy, including the trace headers (built by `smtp_proto::trace`);
//! - `outbound`: delivery to other domains (issue 16): MX lookup with mx-resolve, the
//!   smtp-proto client with opportunistic or required TLS, the smarthost, connection reuse;
//! - `accounts`: the Argon2id password file;
//! - `dkim`: DKIM keys under `--data`, their DNS records, and the signatures of submitted mail;
//! - `queue`: the outbound queue (issue 16): mail submitted for other domains, spooled durably
//!   under `--data`, delivered by a background worker with retries, bounces and delay notices;
//!   `--list-queue` prints it;
//! - `store`: Maildir storage (`store::maildir`: naming, durable writes, reading back) and
//!   delivery (`store::delivery`: fsync before the 250).

pub mod accounts;
pub mod dkim;
pub mod guard;
pub mod hops;
pub mod imap;
pub mod listeners;
pub mod logsafe;
pub mod options;
pub mod outbound;
pub mod pop3;
pub mod queue;
pub mod smtp;
pub mod startup;
pub mod store;

use std::process::ExitCode;

fn main() -> ExitCode {
    let options = match options::Options::from_env() {
        Ok(options::Parsed::Help) => {
            print!("{}", options::USAGE);
            return ExitCode::SUCCESS;
        }
        Ok(options::Parsed::Run(options)) => options,
        Err(error) => {
            eprintln!("mail-server: {error}\nRun with --help for the options.");
            return ExitCode::from(2);
        }
    };
    // `--list-queue`: the queue as it is on disk, without starting anything.
    if options.queue.list {
        return match queue::listing(&options.data) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("mail-server: cannot read the queue: {error}");
                ExitCode::FAILURE
            }
        };
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_max_level(tracing::Level::INFO)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("mail-server: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(startup::run(options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("mail-server: {error}");
            ExitCode::FAILURE
        }
    }
}
