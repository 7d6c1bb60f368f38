//! Start-up: the data directory, the accounts, the TLS material, the store, the listeners of
//! every service, the banner, and graceful shutdown on Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;

use mail_tls::ServerTls;
use smtp_proto::Domain;
use smtp_proto::server::ServerConfig;
use tracing::{info, warn};

use crate::accounts::{self, Accounts, Address};
use crate::dkim::{self, Dkim};
use crate::guard::LoginGuard;
use crate::imap::{ImapService, ImapSettings};
use crate::listeners::{
    ConnectionLimits, ListenerPolicy, Listeners, Service, StartError, StressLimits,
};
use crate::options::{self, Options, PasswordSource};
use crate::pop3::{Locks, Pop3Service, Pop3Settings};
use crate::queue::{Queue, QueueLimits, Schedule, Worker, WorkerSettings};
use crate::smtp::{Guards, Mailboxes, Policy, SmtpService};
use crate::store::{Store, write_atomically};

/// Where the generated demo password is written, under `--data`.
pub const DEMO_PASSWORD_FILE: &str = "demo-password";

/// A demo account created at this start: its address and the file holding its password.
struct Demo {
    password: mail_wire::Secret<String>,
    file: std::path::PathBuf,
}

/// Starts the server and runs until Ctrl-C.
pub async fn run(options: Options) -> Result<(), StartError> {
    std::fs::create_dir_all(&options.data).map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            options.data.display()
        )
    })?;
    let hostname = Domain::new(options.hostname.clone())
        .map_err(|e| format!("--hostname {}: {e}", options.hostname))?
        .into_owned();

    // Accounts are matched without regard to case: an accounts file, or a Maildir tree, with
    // two names that differ only in case is refused here, before anything is changed.
    let mut accounts = Accounts::load(options.data.join("accounts"))?;
    // One Argon2id computation per core: more would only queue for the CPU anyway. Each slot
    // has one work area, allocated once and reused (issue 14, item 3).
    let slots = std::thread::available_parallelism().map_or(2, |n| n.get());
    accounts.set_hashing_slots(slots);
    let store = Store::open(&options.data, &options.hostname)?;
    store.check_case()?;

    // Accounts: --user creates or updates (the file is written only if something changed);
    // with none at all, a demo account is created.
    let mut created = Vec::new();
    for user in &options.users {
        let password = match &user.password {
            PasswordSource::CommandLine(password) => {
                warn!(
                    account = %user.address,
                    "the password of --user is on the command line, where every local user can \
                     read it (ps, /proc/PID/cmdline): use --user ADDR --password-file FILE"
                );
                password.clone()
            }
            PasswordSource::File(path) => accounts::read_password_file(path)?,
            PasswordSource::Stdin => accounts::read_password_stdin(&user.address)?,
            PasswordSource::Missing => {
                return Err(format!("--user {} has no password", user.address).into());
            }
        };
        let changed = accounts.upsert(&user.address, &password)?;
        info!(account = %user.address, changed, "account from --user");
        created.push((user.address.clone(), None));
    }
    if accounts.is_empty() {
        let address = Address::new("demo", &options.domains[0])?;
        let password = accounts::generate_password()?;
        // The password goes to a private file, never only to stdout, which is often a log.
        let file = options.data.join(DEMO_PASSWORD_FILE);
        write_atomically(&file, format!("{}\n", password.expose()).as_bytes())
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        accounts.upsert(&address, &password)?;
        created.push((address, Some(Demo { password, file })));
    }
    // A file in the format before issue 14 gains its version line.
    if accounts.upgrade()? {
        info!(file = %accounts.path().display(), "accounts file rewritten with its format version");
    }
    // A restart touches no account: the banner still names one to try the server with.
    let existing = match created.is_empty() {
        true => accounts.addresses().next().cloned(),
        false => None,
    };

    // TLS: the given certificate, or a self-signed one generated once into --data.
    let pem = match &options.tls {
        Some(files) => mail_tls::PemFiles::new(&files.cert, &files.key),
        None => {
            mail_tls::dev_certs::ensure(&options.data.join("tls"), &[options.hostname.as_str()])?
        }
    };
    let (tls, _resolver) =
        ServerTls::new(mail_tls::Service::Submission).build_from_pem_files(&pem.cert, &pem.key)?;

    // DKIM (issue 16): a key per local domain and algorithm under --data, generated on first
    // start; a damaged key file stops the start. The outbound queue signs with it.
    let dkim: Option<Arc<Dkim>> = match &options.dkim {
        Some(config) => Some(Arc::new(Dkim::open(
            &options.data,
            &options.domains,
            config,
        )?)),
        None => None,
    };

    // The outbound queue (issue 16): opened before any listener, so what a crash left is
    // counted, cleaned or set aside first.
    let queue = Queue::open(
        &options.data,
        QueueLimits {
            max_messages: options.queue.max_messages,
            max_bytes: options.queue.max_bytes,
        },
    )
    .map_err(|e| {
        format!(
            "cannot open the queue under {}: {e}",
            options.data.display()
        )
    })?;
    let outbound = crate::outbound::Outbound::from_options(&options)?;
    // Mail users submit for other domains is DKIM-signed as it is queued (issue 16): the
    // fields go first in the spooled file, fsynced before the 250.
    if let Some(dkim) = &dkim {
        let dkim = dkim.clone();
        queue.set_signer(Box::new(move |path| dkim.sign_file_in_place(path)));
    }

    let policy = Arc::new(Policy {
        queue: queue.clone(),
        store,
        mailboxes: Mailboxes {
            accounts,
            domains: options.domains.clone(),
        },
        hostname: hostname.clone(),
        auth_slots: tokio::sync::Semaphore::new(slots),
        guards: Guards {
            quota: options.guards.quota,
            min_free_space: options.min_free_space(),
            allow_local_senders_on_relay: options.guards.allow_local_senders_on_relay,
            max_hops: options.limits.max_hops,
        },
    });
    let mut base = ServerConfig::default();
    base.hostname = hostname;
    base.max_message_size = options.limits.max_message_size;
    base.max_recipients = options.limits.max_recipients;
    base.max_errors = options.limits.max_errors;
    base.command_timeout = options.limits.command_timeout;
    base.data_timeout = options.limits.data_timeout;
    base.allow_plaintext_auth = options.allow_plaintext_auth;
    let listen = &options.listen;
    base.min_data_rate = listen.min_data_rate;
    base.max_junk_commands = listen.max_junk_commands;
    base.max_auth_failures = listen.max_auth_failures;
    base.auth_failure_delay = listen.auth_failure_delay;

    // Shared by every listener: the handshake deadline, the stress limits, the login guard.
    let mut listeners = Listeners::new(
        tls,
        ListenerPolicy {
            handshake_timeout: listen.tls_handshake_timeout,
            stress: StressLimits {
                command_timeout: listen.stress_command_timeout,
                handshake_timeout: listen.stress_handshake_timeout,
                ..StressLimits::default()
            },
            guard: Arc::new(LoginGuard::new(
                listen.auth_failure_delay,
                listen.auth_penalty_max,
            )),
        },
    );
    // The pools must fit the process's open-files limit together, or one full pool would use
    // up the descriptors of the others.
    let enabled: Vec<options::Service> = options::Service::ALL
        .into_iter()
        .filter(|&kind| options.ports.get(kind) != 0)
        .collect();
    let pools: Vec<usize> = enabled.iter().map(|&kind| options.pool(kind)).collect();
    let limit = crate::listeners::open_files_limit();
    let fitted = limit.and_then(|limit| crate::listeners::fit_pools(&pools, limit));
    if let (Some(limit), Some(fitted)) = (limit, &fitted) {
        warn!(
            limit,
            configured = ?pools,
            cut_to = ?fitted,
            "the open-files limit cannot hold every pool: pools cut to fit (raise it with \
             `ulimit -n` or systemd's LimitNOFILE)"
        );
    }
    let pool = |kind: options::Service| {
        let index = enabled.iter().position(|&k| k == kind);
        match (index, &fitted) {
            (Some(i), Some(fitted)) => fitted[i],
            _ => options.pool(kind),
        }
    };
    let mut lines = Vec::new();
    let limits = |kind: options::Service| {
        // Each listener its own pool: one port's clients never take another's places.
        ConnectionLimits::new(pool(kind), options.limits.max_connections_per_ip)
            .loopback_exempt(!options.limit_loopback)
            .ipv6_prefix(listen.ipv6_prefix_length)
            .stress_threshold(listen.stress_threshold)
            // A full login listener closes its oldest session that has not logged in.
            .evict_before_login(kind != options::Service::Smtp)
    };
    let services = [
        (
            SmtpService::relay(&base, policy.clone()),
            options::Service::Smtp,
        ),
        (
            SmtpService::submission(&base, policy.clone()),
            options::Service::Submission,
        ),
        (
            SmtpService::submissions(&base, policy.clone()),
            options::Service::Submissions,
        ),
    ];
    bind_each(&mut listeners, services, &options, &limits, &mut lines).await?;
    // POP3 over the same Maildirs, with the same accounts, hashing slots and login guard.
    let settings = Pop3Settings {
        allow_plaintext_auth: options.allow_plaintext_auth,
        max_errors: options.limits.max_errors,
        max_junk_commands: listen.max_junk_commands,
        max_auth_failures: listen.max_auth_failures,
        auth_failure_delay: listen.auth_failure_delay,
    };
    let locks = Arc::new(Locks::default());
    let services = [
        (
            Pop3Service::pop3(settings, policy.clone(), locks.clone()),
            options::Service::Pop3,
        ),
        (
            Pop3Service::pop3s(settings, policy.clone(), locks.clone()),
            options::Service::Pop3s,
        ),
    ];
    bind_each(&mut listeners, services, &options, &limits, &mut lines).await?;
    // IMAP over the same store, with the same accounts, hashing slots and login guard.
    let settings = ImapSettings {
        allow_plaintext_auth: options.allow_plaintext_auth,
        max_errors: options.limits.max_errors,
        max_junk_commands: listen.max_junk_commands,
        max_auth_failures: listen.max_auth_failures,
        auth_failure_delay: listen.auth_failure_delay,
        append_limit: options.limits.max_message_size,
        max_pending: listen.imap_max_pending,
        stall_timeout: listen.imap_stall_timeout,
    };
    let services = [
        (
            ImapService::imap(settings, policy.clone()),
            options::Service::Imap,
        ),
        (
            ImapService::imaps(settings, policy.clone()),
            options::Service::Imaps,
        ),
    ];
    bind_each(&mut listeners, services, &options, &limits, &mut lines).await?;

    // The delivery worker: everything pending is tried at once, then on schedule.
    let (messages, bytes) = queue.counts();
    lines.push(format!(
        "  {:<12} {} ({messages} messages, {bytes} octets pending)",
        "queue",
        queue.root().display()
    ));
    let worker = Worker::new(
        queue,
        outbound.clone(),
        policy.clone(),
        options.hostname.clone(),
        WorkerSettings {
            max_connections: options.outbound.max_connections,
            max_per_domain: options.outbound.max_connections_per_domain,
            schedule: Schedule {
                retry: options.queue.retry.clone(),
                lifetime: options.queue.lifetime,
                delay_warning: options.queue.delay_warning,
            },
        },
    );
    let (stop_worker, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(Arc::new(worker).run(stopped));

    print_banner(&options, &lines, &created, existing.as_ref());
    print_dkim(dkim.as_deref(), &options);

    tokio::signal::ctrl_c()
        .await
        .map_err(|e| format!("cannot listen for Ctrl-C: {e}"))?;
    let _ = stop_worker.send(true);
    info!("shutting down: no new connections, open sessions finish their transaction");
    listeners.shut_down(options.listen.shutdown_grace).await;
    // Connections kept for reuse say QUIT rather than vanish.
    outbound.shut_down().await;
    Ok(())
}

fn print_banner(
    options: &Options,
    lines: &[String],
    created: &[(Address, Option<Demo>)],
    existing: Option<&Address>,
) {
    // The password itself only on a terminal: redirected output often ends in a log others
    // can read.
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stdout());
    println!("sansmail mail server {} ready", options.hostname);
    println!("  data         {}", options.data.display());
    println!("  domains      {}", options.domains.join(", "));
    for line in lines {
        println!("{line}");
    }
    for (address, demo) in created {
        match demo {
            Some(demo) if terminal => println!(
                "  account      {address} created, password: {} (also in {}, mode 0600)",
                demo.password.expose(),
                demo.file.display()
            ),
            Some(demo) => println!(
                "  account      {address} created, password in {} (mode 0600)",
                demo.file.display()
            ),
            None => println!("  account      {address} (from --user)"),
        }
    }
    if let Some(address) = existing {
        println!("  account      {address} (and any others in the accounts file)");
    }
    let example = match created.first() {
        Some((address, demo)) => Some((address, demo.as_ref())),
        None => existing.map(|address| (address, None)),
    };
    if let (Some((address, demo)), true) = (example, options.ports.submission != 0) {
        let user = match demo {
            Some(demo) if terminal => format!("'{address}:{}'", demo.password.expose()),
            Some(demo) => format!("\"{address}:$(cat '{}')\"", demo.file.display()),
            None => format!("'{address}:PASSWORD'"),
        };
        println!();
        println!("Send a test message (STARTTLS on the submission port, self-signed certificate):");
        println!(
            "  printf 'Subject: hello\\r\\n\\r\\nIt works.\\r\\n' | curl -sk --ssl-reqd smtp://{}:{} \
             --user {user} --mail-from {address} --mail-rcpt {address} --upload-file -",
            options.bind, options.ports.submission
        );
        println!("Then read it from the Maildir:");
        println!(
            "  cat {}/mail/{}/{}/new/*",
            options.data.display(),
            address.domain(),
            address.local()
        );
    }
    if let Some((address, demo)) = example {
        if let Some(line) = pop3_command(options, address, demo, terminal) {
            println!();
            println!("List the mailbox over POP3 (self-signed certificate):");
            println!("  {line}");
        }
        if let Some(line) = imap_command(options, address, demo, terminal) {
            println!();
            println!("Read the first message over IMAP (self-signed certificate):");
            println!("  {line}");
        }
    }
}

/// The DKIM part of the banner: the TXT records to publish, as zone file lines.
fn print_dkim(dkim: Option<&Dkim>, options: &Options) {
    println!();
    let Some(dkim) = dkim else {
        println!("DKIM: off (--no-dkim), submitted mail is not signed");
        return;
    };
    println!(
        "DKIM: publish these TXT records (keys in {}, mode 0600):",
        options.data.join("dkim").display()
    );
    for (name, value) in dkim.dns_records() {
        println!("  {}", dkim::zone_line(&name, &value));
    }
}

/// Binds each of `services` whose port is on (a port of 0 is off) at `options.bind`, each
/// with its own pool from `limits`, and adds its line to the start-up banner's `lines`.
async fn bind_each<S: Service>(
    listeners: &mut Listeners,
    services: impl IntoIterator<Item = (S, options::Service)>,
    options: &Options,
    limits: &impl Fn(options::Service) -> ConnectionLimits,
    lines: &mut Vec<String>,
) -> Result<(), StartError> {
    for (service, kind) in services {
        let port = options.ports.get(kind);
        if port == 0 {
            continue;
        }
        let addr = SocketAddr::new(options.bind, port);
        lines.push(format!(
            "  {:<12} {addr:<22} {}",
            service.name(),
            service.summary()
        ));
        listeners.bind(service, addr, limits(kind)).await?;
    }
    Ok(())
}

/// A ready-to-paste `curl` command listing `address`'s mailbox over POP3: STLS on `--pop3`
/// (or implicit TLS on `--pop3s` when only that is on); `None` without a POP3 listener. The
/// password as in the SMTP example: itself only on a terminal, else read from its file.
fn pop3_command(
    options: &Options,
    address: &Address,
    demo: Option<&Demo>,
    terminal: bool,
) -> Option<String> {
    let url = match (options.ports.pop3, options.ports.pop3s) {
        (0, 0) => return None,
        (0, port) => format!("pop3s://{}:{port}/", options.bind),
        (port, _) => format!("--ssl-reqd pop3://{}:{port}/", options.bind),
    };
    Some(curl(&url, address, demo, terminal))
}

/// A ready-to-paste `curl` command fetching the first message of `address`'s INBOX over
/// IMAP: STARTTLS on `--imap` (or implicit TLS on `--imaps` when only that is on); `None`
/// without an IMAP listener. The password as in the SMTP and POP3 examples.
fn imap_command(
    options: &Options,
    address: &Address,
    demo: Option<&Demo>,
    terminal: bool,
) -> Option<String> {
    let url = match (options.ports.imap, options.ports.imaps) {
        (0, 0) => return None,
        (0, port) => format!("'imaps://{}:{port}/INBOX;UID=1'", options.bind),
        (port, _) => format!("--ssl-reqd 'imap://{}:{port}/INBOX;UID=1'", options.bind),
    };
    Some(curl(&url, address, demo, terminal))
}

/// `curl -sk URL --user USER` for the POP3 and IMAP examples: the password itself only on a
/// terminal, else read from its file when the server made the demo account, else a
/// placeholder.
fn curl(url: &str, address: &Address, demo: Option<&Demo>, terminal: bool) -> String {
    let user = match demo {
        Some(demo) if terminal => format!("'{address}:{}'", demo.password.expose()),
        Some(demo) => format!("\"{address}:$(cat '{}')\"", demo.file.display()),
        None => format!("'{address}:PASSWORD'"),
    };
    format!("curl -sk {url} --user {user}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pop3_command_shows_the_password_only_on_a_terminal() {
        let mut options = Options::default();
        let address = Address::new("demo", "localhost").unwrap();
        let demo = Demo {
            password: mail_wire::Secret::from("pw-123".to_owned()),
            file: "/d/demo-password".into(),
        };
        let url = format!("pop3://{}:2110/", options.bind);
        assert_eq!(
            pop3_command(&options, &address, Some(&demo), true).unwrap(),
            format!("curl -sk --ssl-reqd {url} --user 'demo@localhost:pw-123'")
        );
        assert_eq!(
            pop3_command(&options, &address, Some(&demo), false).unwrap(),
            format!(
                "curl -sk --ssl-reqd {url} --user \"demo@localhost:$(cat '/d/demo-password')\""
            )
        );
        assert_eq!(
            pop3_command(&options, &address, None, true).unwrap(),
            format!("curl -sk --ssl-reqd {url} --user 'demo@localhost:PASSWORD'")
        );
        // Only implicit TLS: pop3s://; no POP3 listener: no command.
        options.ports.pop3 = 0;
        let only_pop3s = pop3_command(&options, &address, None, false).unwrap();
        assert!(only_pop3s.starts_with(&format!("curl -sk pop3s://{}:2995/ ", options.bind)));
        options.ports.pop3s = 0;
        assert_eq!(pop3_command(&options, &address, None, false), None);
    }

    #[test]
    fn the_imap_command_shows_the_password_only_on_a_terminal() {
        let mut options = Options::default();
        let address = Address::new("demo", "localhost").unwrap();
        let demo = Demo {
            password: mail_wire::Secret::from("pw-123".to_owned()),
            file: "/d/demo-password".into(),
        };
        let url = format!("'imap://{}:2143/INBOX;UID=1'", options.bind);
        assert_eq!(
            imap_command(&options, &address, Some(&demo), true).unwrap(),
            format!("curl -sk --ssl-reqd {url} --user 'demo@localhost:pw-123'")
        );
        assert_eq!(
            imap_command(&options, &address, Some(&demo), false).unwrap(),
            format!(
                "curl -sk --ssl-reqd {url} --user \"demo@localhost:$(cat '/d/demo-password')\""
            )
        );
        assert_eq!(
            imap_command(&options, &address, None, true).unwrap(),
            format!("curl -sk --ssl-reqd {url} --user 'demo@localhost:PASSWORD'")
        );
        // Only implicit TLS: imaps://; no IMAP listener: no command.
        options.ports.imap = 0;
        let only_imaps = imap_command(&options, &address, None, false).unwrap();
        assert!(only_imaps.starts_with(&format!(
            "curl -sk 'imaps://{}:2993/INBOX;UID=1' ",
            options.bind
        )));
        options.ports.imaps = 0;
        assert_eq!(imap_command(&options, &address, None, false), None);
    }
}
