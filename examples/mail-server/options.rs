//! The command line of the mail server: a small hand-written parser (no argument-parsing crate,
//! to keep the build small) for the options of issue 5, every one with a default so the bare
//! command works.
//!
//! Values follow their flag as the next argument (`--smtp 2525`) or after `=`
//! (`--smtp=2525`); use the `=` form for a value that starts with `--`. `--help` (or `-h`)
//! anywhere wins over everything else. Errors name the flag and the value, except for the
//! password of `--user`, which never appears in any message.

use mail_wire::Secret;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::accounts::{Address, AddressError, normalize_domain};
use crate::dkim::{Algorithm, DkimConfig};

/// Default of `--data`.
pub const DEFAULT_DATA: &str = "./mail-data";
/// Default of `--hostname` and `--domain`.
pub const DEFAULT_HOST: &str = "localhost";
/// Default of `--bind`: loopback only, so a first start exposes nothing.
pub const DEFAULT_BIND: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// The listeners and their default ports (unprivileged variants of 25, 587, 465, 110, 995,
/// 143 and 993; docs/design.md section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    /// SMTP relay (MX role): STARTTLS offered, no AUTH. `--smtp`, default 2525.
    Smtp,
    /// Message submission (RFC 6409): STARTTLS, then AUTH required. `--submission`, 2587.
    Submission,
    /// Submission over implicit TLS (RFC 8314). `--submissions`, 2465.
    Submissions,
    /// POP3 with STLS. `--pop3`, 2110.
    Pop3,
    /// POP3 over implicit TLS. `--pop3s`, 2995.
    Pop3s,
    /// IMAP with STARTTLS. `--imap`, 2143.
    Imap,
    /// IMAP over implicit TLS. `--imaps`, 2993.
    Imaps,
}

impl Service {
    /// Every service, in the order of the usage text.
    pub const ALL: [Service; 7] = [
        Service::Smtp,
        Service::Submission,
        Service::Submissions,
        Service::Pop3,
        Service::Pop3s,
        Service::Imap,
        Service::Imaps,
    ];

    /// The flag that sets its port, without the dashes (`smtp`).
    pub fn flag(self) -> &'static str {
        match self {
            Service::Smtp => "smtp",
            Service::Submission => "submission",
            Service::Submissions => "submissions",
            Service::Pop3 => "pop3",
            Service::Pop3s => "pop3s",
            Service::Imap => "imap",
            Service::Imaps => "imaps",
        }
    }

    /// The default port.
    pub fn default_port(self) -> u16 {
        match self {
            Service::Smtp => 2525,
            Service::Submission => 2587,
            Service::Submissions => 2465,
            Service::Pop3 => 2110,
            Service::Pop3s => 2995,
            Service::Imap => 2143,
            Service::Imaps => 2993,
        }
    }

    /// Whether the service speaks TLS from the first byte.
    pub fn implicit_tls(self) -> bool {
        matches!(self, Service::Submissions | Service::Pop3s | Service::Imaps)
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.flag())
    }
}

/// The port of each listener; 0 disables a listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// `--smtp`, default 2525.
    pub smtp: u16,
    /// `--submission`, default 2587.
    pub submission: u16,
    /// `--submissions`, default 2465.
    pub submissions: u16,
    /// `--pop3`, default 2110.
    pub pop3: u16,
    /// `--pop3s`, default 2995.
    pub pop3s: u16,
    /// `--imap`, default 2143.
    pub imap: u16,
    /// `--imaps`, default 2993.
    pub imaps: u16,
}

impl Ports {
    /// The port of `service` (0 when disabled).
    pub fn get(&self, service: Service) -> u16 {
        match service {
            Service::Smtp => self.smtp,
            Service::Submission => self.submission,
            Service::Submissions => self.submissions,
            Service::Pop3 => self.pop3,
            Service::Pop3s => self.pop3s,
            Service::Imap => self.imap,
            Service::Imaps => self.imaps,
        }
    }

    fn slot(&mut self, service: Service) -> &mut u16 {
        match service {
            Service::Smtp => &mut self.smtp,
            Service::Submission => &mut self.submission,
            Service::Submissions => &mut self.submissions,
            Service::Pop3 => &mut self.pop3,
            Service::Pop3s => &mut self.pop3s,
            Service::Imap => &mut self.imap,
            Service::Imaps => &mut self.imaps,
        }
    }
}

impl Default for Ports {
    fn default() -> Self {
        let mut ports = Ports {
            smtp: 0,
            submission: 0,
            submissions: 0,
            pop3: 0,
            pop3s: 0,
            imap: 0,
            imaps: 0,
        };
        for service in Service::ALL {
            *ports.slot(service) = service.default_port();
        }
        ports
    }
}

/// The limits a session and the server enforce (docs/design.md section 3, rule 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// `--max-message-size`: largest message accepted, in octets, advertised with SIZE
    /// (RFC 1870). Default 50 MiB = 52428800, as issue 5 asks (Postfix's
    /// `message_size_limit` default is 10240000).
    pub max_message_size: u64,
    /// `--max-recipients`: recipients per message. Default 100, the minimum RFC 5321 section
    /// 4.5.3.1.8 requires a server to accept (Postfix's `smtpd_recipient_limit` is 1000).
    pub max_recipients: usize,
    /// `--max-connections`: simultaneous connections of each listener, which has its own
    /// pool (unless `--max-connections-SERVICE` sets it). Default 1000, Dovecot's
    /// `default_client_limit`.
    pub max_connections: usize,
    /// `--max-connections-per-ip`: simultaneous connections to one listener from one client
    /// (an IPv4 address, or an IPv6 prefix of `--ipv6-prefix-length`). Default
    /// 50, Postfix's `smtpd_client_connection_count_limit` (it also lets a 50-connection load
    /// test from one host through).
    pub max_connections_per_ip: usize,
    /// `--command-timeout`: how long to wait for the next command. Default 300 s, the server
    /// timeout of RFC 5321 section 4.5.3.2.7 (Postfix's `smtpd_timeout` is also 300 s).
    pub command_timeout: Duration,
    /// `--data-timeout`: how long to wait for more message data. Default 180 s, the DATA
    /// block timeout of RFC 5321 section 4.5.3.2.5.
    pub data_timeout: Duration,
    /// `--max-errors`: protocol errors before the session is closed. Default 20, Postfix's
    /// `smtpd_hard_error_limit`.
    pub max_errors: u32,
    /// `--max-hops`: the most `Received:` header fields a message may have, the one this
    /// server adds included; more is refused with `554 5.4.6` as a mail loop (RFC 5321
    /// section 6.3). Default 50, Postfix's `hopcount_limit`.
    pub max_hops: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 52_428_800,
            max_recipients: 100,
            max_connections: 1000,
            max_connections_per_ip: 50,
            command_timeout: Duration::from_secs(300),
            data_timeout: Duration::from_secs(180),
            max_errors: 20,
            max_hops: crate::hops::DEFAULT_MAX_HOPS,
        }
    }
}

/// `--cert PEM --key PEM`: the server's certificate chain and private key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// The private key, PEM.
    pub key: PathBuf,
}

/// `--user ADDR:PASSWORD`, or `--user ADDR --password-file FILE`: an account to create or
/// update at start.
#[derive(Debug, Clone)]
pub struct UserSpec {
    /// The account.
    pub address: Address,
    /// Where its password comes from.
    pub password: PasswordSource,
}

/// Where the password of a `--user` comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// `--user ADDR:PASSWORD`: on the command line, which every local user can read
    /// (`/proc/PID/cmdline`, `ps`); the server warns (redacted in `Debug`).
    CommandLine(Secret<String>),
    /// `--password-file FILE`: the first line of a file only its owner may read.
    File(PathBuf),
    /// `--password-file -`: standard input (a prompt without echo on a terminal).
    Stdin,
    /// `--user ADDR` not followed by `--password-file` yet; [`parse`] refuses a command line
    /// that leaves one.
    Missing,
}

/// Default of `--quota`: 1 GiB per account (Dovecot's quota is off by default, and the large
/// free providers give from 1 GiB up); 0 turns quotas off.
pub const DEFAULT_QUOTA: u64 = 1 << 30;

/// The accounts-and-store flags of issue 14 (passwords off the command line, local senders on
/// the relay, disk space and quota).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreGuards {
    /// `--quota SIZE`: the most a mailbox may hold, in octets; `None` (`--quota 0`) for no
    /// quota. Default [`DEFAULT_QUOTA`].
    pub quota: Option<u64>,
    /// `--min-free-space SIZE`: MAIL is refused (452 4.3.1) while the data file system has
    /// less free space than this; `None` means the default, 1.5 times `--max-message-size`
    /// (Postfix's rule: `queue_minfree` at least 1.5 × `message_size_limit`); `Some(0)` turns
    /// the check off.
    pub min_free_space: Option<u64>,
    /// `--allow-local-senders-on-relay`: let unauthenticated relay clients use a sender in a
    /// local domain. Off by default: such a MAIL is refused with 553 5.7.1.
    pub allow_local_senders_on_relay: bool,
}

impl Default for StoreGuards {
    fn default() -> Self {
        StoreGuards {
            quota: Some(DEFAULT_QUOTA),
            min_free_space: None,
            allow_local_senders_on_relay: false,
        }
    }
}

/// Everything the command line sets.
#[derive(Debug, Clone)]
pub struct Options {
    /// `--data DIR`: Maildirs, queue, accounts, TLS material. Default `./mail-data`.
    pub data: PathBuf,
    /// `--hostname NAME`: greeting, `Received:` and certificate name. Default `localhost`.
    pub hostname: String,
    /// `--domain D`, repeatable: the local domains, lowercased, without duplicates, in the
    /// order given. Default `localhost`; giving any replaces the default.
    pub domains: Vec<String>,
    /// `--user ADDR:PASSWORD` or `--user ADDR --password-file FILE`, repeatable: accounts to
    /// create or update, in order.
    pub users: Vec<UserSpec>,
    /// `--bind IP`: the address every listener binds. Default 127.0.0.1.
    pub bind: IpAddr,
    /// The listener ports.
    pub ports: Ports,
    /// `--cert` and `--key`; `None` means a self-signed certificate generated into `--data`.
    pub tls: Option<TlsFiles>,
    /// `--allow-plaintext-auth`: allow AUTH before TLS (local testing only).
    pub allow_plaintext_auth: bool,
    /// `--limit-loopback`: apply `--max-connections-per-ip` to loopback clients too. By
    /// default they are exempt, as Postfix exempts its own networks
    /// (`smtpd_client_event_limit_exceptions = $mynetworks`).
    pub limit_loopback: bool,
    /// The limits.
    pub limits: Limits,
    /// The listener policy of issue 14: pools, stress, deadlines, the login guard.
    pub listen: ListenLimits,
    /// Quota, free space and the relay's sender rule.
    pub guards: StoreGuards,
    /// `--dkim-selector`, `--dkim-algorithm`: how submitted mail is DKIM-signed; `None` with
    /// `--no-dkim`. Default: selector `sansmail`, both algorithms.
    pub dkim: Option<DkimConfig>,
    /// Outbound delivery (issue 16): resolver, remote port, smarthost, TLS policy.
    pub outbound: OutboundOptions,
    /// The outbound queue of issue 16: retries, lifetime, size guard, worker concurrency.
    pub queue: QueueOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            data: PathBuf::from(DEFAULT_DATA),
            hostname: DEFAULT_HOST.to_owned(),
            domains: vec![DEFAULT_HOST.to_owned()],
            users: Vec::new(),
            bind: DEFAULT_BIND,
            ports: Ports::default(),
            tls: None,
            allow_plaintext_auth: false,
            limit_loopback: false,
            limits: Limits::default(),
            listen: ListenLimits::default(),
            guards: StoreGuards::default(),
            dkim: Some(DkimConfig::default()),
            outbound: OutboundOptions::default(),
            queue: QueueOptions::default(),
        }
    }
}

impl Options {
    /// The socket address of `service`'s listener, or `None` when its port is 0.
    pub fn listen_addr(&self, service: Service) -> Option<SocketAddr> {
        match self.ports.get(service) {
            0 => None,
            port => Some(SocketAddr::new(self.bind, port)),
        }
    }

    /// The enabled listeners, in the order of [`Service::ALL`].
    pub fn listeners(&self) -> Vec<(Service, SocketAddr)> {
        Service::ALL
            .into_iter()
            .filter_map(|s| self.listen_addr(s).map(|addr| (s, addr)))
            .collect()
    }

    /// Whether `domain` (any case) is one of the local domains.
    pub fn is_local_domain(&self, domain: &str) -> bool {
        self.domains.contains(&domain.to_lowercase())
    }

    /// The free space below which MAIL is refused, in octets (0: never): `--min-free-space`,
    /// or 1.5 times `--max-message-size`.
    pub fn min_free_space(&self) -> u64 {
        self.guards.min_free_space.unwrap_or_else(|| {
            let size = self.limits.max_message_size;
            size.saturating_add(size / 2)
        })
    }

    /// Parses the process's arguments (without the program name).
    pub fn from_env() -> Result<Parsed, OptionsError> {
        parse(std::env::args_os().skip(1))
    }
}

/// What the command line asks for.
#[derive(Debug, Clone)]
// Built once per process: boxing the options would buy nothing.
#[allow(clippy::large_enum_variant)]
pub enum Parsed {
    /// Run the server with these options.
    Run(Options),
    /// Print [`USAGE`] and exit successfully.
    Help,
}

/// A command line the server cannot run with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OptionsError {
    /// A flag the server does not know, or a stray argument.
    #[error("unknown option `{0}`")]
    Unknown(String),
    /// A flag that needs a value came last, or was followed by another flag.
    #[error("`{0}` needs a value")]
    MissingValue(String),
    /// A flag that takes no value was given one with `=`.
    #[error("`{0}` takes no value")]
    UnexpectedValue(String),
    /// A value could not be used. For `--user` the value is only the address part.
    #[error("invalid value `{value}` for `{flag}`: {reason}")]
    Invalid {
        /// The flag.
        flag: String,
        /// The value, as given (never a password).
        value: String,
        /// Why it is invalid.
        reason: String,
    },
    /// An argument is not valid UTF-8 where text is needed.
    #[error("`{0}` is not valid UTF-8")]
    NotUnicode(String),
    /// `--cert` without `--key`, or the reverse.
    #[error("`--cert` and `--key` go together: `{given}` was given without `{missing}`")]
    CertKeyPair {
        /// The flag that was given.
        given: &'static str,
        /// The flag that is missing.
        missing: &'static str,
    },
    /// Two listeners on the same port.
    #[error("`--{first}` and `--{second}` both use port {port}")]
    PortClash {
        /// The first listener.
        first: Service,
        /// The second listener.
        second: Service,
        /// The port.
        port: u16,
    },
    /// A `--user` account whose domain is not a `--domain`.
    #[error("`--user {address}`: `{domain}` is not a local domain (add `--domain {domain}`)")]
    UserDomain {
        /// The account.
        address: String,
        /// Its domain.
        domain: String,
    },
}

/// The full usage text printed by `--help`.
pub const USAGE: &str = "\
sansmail mail-server: SMTP relay and submission into Maildirs, with TLS.

USAGE:
    cargo run --release --example mail-server -- [OPTIONS]

Every option has a default; the bare command starts a working server on 127.0.0.1.
Values go after the flag (--smtp 2525) or after '=' (--smtp=2525).

STORAGE AND NAMES:
    --data DIR               Everything persistent: Maildirs (DIR/mail), accounts
                             (DIR/accounts), the outbound queue (DIR/queue), generated TLS
                             material [default: ./mail-data]
    --hostname NAME          Name in the greeting, the Received: header and the generated
                             certificate [default: localhost]
    --domain D               A local domain to accept mail for; repeat for more. Giving
                             any replaces the default [default: localhost]
    --user ADDR --password-file FILE
                             Create the account ADDR, or set its password; repeatable. The
                             password is the first line of FILE, a regular file of the
                             server's user (or root) only its owner may read (mode 0600 or
                             stricter); FILE '-' reads standard input,
                             without echo on a terminal. The password is stored as an
                             Argon2id hash, never in clear, and the accounts file is
                             rewritten only when an account changes. When no account
                             exists, demo@<first domain> is created with a random password
                             written to DIR/demo-password (mode 0600); it is printed only
                             when standard output is a terminal.
    --user ADDR:PASSWORD     The same with the password on the command line, where every
                             local user can read it (ps, /proc): the server warns.

LISTENERS (port 0 disables a listener):
    --bind IP                Address every listener binds [default: 127.0.0.1]
    --smtp PORT              SMTP relay, MX role: STARTTLS offered, no AUTH [default: 2525]
    --submission PORT        Submission: STARTTLS, then AUTH required [default: 2587]
    --submissions PORT       Submission over implicit TLS, AUTH required [default: 2465]
    --pop3 PORT              POP3 with STLS [default: 2110]
    --pop3s PORT             POP3 over implicit TLS [default: 2995]
    --imap PORT              IMAP with STARTTLS [default: 2143]
    --imaps PORT             IMAP over implicit TLS [default: 2993]

TLS:
    --cert PEM               Certificate chain (PEM); needs --key
    --key PEM                Private key (PEM); needs --cert
                             Without both, a self-signed certificate for --hostname is
                             generated into --data on first start and reused.
    --allow-plaintext-auth   Allow AUTH before TLS (local testing only) [default: off]

LIMITS:
    --max-message-size SIZE  Largest message, advertised with SIZE; bytes, or with a K, M
                             or G suffix (powers of 1024) [default: 52428800 = 50M]
    --max-recipients N       Recipients per message; RFC 5321 section 4.5.3.1.8
                             [default: 100]
    --max-connections N      Simultaneous connections of each listener (each has its own
                             pool; together they are cut to fit the open-files limit);
                             Dovecot's default_client_limit [default: 1000]
    --max-connections-per-ip N
                             Simultaneous connections from one client to one listener (IPv6:
                             one prefix); Postfix's smtpd_client_connection_count_limit
                             [default: 50]. Loopback clients are exempt, as Postfix
                             exempts its own networks
    --limit-loopback         Apply --max-connections-per-ip to loopback clients too
                             [default: off, loopback is exempt]
    --command-timeout TIME   Wait for the next command; seconds, or with an s, m or h
                             suffix; RFC 5321 section 4.5.3.2.7 [default: 300]
    --data-timeout TIME      Wait for more message data; RFC 5321 section 4.5.3.2.5
                             [default: 180]
    --max-errors N           Protocol errors before the session is closed; Postfix's
                             smtpd_hard_error_limit [default: 20]
    --max-hops N             Most Received: header fields a message may have, ours
                             included; more is a mail loop, refused with 554 5.4.6
                             (RFC 5321 section 6.3); Postfix's hopcount_limit [default: 50]

CONNECTIONS, STRESS AND LOGIN (each listener has its own pool):
    --max-connections-SERVICE N
                             Pool of one listener (SERVICE: smtp, submission, submissions,
                             pop3, pop3s, imap, imaps); Dovecot's per-service client_limit
                             [default: --max-connections, 1000]. A full login listener
                             closes its oldest session that has not logged in
    --ipv6-prefix-length BITS
                             IPv6 clients are counted per prefix of this length (1-128);
                             Postfix's smtpd_client_ipv6_prefix_length [default: 64]
    --stress-threshold PERCENT
                             A pool this full is under stress: shorter limits before login
                             (1-100; 100 never) [default: 80]
    --stress-command-timeout TIME
                             Command and data timeout under stress; Postfix's stress
                             smtpd_timeout [default: 10]
    --tls-handshake-timeout TIME
                             Deadline of a TLS handshake [default: 10]
    --stress-handshake-timeout TIME
                             Deadline of a TLS handshake under stress [default: 5]
    --min-data-rate N        Octets per second a message body must average; 0 turns it off;
                             Postfix's smtpd_min_data_rate [default: 500]
    --max-junk-commands N    NOOP, RSET, VRFY, EXPN, HELP before login, beyond which each
                             is an error; Postfix's smtpd_junk_command_limit [default: 100]
    --max-auth-failures N    Failed logins before the session is closed [default: 3]
    --auth-failure-delay TIME
                             Delay of a failed login's answer; 0 turns it and the penalty
                             off; Dovecot's auth_failure_delay [default: 2]
    --auth-penalty-max TIME  The per-client penalty doubles the delay per recent failure up to
                             this; Dovecot's 15 s [default: 15]
    --imap-max-pending N     Changes queued for one IMAP session's selected folder before it
                             is closed with * BYE [ALERT] to resynchronise [default: 4096]
    --imap-stall-timeout TIME
                             An IMAP client that takes no byte of a pending answer for this
                             long (a large FETCH, an IDLE stream) is dropped, whatever its
                             idle timeout; at least 1 [default: 60]
    --shutdown-grace TIME    After SIGINT, how long open sessions may take to finish their
                             transaction before the server exits anyway [default: 30]

MAILBOXES AND SENDERS:
    --quota SIZE             Most a mailbox may hold: a recipient over it is refused at
                             RCPT (452 4.2.2, counting MAIL SIZE=) or after DATA (552
                             5.2.2); 0 for no quota [default: 1G]
    --min-free-space SIZE    Refuse MAIL (452 4.3.1) while the file system of --data has
                             less free space; 0 turns the check off; Postfix's rule
                             [default: 1.5 x --max-message-size]
    --allow-local-senders-on-relay
                             Let relay clients without AUTH use a sender address in a
                             local domain [default: off, refused with 553 5.7.1]

DKIM (RFC 6376; signatures of mail that local users submit, see docs/mail-server.md):
    --dkim-selector NAME     Selector prefix: the keys' selectors are NAME-rsa and
                             NAME-ed25519, their files DIR/dkim/<domain>/NAME-<type>.pem
                             (generated on first start, mode 0600, then reused); the start
                             banner prints the TXT records to publish [default: sansmail]
    --dkim-algorithm ALG     rsa (rsa-sha256, RSA 2048), ed25519 (ed25519-sha256, RFC 8463)
                             or both, one signature each [default: both]
    --no-dkim                Sign nothing, create no keys
OUTBOUND DELIVERY (mail to other domains; docs/mail-server.md, section Outbound delivery):
    --dns IP:PORT            The DNS server to ask for MX, A and AAAA records
                             [default: the nameservers of /etc/resolv.conf]
    --mx-port PORT           The port of remote mail exchangers [default: 25]
    --require-tls            Deliver only over TLS: a server without STARTTLS, or a failed
                             handshake, is a temporary failure [default: off, TLS is
                             opportunistic and a failed handshake is retried in plaintext]
    --outbound-tls-verify MODE
                             How a remote MX's certificate is checked: 'any' accepts every
                             certificate (encryption without authentication, RFC 7435);
                             'webpki' requires one that verifies against the Mozilla roots
                             for the MX name [default: any]
    --smarthost HOST:PORT    Send all outbound mail to this relay instead of looking up MX
                             records: TLS required, certificate verified
    --smarthost-tls MODE     'implicit' (TLS from the first byte, RFC 8314) or 'starttls'
                             [default: implicit on port 465, starttls on any other]
    --smarthost-user NAME    Authenticate to the smarthost (AUTH PLAIN or LOGIN) as NAME;
                             needs --smarthost-password-file
    --smarthost-password-file FILE
                             The smarthost password: the first line of FILE, with the rules
                             of --password-file (a regular file only its owner may read)
    --smarthost-ca PEM       Trust the CA certificates in PEM for the smarthost instead of
                             the Mozilla roots
    --outbound-connections N Deliveries in progress at once, all destinations together
                             [default: 100, Postfix's default_process_limit]
    --outbound-connections-per-domain N
                             Deliveries in progress at once to one domain (or the
                             smarthost) [default: 20, Postfix's
                             default_destination_concurrency_limit]

OUTBOUND QUEUE (mail submitted for other domains, kept in DIR/queue):
    --retry-schedule LIST    Waits after the 1st, 2nd, ... failed attempt, comma-separated
                             TIMEs (s, m, h or d suffix); the last repeats; RFC 5321
                             section 4.5.4.1 [default: 30m,1h,2h,4h]
    --max-queue-lifetime TIME
                             Give up on a recipient still failing after this long: the
                             sender gets a bounce (4.4.7); a bounce itself is dropped with
                             a log line [default: 5d]
    --delay-warning TIME     Tell the sender once that a message is delayed after this
                             long; 0 sends no notice [default: 4h]
    --max-queue-messages N   Messages queued at once; more are refused with 452 4.3.1
                             [default: 10000]
    --max-queue-size SIZE    Octets queued at once; more are refused with 452 4.3.1
                             [default: 1G]
    --list-queue             Print the queued messages (id, size, sender, pending
                             recipients, attempts, next try, last error) and exit,
                             without starting any listener

    -h, --help               Print this text
";

/// The listener policy of issue 14 (docs/security.md): pools per listener, IPv6 grouping,
/// stress mode, deadlines, and the login guard. Sources are in each field's docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListenLimits {
    /// `--max-connections-SERVICE`: the pool of each listener, in [`Service::ALL`] order;
    /// `None` takes `--max-connections`.
    pub pools: [Option<usize>; 7],
    /// `--ipv6-prefix-length`: 64, our choice (Postfix's
    /// `smtpd_client_ipv6_prefix_length` also defaults to 64 for its anvil counts).
    pub ipv6_prefix_length: u8,
    /// `--stress-threshold`: 80 (percent of a pool).
    pub stress_threshold: u8,
    /// `--stress-command-timeout`: 10 s, Postfix's `smtpd_timeout` under stress.
    pub stress_command_timeout: Duration,
    /// `--tls-handshake-timeout`: 10 s, the fixed value before issue 14.
    pub tls_handshake_timeout: Duration,
    /// `--stress-handshake-timeout`: 5 s.
    pub stress_handshake_timeout: Duration,
    /// `--min-data-rate`: 500 octets/s, Postfix's `smtpd_min_data_rate`; 0 turns it off.
    pub min_data_rate: u64,
    /// `--max-junk-commands`: 100, Postfix's `smtpd_junk_command_limit`.
    pub max_junk_commands: u32,
    /// `--max-auth-failures`: 3 (Dovecot's `mail_max_userip_connections` is unrelated; 3 is
    /// the choice, as many IMAP servers close after three bad logins).
    pub max_auth_failures: u32,
    /// `--auth-failure-delay`: 2 s, Dovecot's `auth_failure_delay`.
    pub auth_failure_delay: Duration,
    /// `--auth-penalty-max`: 15 s, Dovecot's penalty ceiling.
    pub auth_penalty_max: Duration,
    /// `--imap-max-pending`: changes queued for one IMAP session's selected folder before
    /// the session ends with `* BYE [ALERT]` and must resynchronise: 4096, imap-proto's
    /// `ViewConfig` default (no RFC sets a bound).
    pub imap_max_pending: usize,
    /// `--imap-stall-timeout`: the longest an IMAP write may go without the client taking
    /// a byte, whatever the idle timeout: 60 s (a client that stops reading a large FETCH
    /// or an IDLE stream is dropped after this).
    pub imap_stall_timeout: Duration,
    /// `--shutdown-grace`: how long open sessions get to finish their transaction after
    /// SIGINT before the server exits anyway: 30 s.
    pub shutdown_grace: Duration,
}

impl Default for ListenLimits {
    fn default() -> Self {
        ListenLimits {
            pools: [None; 7],
            ipv6_prefix_length: 64,
            stress_threshold: 80,
            stress_command_timeout: Duration::from_secs(10),
            tls_handshake_timeout: Duration::from_secs(10),
            stress_handshake_timeout: Duration::from_secs(5),
            min_data_rate: 500,
            max_junk_commands: 100,
            max_auth_failures: 3,
            auth_failure_delay: Duration::from_secs(2),
            auth_penalty_max: Duration::from_secs(15),
            imap_max_pending: 4096,
            imap_stall_timeout: crate::imap::DEFAULT_STALL_TIMEOUT,
            shutdown_grace: crate::listeners::SHUTDOWN_GRACE,
        }
    }
}

impl Options {
    /// The pool size of `service`'s listener.
    pub fn pool(&self, service: Service) -> usize {
        let index = Service::ALL.iter().position(|&s| s == service).unwrap_or(0);
        self.listen.pools[index].unwrap_or(self.limits.max_connections)
    }
}

/// The flags of [`ListenLimits`], all taking a value.
const LISTEN_FLAGS: &[&str] = &[
    "--max-connections-smtp",
    "--max-connections-submission",
    "--max-connections-submissions",
    "--max-connections-pop3",
    "--max-connections-pop3s",
    "--max-connections-imap",
    "--max-connections-imaps",
    "--ipv6-prefix-length",
    "--stress-threshold",
    "--stress-command-timeout",
    "--tls-handshake-timeout",
    "--stress-handshake-timeout",
    "--min-data-rate",
    "--max-junk-commands",
    "--max-auth-failures",
    "--auth-failure-delay",
    "--auth-penalty-max",
    "--imap-max-pending",
    "--imap-stall-timeout",
    "--shutdown-grace",
];

/// Applies one flag of [`LISTEN_FLAGS`].
fn apply_listen(listen: &mut ListenLimits, flag: &str, value: &str) -> Result<(), OptionsError> {
    let small = |max: u64| -> Result<u64, OptionsError> {
        let n = parse_count(flag, value)? as u64;
        match n <= max {
            true => Ok(n),
            false => Err(invalid(flag, value, format!("at most {max}"))),
        }
    };
    match flag {
        "--ipv6-prefix-length" => listen.ipv6_prefix_length = small(128)? as u8,
        "--stress-threshold" => listen.stress_threshold = small(100)? as u8,
        "--stress-command-timeout" => listen.stress_command_timeout = parse_duration(flag, value)?,
        "--tls-handshake-timeout" => listen.tls_handshake_timeout = parse_duration(flag, value)?,
        "--stress-handshake-timeout" => {
            listen.stress_handshake_timeout = parse_duration(flag, value)?
        }
        "--min-data-rate" => {
            listen.min_data_rate = match value {
                "0" => 0,
                _ => parse_count(flag, value)? as u64,
            }
        }
        "--max-junk-commands" => listen.max_junk_commands = small(u32::MAX.into())? as u32,
        "--max-auth-failures" => listen.max_auth_failures = small(u32::MAX.into())? as u32,
        // 0 turns the delay, and with it the per-client penalty, off (Dovecot allows
        // `auth_failure_delay = 0` too): for measurements such as the AUTH flood test.
        "--auth-failure-delay" => {
            listen.auth_failure_delay = match value {
                "0" => Duration::ZERO,
                _ => parse_duration(flag, value)?,
            }
        }
        "--auth-penalty-max" => listen.auth_penalty_max = parse_duration(flag, value)?,
        "--imap-max-pending" => listen.imap_max_pending = parse_count(flag, value)?,
        "--imap-stall-timeout" => listen.imap_stall_timeout = positive_duration(flag, value)?,
        "--shutdown-grace" => listen.shutdown_grace = parse_duration(flag, value)?,
        _ => {
            let service = flag.strip_prefix("--max-connections-");
            let index = Service::ALL.iter().position(|s| Some(s.flag()) == service);
            let index = index.ok_or_else(|| OptionsError::Unknown(flag.to_owned()))?;
            listen.pools[index] = Some(parse_count(flag, value)?);
        }
    }
    Ok(())
}

/// Parses command-line arguments (without the program name).
pub fn parse<I, S>(args: I) -> Result<Parsed, OptionsError>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        return Ok(Parsed::Help);
    }
    let mut options = Options::default();
    let mut domains: Vec<String> = Vec::new();
    let mut cert = None;
    let mut key = None;
    let mut dkim = DkimFlags::default();
    let mut rest = args.into_iter();
    while let Some(arg) = rest.next() {
        // Only the flag is ever repeated in an error, never what follows its `=` or a word
        // that is no flag: either may be a password (`--user=ADDR:PASSWORD` with a typo in
        // the flag or bytes that are not UTF-8, or a password given as its own word).
        let text = arg.to_str().ok_or_else(|| {
            OptionsError::NotUnicode(shown_flag(&arg.to_string_lossy()).to_owned())
        })?;
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value)),
            _ => (text.to_owned(), None),
        };
        // Issue 16, the outbound queue: --list-queue and the flags of QUEUE_FLAGS.
        if flag == "--list-queue" {
            if inline.is_some() {
                return Err(OptionsError::UnexpectedValue(flag));
            }
            options.queue.list = true;
            continue;
        }
        if QUEUE_FLAGS.contains(&flag.as_str()) {
            let value: OsString = match inline {
                Some(v) => v.into(),
                None => match rest.next() {
                    Some(v) if !v.to_string_lossy().starts_with("--") => v,
                    _ => return Err(OptionsError::MissingValue(flag)),
                },
            };
            queue_flag(&mut options.queue, &flag, utf8(&flag, &value)?)?;
            continue;
        }
        // Issue 14, accounts and store: --password-file, --quota, --min-free-space,
        // --allow-local-senders-on-relay.
        if STORE_FLAGS.contains(&flag.as_str()) {
            let value = match (flag.as_str(), inline) {
                ("--allow-local-senders-on-relay", Some(_)) => {
                    return Err(OptionsError::UnexpectedValue(flag));
                }
                ("--allow-local-senders-on-relay", None) => None,
                (_, Some(v)) => Some(OsString::from(v)),
                (_, None) => match rest.next() {
                    Some(v) if v == "-" || !v.to_string_lossy().starts_with("-") => Some(v),
                    _ => return Err(OptionsError::MissingValue(flag)),
                },
            };
            store_flag(&mut options, &flag, value)?;
            continue;
        }
        // Issue 16, DKIM: --dkim-selector, --dkim-algorithm, --no-dkim.
        if DKIM_FLAGS.contains(&flag.as_str()) {
            let value = match (flag.as_str(), inline) {
                ("--no-dkim", Some(_)) => return Err(OptionsError::UnexpectedValue(flag)),
                ("--no-dkim", None) => None,
                (_, Some(v)) => Some(v.to_owned()),
                (_, None) => match rest.next() {
                    Some(v) if !v.to_string_lossy().starts_with("--") => {
                        Some(utf8(&flag, &v)?.to_owned())
                    }
                    _ => return Err(OptionsError::MissingValue(flag)),
                },
            };
            dkim_flag(&mut dkim, &flag, value.as_deref())?;
            continue;
        }
        // Issue 16, outbound delivery: its own block of flags.
        if OUTBOUND_FLAGS.contains(&flag.as_str()) {
            let value = match (flag.as_str(), inline) {
                ("--require-tls", Some(_)) => return Err(OptionsError::UnexpectedValue(flag)),
                ("--require-tls", None) => None,
                (_, Some(v)) => Some(OsString::from(v)),
                (_, None) => match rest.next() {
                    Some(v) if !v.to_string_lossy().starts_with("--") => Some(v),
                    _ => return Err(OptionsError::MissingValue(flag)),
                },
            };
            outbound_flag(&mut options.outbound, &flag, value)?;
            continue;
        }
        if flag == "--allow-plaintext-auth" || flag == "--limit-loopback" {
            if inline.is_some() {
                return Err(OptionsError::UnexpectedValue(flag));
            }
            match flag.as_str() {
                "--allow-plaintext-auth" => options.allow_plaintext_auth = true,
                _ => options.limit_loopback = true,
            }
            continue;
        }
        if !FLAGS_WITH_VALUES.contains(&flag.as_str()) && !LISTEN_FLAGS.contains(&flag.as_str()) {
            return Err(OptionsError::Unknown(shown_flag(text).to_owned()));
        }
        let value: OsString = match inline {
            Some(v) => v.into(),
            None => match rest.next() {
                Some(v) if !v.to_string_lossy().starts_with("--") => v,
                _ => return Err(OptionsError::MissingValue(flag)),
            },
        };
        // Paths may be any OS string; everything else is text.
        match flag.as_str() {
            "--data" => options.data = PathBuf::from(value),
            "--cert" => cert = Some(PathBuf::from(value)),
            "--key" => key = Some(PathBuf::from(value)),
            _ => {
                let value = utf8(&flag, &value)?;
                apply(&mut options, &mut domains, &flag, value)?;
            }
        }
    }
    if !domains.is_empty() {
        options.domains = domains;
    }
    options.dkim = dkim.config();
    options.tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(OptionsError::CertKeyPair {
                given: "--cert",
                missing: "--key",
            });
        }
        (None, Some(_)) => {
            return Err(OptionsError::CertKeyPair {
                given: "--key",
                missing: "--cert",
            });
        }
    };
    check(&options)?;
    check_outbound(&options.outbound)?;
    Ok(Parsed::Run(options))
}

/// What an error may show of an argument: the flag of `--flag` or `--flag=value`, or a
/// placeholder for a word that is no flag.
fn shown_flag(arg: &str) -> &str {
    match arg.starts_with('-') {
        true => arg.split_once('=').map_or(arg, |(flag, _)| flag),
        false => "<an argument that is no flag, not repeated: it may be a password>",
    }
}

/// The outbound queue's flags (issue 16). Sources in each field's docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueOptions {
    /// `--retry-schedule`: 30m, 1h, 2h, 4h (the last repeating): RFC 5321 section 4.5.4.1
    /// asks for at least 30 minutes between tries.
    pub retry: Vec<Duration>,
    /// `--max-queue-lifetime`: 5 days, the RFC's "at least 4-5 days" (Postfix's
    /// `maximal_queue_lifetime` is also 5d).
    pub lifetime: Duration,
    /// `--delay-warning`: 4 hours (Postfix's suggested `delay_warning_time`); `None` for no
    /// notice (`0`).
    pub delay_warning: Option<Duration>,
    /// `--max-queue-messages`: 10000, our choice.
    pub max_messages: u64,
    /// `--max-queue-size`: 1 GiB, our choice (with `--min-free-space`, the disk is guarded too).
    pub max_bytes: u64,
    /// `--list-queue`: print the queue and exit.
    pub list: bool,
}

impl Default for QueueOptions {
    fn default() -> Self {
        let minutes = |m: u64| Duration::from_secs(m * 60);
        QueueOptions {
            retry: vec![minutes(30), minutes(60), minutes(120), minutes(240)],
            lifetime: Duration::from_secs(5 * 86400),
            delay_warning: Some(minutes(240)),
            max_messages: 10_000,
            max_bytes: 1 << 30,
            list: false,
        }
    }
}

/// The queue's flags that take a value.
const QUEUE_FLAGS: &[&str] = &[
    "--retry-schedule",
    "--max-queue-lifetime",
    "--delay-warning",
    "--max-queue-messages",
    "--max-queue-size",
];

/// A queue duration: [`parse_duration`]'s forms, and a `d` suffix for days.
fn queue_duration(flag: &str, value: &str) -> Result<Duration, OptionsError> {
    match value.strip_suffix('d') {
        Some(days) => parse_duration(flag, days)?
            .checked_mul(86400)
            .ok_or_else(|| invalid(flag, value, "too large")),
        None => parse_duration(flag, value),
    }
}

/// Applies one of [`QUEUE_FLAGS`].
fn queue_flag(queue: &mut QueueOptions, flag: &str, value: &str) -> Result<(), OptionsError> {
    match flag {
        "--retry-schedule" => {
            queue.retry = value
                .split(',')
                .map(|v| queue_duration(flag, v.trim()))
                .collect::<Result<_, _>>()?;
        }
        "--max-queue-lifetime" => queue.lifetime = queue_duration(flag, value)?,
        "--delay-warning" => {
            queue.delay_warning = match value {
                "0" => None,
                _ => Some(queue_duration(flag, value)?),
            }
        }
        "--max-queue-messages" => queue.max_messages = parse_count(flag, value)? as u64,
        _ => queue.max_bytes = parse_size(flag, value)?,
    }
    Ok(())
}

/// The flags of issue 14's accounts and store part (`--allow-local-senders-on-relay` takes no
/// value, the others one).
const STORE_FLAGS: &[&str] = &[
    "--password-file",
    "--quota",
    "--min-free-space",
    "--allow-local-senders-on-relay",
];

/// Applies one of [`STORE_FLAGS`]; `value` is `None` only for the flag without a value.
fn store_flag(
    options: &mut Options,
    flag: &str,
    value: Option<OsString>,
) -> Result<(), OptionsError> {
    let Some(value) = value else {
        options.guards.allow_local_senders_on_relay = true;
        return Ok(());
    };
    if flag == "--password-file" {
        let Some(user) = options
            .users
            .iter_mut()
            .rev()
            .find(|u| u.password == PasswordSource::Missing)
        else {
            return Err(invalid(
                flag,
                &value.to_string_lossy(),
                "it follows a `--user ADDR` without a password",
            ));
        };
        user.password = match value == "-" {
            true => PasswordSource::Stdin,
            false => PasswordSource::File(PathBuf::from(value)),
        };
        return Ok(());
    }
    let text = utf8(flag, &value)?;
    // 0 turns these off; parse_size refuses 0 for the other sizes.
    let size = match text {
        "0" => 0,
        _ => parse_size(flag, text)?,
    };
    match flag {
        "--quota" => options.guards.quota = (size != 0).then_some(size),
        _ => options.guards.min_free_space = Some(size),
    }
    Ok(())
}

/// The DKIM flags of issue 16 (`--no-dkim` takes no value, the others one).
const DKIM_FLAGS: &[&str] = &["--dkim-selector", "--dkim-algorithm", "--no-dkim"];

/// The DKIM flags as given.
#[derive(Debug, Default)]
struct DkimFlags {
    selector: Option<String>,
    algorithms: Option<Vec<Algorithm>>,
    off: bool,
}

impl DkimFlags {
    /// The configuration they choose (`None`: `--no-dkim`).
    fn config(self) -> Option<DkimConfig> {
        if self.off {
            return None;
        }
        let mut config = DkimConfig::default();
        if let Some(selector) = self.selector {
            config.selector = selector;
        }
        if let Some(algorithms) = self.algorithms {
            config.algorithms = algorithms;
        }
        Some(config)
    }
}

/// Applies one of [`DKIM_FLAGS`]; `value` is `None` only for `--no-dkim`.
fn dkim_flag(dkim: &mut DkimFlags, flag: &str, value: Option<&str>) -> Result<(), OptionsError> {
    let Some(value) = value else {
        dkim.off = true;
        return Ok(());
    };
    match flag {
        "--dkim-selector" => {
            crate::dkim::check_selector(value).map_err(|reason| invalid(flag, value, reason))?;
            dkim.selector = Some(value.to_ascii_lowercase());
        }
        _ => {
            dkim.algorithms = Some(match value.to_ascii_lowercase().as_str() {
                "rsa" => vec![Algorithm::Rsa],
                "ed25519" => vec![Algorithm::Ed25519],
                "both" => Algorithm::ALL.to_vec(),
                _ => return Err(invalid(flag, value, "expected rsa, ed25519 or both")),
            });
        }
    }
    Ok(())
}

/// The flags that take a value.
const FLAGS_WITH_VALUES: &[&str] = &[
    "--data",
    "--hostname",
    "--domain",
    "--user",
    "--bind",
    "--smtp",
    "--submission",
    "--submissions",
    "--pop3",
    "--pop3s",
    "--imap",
    "--imaps",
    "--cert",
    "--key",
    "--max-message-size",
    "--max-recipients",
    "--max-connections",
    "--max-connections-per-ip",
    "--command-timeout",
    "--data-timeout",
    "--max-errors",
    "--max-hops",
];

fn utf8<'a>(flag: &str, value: &'a OsStr) -> Result<&'a str, OptionsError> {
    value.to_str().ok_or_else(|| {
        // A `--user` value may hold a password: do not repeat it.
        if flag == "--user" {
            OptionsError::NotUnicode(flag.to_owned())
        } else {
            OptionsError::NotUnicode(format!("{flag} {}", value.to_string_lossy()))
        }
    })
}

fn invalid(flag: &str, value: &str, reason: impl fmt::Display) -> OptionsError {
    OptionsError::Invalid {
        flag: flag.to_owned(),
        value: value.to_owned(),
        reason: reason.to_string(),
    }
}

/// Applies one text-valued flag.
fn apply(
    options: &mut Options,
    domains: &mut Vec<String>,
    flag: &str,
    value: &str,
) -> Result<(), OptionsError> {
    let limits = &mut options.limits;
    match flag {
        "--hostname" => {
            if !value.is_ascii() {
                return Err(invalid(
                    flag,
                    value,
                    "use the ASCII (xn--) form of the name",
                ));
            }
            options.hostname = normalize_domain(value).map_err(|e| invalid(flag, value, e))?;
        }
        "--domain" => {
            let domain = normalize_domain(value).map_err(|e| invalid(flag, value, e))?;
            if !domains.contains(&domain) {
                domains.push(domain);
            }
        }
        "--user" => options.users.push(parse_user(value)?),
        "--bind" => {
            options.bind = value
                .parse()
                .map_err(|_| invalid(flag, value, "expected an IPv4 or IPv6 address"))?;
        }
        "--max-message-size" => limits.max_message_size = parse_size(flag, value)?,
        "--max-recipients" => limits.max_recipients = parse_count(flag, value)?,
        "--max-connections" => limits.max_connections = parse_count(flag, value)?,
        "--max-connections-per-ip" => limits.max_connections_per_ip = parse_count(flag, value)?,
        "--command-timeout" => limits.command_timeout = parse_duration(flag, value)?,
        "--data-timeout" => limits.data_timeout = parse_duration(flag, value)?,
        "--max-hops" => limits.max_hops = parse_count(flag, value)?,
        "--max-errors" => {
            limits.max_errors = u32::try_from(parse_count(flag, value)?)
                .map_err(|_| invalid(flag, value, "too large"))?;
        }
        _ if LISTEN_FLAGS.contains(&flag) => apply_listen(&mut options.listen, flag, value)?,
        _ => {
            let service = Service::ALL
                .into_iter()
                .find(|s| flag.strip_prefix("--") == Some(s.flag()))
                .ok_or_else(|| OptionsError::Unknown(flag.to_owned()))?;
            let port = value
                .parse()
                .map_err(|_| invalid(flag, value, "expected a port number from 0 to 65535"))?;
            *options.ports.slot(service) = port;
        }
    }
    Ok(())
}

/// `ADDR:PASSWORD`, split at the first `:` (the password may contain more), or `ADDR` alone,
/// whose password a `--password-file` gives.
fn parse_user(value: &str) -> Result<UserSpec, OptionsError> {
    let Some((address, password)) = value.split_once(':') else {
        // A value without `:` that is no address may be a password typed in the wrong
        // place: do not repeat it.
        let address = Address::parse(value).map_err(|_| OptionsError::Invalid {
            flag: "--user".into(),
            value: "<hidden>".into(),
            reason: "expected ADDR (with --password-file after it) or ADDR:PASSWORD".into(),
        })?;
        return Ok(UserSpec {
            address,
            password: PasswordSource::Missing,
        });
    };
    let address = Address::parse(address).map_err(|e: AddressError| OptionsError::Invalid {
        flag: "--user".into(),
        value: address.to_owned(),
        reason: e.to_string(),
    })?;
    if password.is_empty() {
        return Err(OptionsError::Invalid {
            flag: "--user".into(),
            value: address.to_string(),
            reason: "the password is empty".into(),
        });
    }
    Ok(UserSpec {
        address,
        password: PasswordSource::CommandLine(Secret::new(password.to_owned())),
    })
}

/// Splits `value` into its leading digits and a suffix.
fn number_and_suffix<'a>(
    flag: &str,
    value: &'a str,
    expected: &str,
) -> Result<(u64, &'a str), OptionsError> {
    let digits = value.len() - value.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, suffix) = value.split_at(digits);
    let number: u64 = number.parse().map_err(|_| invalid(flag, value, expected))?;
    if number == 0 {
        return Err(invalid(flag, value, "must be greater than 0"));
    }
    Ok((number, suffix))
}

/// A size in bytes, with an optional `K`, `M` or `G` suffix (powers of 1024).
fn parse_size(flag: &str, value: &str) -> Result<u64, OptionsError> {
    const EXPECTED: &str = "expected a size in bytes, optionally with a K, M or G suffix";
    let (number, suffix) = number_and_suffix(flag, value, EXPECTED)?;
    let shift = match suffix.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => return Err(invalid(flag, value, EXPECTED)),
    };
    number
        .checked_mul(1 << shift)
        .ok_or_else(|| invalid(flag, value, "too large"))
}

/// A positive count.
fn parse_count(flag: &str, value: &str) -> Result<usize, OptionsError> {
    const EXPECTED: &str = "expected a whole number greater than 0";
    let (number, suffix) = number_and_suffix(flag, value, EXPECTED)?;
    if !suffix.is_empty() {
        return Err(invalid(flag, value, EXPECTED));
    }
    usize::try_from(number).map_err(|_| invalid(flag, value, "too large"))
}

/// A duration in seconds, with an optional `s`, `m` or `h` suffix.
fn parse_duration(flag: &str, value: &str) -> Result<Duration, OptionsError> {
    const EXPECTED: &str = "expected seconds, optionally with an s, m or h suffix";
    let (number, suffix) = number_and_suffix(flag, value, EXPECTED)?;
    let unit = match suffix {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => return Err(invalid(flag, value, EXPECTED)),
    };
    number
        .checked_mul(unit)
        .map(Duration::from_secs)
        .ok_or_else(|| invalid(flag, value, "too large"))
}

/// A [`parse_duration`] that refuses 0 (a timeout of nothing would drop every client).
fn positive_duration(flag: &str, value: &str) -> Result<Duration, OptionsError> {
    match parse_duration(flag, value)? {
        Duration::ZERO => Err(invalid(flag, value, "at least 1 second")),
        duration => Ok(duration),
    }
}

/// Default of `--mx-port`: SMTP (RFC 5321 section 4.5.4.1 delivers to port 25).
pub const DEFAULT_MX_PORT: u16 = 25;

/// How the certificate of a remote MX is checked (`--outbound-tls-verify`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutboundVerify {
    /// `any`: every certificate is accepted, as most MX hosts present ones that do not
    /// verify (RFC 7435; Postfix's `may` and `encrypt` levels do not verify either).
    #[default]
    Any,
    /// `webpki`: the certificate must verify against the Mozilla roots for the MX name.
    WebPki,
}

/// The outbound-delivery flags of issue 16 (docs/mail-server.md, "Outbound delivery").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundOptions {
    /// `--dns IP:PORT`: the nameserver; `None` reads `/etc/resolv.conf`.
    pub dns: Option<SocketAddr>,
    /// `--mx-port PORT`: the port of remote MXes, [`DEFAULT_MX_PORT`].
    pub mx_port: u16,
    /// `--smarthost HOST:PORT`: relay everything there instead of looking up MX records.
    pub smarthost: Option<(String, u16)>,
    /// `--smarthost-user NAME`.
    pub smarthost_user: Option<String>,
    /// `--smarthost-password-file FILE`.
    pub smarthost_password_file: Option<PathBuf>,
    /// `--smarthost-ca PEM`: trust anchors for the smarthost instead of the Mozilla roots.
    pub smarthost_ca: Option<PathBuf>,
    /// `--smarthost-tls implicit|starttls`: `Some(true)` for implicit TLS; `None` picks by
    /// the port (implicit on 465, RFC 8314).
    pub smarthost_implicit_tls: Option<bool>,
    /// `--require-tls`: never deliver in plaintext.
    pub require_tls: bool,
    /// `--outbound-tls-verify MODE`.
    pub verify: OutboundVerify,
    /// `--outbound-connections N`: deliveries at once, 100 (Postfix's
    /// `default_process_limit`).
    pub max_connections: usize,
    /// `--outbound-connections-per-domain N`: deliveries at once to one domain, 20
    /// (Postfix's `default_destination_concurrency_limit`).
    pub max_connections_per_domain: usize,
}

impl Default for OutboundOptions {
    fn default() -> Self {
        OutboundOptions {
            dns: None,
            mx_port: DEFAULT_MX_PORT,
            smarthost: None,
            smarthost_user: None,
            smarthost_password_file: None,
            smarthost_ca: None,
            smarthost_implicit_tls: None,
            require_tls: false,
            verify: OutboundVerify::Any,
            max_connections: 100,
            max_connections_per_domain: 20,
        }
    }
}

/// The flags of [`OutboundOptions`] (`--require-tls` takes no value, the others one).
const OUTBOUND_FLAGS: &[&str] = &[
    "--dns",
    "--mx-port",
    "--smarthost",
    "--smarthost-user",
    "--smarthost-password-file",
    "--smarthost-ca",
    "--smarthost-tls",
    "--require-tls",
    "--outbound-tls-verify",
    "--outbound-connections",
    "--outbound-connections-per-domain",
];

/// Applies one of [`OUTBOUND_FLAGS`]; `value` is `None` only for `--require-tls`.
fn outbound_flag(
    outbound: &mut OutboundOptions,
    flag: &str,
    value: Option<OsString>,
) -> Result<(), OptionsError> {
    let Some(value) = value else {
        outbound.require_tls = true;
        return Ok(());
    };
    match flag {
        "--smarthost-password-file" => {
            outbound.smarthost_password_file = Some(PathBuf::from(value));
            return Ok(());
        }
        "--smarthost-ca" => {
            outbound.smarthost_ca = Some(PathBuf::from(value));
            return Ok(());
        }
        _ => {}
    }
    let value = utf8(flag, &value)?;
    match flag {
        "--dns" => {
            outbound.dns = Some(
                value
                    .parse()
                    .map_err(|_| invalid(flag, value, "expected IP:PORT ([IPv6]:PORT)"))?,
            );
        }
        "--mx-port" => outbound.mx_port = parse_port(flag, value)?,
        "--smarthost" => {
            let (host, port) = value
                .rsplit_once(':')
                .ok_or_else(|| invalid(flag, value, "expected HOST:PORT"))?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            if host.is_empty() {
                return Err(invalid(flag, value, "the host is empty"));
            }
            outbound.smarthost = Some((host.to_ascii_lowercase(), parse_port(flag, port)?));
        }
        "--smarthost-user" => outbound.smarthost_user = Some(value.to_owned()),
        "--smarthost-tls" => {
            outbound.smarthost_implicit_tls = match value {
                "implicit" => Some(true),
                "starttls" => Some(false),
                _ => return Err(invalid(flag, value, "expected implicit or starttls")),
            };
        }
        "--outbound-tls-verify" => {
            outbound.verify = match value {
                "any" => OutboundVerify::Any,
                "webpki" => OutboundVerify::WebPki,
                _ => return Err(invalid(flag, value, "expected any or webpki")),
            };
        }
        "--outbound-connections" => outbound.max_connections = parse_count(flag, value)?,
        _ => outbound.max_connections_per_domain = parse_count(flag, value)?,
    }
    Ok(())
}

/// A port from 1 to 65535 (0 cannot be connected to).
fn parse_port(flag: &str, value: &str) -> Result<u16, OptionsError> {
    match value.parse::<u16>() {
        Ok(port) if port != 0 => Ok(port),
        _ => Err(invalid(
            flag,
            value,
            "expected a port number from 1 to 65535",
        )),
    }
}

/// The outbound flags that only make sense together.
fn check_outbound(outbound: &OutboundOptions) -> Result<(), OptionsError> {
    let needs_smarthost = [
        ("--smarthost-user", outbound.smarthost_user.is_some()),
        (
            "--smarthost-password-file",
            outbound.smarthost_password_file.is_some(),
        ),
        ("--smarthost-ca", outbound.smarthost_ca.is_some()),
        ("--smarthost-tls", outbound.smarthost_implicit_tls.is_some()),
    ];
    if outbound.smarthost.is_none() {
        if let Some((flag, _)) = needs_smarthost.iter().find(|(_, given)| *given) {
            return Err(invalid(flag, "", "it needs --smarthost HOST:PORT"));
        }
    }
    match (&outbound.smarthost_user, &outbound.smarthost_password_file) {
        (Some(user), None) => Err(invalid(
            "--smarthost-user",
            user,
            "it needs --smarthost-password-file FILE",
        )),
        (None, Some(path)) => Err(invalid(
            "--smarthost-password-file",
            &path.display().to_string(),
            "it needs --smarthost-user NAME",
        )),
        _ => Ok(()),
    }
}

/// Checks that hold across flags.
fn check(options: &Options) -> Result<(), OptionsError> {
    for (i, &first) in Service::ALL.iter().enumerate() {
        let port = options.ports.get(first);
        if port == 0 {
            continue;
        }
        if let Some(&second) = Service::ALL[i + 1..]
            .iter()
            .find(|&&s| options.ports.get(s) == port)
        {
            return Err(OptionsError::PortClash {
                first,
                second,
                port,
            });
        }
    }
    let mut stdin = 0;
    for user in &options.users {
        match user.password {
            PasswordSource::Missing => {
                return Err(invalid(
                    "--user",
                    &user.address.to_string(),
                    "no password: add `--password-file FILE` after it (`-` for standard input)",
                ));
            }
            PasswordSource::Stdin => stdin += 1,
            _ => {}
        }
        if stdin > 1 {
            return Err(invalid(
                "--password-file",
                "-",
                "standard input can give the password of one --user only",
            ));
        }
        let domain = user.address.domain();
        if !options.domains.iter().any(|d| d == domain) {
            return Err(OptionsError::UserDomain {
                address: user.address.to_string(),
                domain: domain.to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Options {
        match parse(args.iter().copied()) {
            Ok(Parsed::Run(options)) => options,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    fn fail(args: &[&str]) -> OptionsError {
        match parse(args.iter().copied()) {
            Err(e) => e,
            Ok(other) => panic!("{args:?} parsed: {other:?}"),
        }
    }

    #[test]
    fn defaults() {
        let o = run(&[]);
        assert_eq!(o.data, PathBuf::from("./mail-data"));
        assert_eq!(o.hostname, "localhost");
        assert_eq!(o.domains, ["localhost"]);
        assert!(o.users.is_empty());
        assert_eq!(o.bind, IpAddr::from([127, 0, 0, 1]));
        let ports = [2525, 2587, 2465, 2110, 2995, 2143, 2993];
        for (service, port) in Service::ALL.into_iter().zip(ports) {
            assert_eq!(o.ports.get(service), port, "{service}");
            assert_eq!(
                o.listen_addr(service),
                Some(SocketAddr::from(([127, 0, 0, 1], port)))
            );
        }
        assert_eq!(o.listeners().len(), 7);
        assert_eq!(o.tls, None);
        assert!(!o.allow_plaintext_auth);
        assert!(!o.limit_loopback);
        let l = o.limits;
        assert_eq!(l.max_message_size, 52_428_800);
        assert_eq!(l.max_recipients, 100);
        assert_eq!(l.max_connections, 1000);
        assert_eq!(l.max_connections_per_ip, 50);
        assert_eq!(l.command_timeout, Duration::from_secs(300));
        assert_eq!(l.data_timeout, Duration::from_secs(180));
        assert_eq!(l.max_errors, 20);
        assert_eq!(l.max_hops, 50);
    }

    #[test]
    fn every_flag() {
        let o = run(&[
            "--data",
            "/var/mail-data",
            "--hostname",
            "MX.Example.COM",
            "--domain",
            "example.com",
            "--domain=Example.ORG",
            "--domain",
            "EXAMPLE.com",
            "--user",
            "alice@example.com:pa:ss word",
            "--user=Bob@EXAMPLE.org:x",
            "--bind",
            "::1",
            "--smtp",
            "25",
            "--submission=587",
            "--submissions",
            "465",
            "--pop3",
            "110",
            "--pop3s",
            "995",
            "--imap",
            "0",
            "--imaps",
            "993",
            "--cert",
            "cert.pem",
            "--key=key.pem",
            "--allow-plaintext-auth",
            "--limit-loopback",
            "--max-message-size",
            "10M",
            "--max-recipients",
            "500",
            "--max-connections",
            "2000",
            "--max-connections-per-ip",
            "10",
            "--command-timeout",
            "5m",
            "--data-timeout=90s",
            "--max-errors",
            "5",
            "--max-hops",
            "3",
        ]);
        assert_eq!(o.data, PathBuf::from("/var/mail-data"));
        assert_eq!(o.hostname, "mx.example.com");
        assert_eq!(o.domains, ["example.com", "example.org"]);
        assert_eq!(o.users.len(), 2);
        assert_eq!(o.users[0].address.to_string(), "alice@example.com");
        assert_eq!(
            o.users[0].password,
            PasswordSource::CommandLine(Secret::new("pa:ss word".into()))
        );
        // Accounts are in canonical (lowercase) form.
        assert_eq!(o.users[1].address.to_string(), "bob@example.org");
        assert_eq!(
            o.users[1].password,
            PasswordSource::CommandLine(Secret::new("x".into()))
        );
        assert_eq!(o.bind, IpAddr::from(std::net::Ipv6Addr::LOCALHOST));
        let p = o.ports;
        assert_eq!(
            [
                p.smtp,
                p.submission,
                p.submissions,
                p.pop3,
                p.pop3s,
                p.imap,
                p.imaps
            ],
            [25, 587, 465, 110, 995, 0, 993]
        );
        assert_eq!(o.listen_addr(Service::Imap), None);
        assert_eq!(
            o.listen_addr(Service::Smtp),
            Some("[::1]:25".parse().unwrap())
        );
        assert_eq!(o.listeners().len(), 6);
        assert_eq!(
            o.tls,
            Some(TlsFiles {
                cert: "cert.pem".into(),
                key: "key.pem".into()
            })
        );
        assert!(o.allow_plaintext_auth);
        assert!(o.limit_loopback);
        let l = o.limits;
        assert_eq!(l.max_message_size, 10 << 20);
        assert_eq!(l.max_recipients, 500);
        assert_eq!(l.max_connections, 2000);
        assert_eq!(l.max_connections_per_ip, 10);
        assert_eq!(l.command_timeout, Duration::from_secs(300));
        assert_eq!(l.data_timeout, Duration::from_secs(90));
        assert_eq!(l.max_errors, 5);
        assert_eq!(l.max_hops, 3);
        assert!(o.is_local_domain("EXAMPLE.COM"));
        assert!(!o.is_local_domain("localhost"));
        // Passwords never show in Debug.
        let debug = format!("{o:?}");
        assert!(!debug.contains("pa:ss word"), "{debug}");
    }

    #[test]
    fn sizes_and_durations() {
        let size = |v: &str| run(&["--max-message-size", v]).limits.max_message_size;
        assert_eq!(size("1"), 1);
        assert_eq!(size("4k"), 4096);
        assert_eq!(size("50M"), 52_428_800);
        assert_eq!(size("1GiB"), 1 << 30);
        let timeout = |v: &str| run(&["--command-timeout", v]).limits.command_timeout;
        assert_eq!(timeout("7"), Duration::from_secs(7));
        assert_eq!(timeout("2h"), Duration::from_secs(7200));
    }

    #[test]
    fn listener_policy_flags() {
        let o = run(&[]);
        assert_eq!(o.listen, ListenLimits::default());
        assert_eq!(o.pool(Service::Smtp), 1000);
        assert_eq!(o.pool(Service::Submission), 1000);
        let o = run(&[
            "--max-connections",
            "300",
            "--max-connections-smtp",
            "40",
            "--max-connections-submission=20",
            "--max-connections-imaps",
            "7",
            "--ipv6-prefix-length",
            "48",
            "--stress-threshold",
            "90",
            "--stress-command-timeout",
            "3",
            "--tls-handshake-timeout",
            "20",
            "--stress-handshake-timeout",
            "2",
            "--min-data-rate",
            "0",
            "--max-junk-commands",
            "5",
            "--max-auth-failures",
            "2",
            "--auth-failure-delay",
            "1",
            "--auth-penalty-max",
            "1m",
            "--imap-max-pending",
            "9",
            "--imap-stall-timeout",
            "5",
            "--shutdown-grace",
            "1m",
        ]);
        assert_eq!(o.pool(Service::Smtp), 40);
        assert_eq!(o.pool(Service::Submission), 20);
        assert_eq!(o.pool(Service::Submissions), 300);
        assert_eq!(o.pool(Service::Imaps), 7);
        let l = o.listen;
        assert_eq!(l.ipv6_prefix_length, 48);
        assert_eq!(l.stress_threshold, 90);
        assert_eq!(l.stress_command_timeout, Duration::from_secs(3));
        assert_eq!(l.tls_handshake_timeout, Duration::from_secs(20));
        assert_eq!(l.stress_handshake_timeout, Duration::from_secs(2));
        assert_eq!(l.min_data_rate, 0);
        assert_eq!(l.max_junk_commands, 5);
        assert_eq!(l.max_auth_failures, 2);
        assert_eq!(l.auth_failure_delay, Duration::from_secs(1));
        assert_eq!(l.auth_penalty_max, Duration::from_secs(60));
        assert_eq!(l.imap_max_pending, 9);
        assert_eq!(ListenLimits::default().imap_max_pending, 4096);
        assert_eq!(l.imap_stall_timeout, Duration::from_secs(5));
        assert_eq!(l.shutdown_grace, Duration::from_secs(60));
        assert_eq!(
            ListenLimits::default().imap_stall_timeout,
            Duration::from_secs(60)
        );
        assert_eq!(
            ListenLimits::default().shutdown_grace,
            Duration::from_secs(30)
        );
        // 0 turns the failure delay off (hardening_memory.rs floods with it; it was refused).
        assert_eq!(
            run(&["--auth-failure-delay", "0"])
                .listen
                .auth_failure_delay,
            Duration::ZERO
        );
        for (flag, value) in [
            ("--ipv6-prefix-length", "129"),
            ("--ipv6-prefix-length", "0"),
            ("--stress-threshold", "101"),
            ("--min-data-rate", "fast"),
            ("--max-auth-failures", "0"),
            ("--auth-failure-delay", "2d"),
            ("--max-connections-smtp", "0"),
            ("--imap-max-pending", "0"),
            ("--imap-stall-timeout", "0"),
            ("--shutdown-grace", "soon"),
        ] {
            assert!(
                matches!(fail(&[flag, value]), OptionsError::Invalid { .. }),
                "{flag} {value}"
            );
        }
        for flag in LISTEN_FLAGS {
            assert_eq!(fail(&[flag]), OptionsError::MissingValue(flag.to_string()));
            let documented = USAGE.contains(flag)
                || (flag.starts_with("--max-connections-")
                    && USAGE.contains("--max-connections-SERVICE"));
            assert!(documented, "{flag} is not documented");
        }
    }

    #[test]
    fn help_wins() {
        assert!(matches!(parse(["--help"]), Ok(Parsed::Help)));
        assert!(matches!(parse(["--smtp", "x", "-h"]), Ok(Parsed::Help)));
        for flag in FLAGS_WITH_VALUES {
            assert!(USAGE.contains(flag), "{flag} is not documented");
        }
        assert!(USAGE.contains("--allow-plaintext-auth"));
        assert!(USAGE.contains("--limit-loopback"));
        for line in USAGE.lines() {
            assert!(line.len() <= 100, "{line}");
        }
    }

    #[test]
    fn bad_values_name_the_flag_and_value() {
        for (args, flag, value) in [
            (&["--smtp", "70000"][..], "--smtp", "70000"),
            (&["--imaps=-1"], "--imaps", "-1"),
            (&["--bind", "localhost"], "--bind", "localhost"),
            (&["--hostname", "bad host"], "--hostname", "bad host"),
            (
                &["--hostname", "bücher.example"],
                "--hostname",
                "bücher.example",
            ),
            (&["--domain", "../etc"], "--domain", "../etc"),
            (&["--max-message-size", "0"], "--max-message-size", "0"),
            (&["--max-message-size", "5T"], "--max-message-size", "5T"),
            (
                &["--max-message-size", "99999999999999999999"],
                "--max-message-size",
                "99999999999999999999",
            ),
            (&["--max-recipients", "ten"], "--max-recipients", "ten"),
            (&["--max-hops", "0"], "--max-hops", "0"),
            (&["--max-connections", "-5"], "--max-connections", "-5"),
            (
                &["--max-connections-per-ip", "1.5"],
                "--max-connections-per-ip",
                "1.5",
            ),
            (&["--command-timeout", "5d"], "--command-timeout", "5d"),
            (&["--data-timeout", "0"], "--data-timeout", "0"),
            (
                &["--max-errors", "99999999999"],
                "--max-errors",
                "99999999999",
            ),
            (&["--user", "nobody:secret"], "--user", "nobody"),
            (&["--user", "a@localhost:"], "--user", "a@localhost"),
        ] {
            let error = fail(args);
            match &error {
                OptionsError::Invalid {
                    flag: f, value: v, ..
                } => {
                    assert_eq!((f.as_str(), v.as_str()), (flag, value), "{args:?}");
                }
                other => panic!("{args:?}: {other:?}"),
            }
            let message = error.to_string();
            assert!(
                message.contains(flag) && message.contains(value),
                "{message}"
            );
        }
    }

    #[test]
    fn a_password_in_a_mistyped_or_non_utf8_argument_is_not_echoed() {
        use std::os::unix::ffi::OsStringExt;
        // A flag with a typo, in the `=` form: only the flag is named.
        for args in [
            &["--usr=alice@localhost:secretpw"][..],
            &["--users=alice@localhost:secretpw"],
            // A password given as its own word after `--user ADDR`.
            &["--user", "alice@localhost", "secretpw"],
        ] {
            let error = fail(args);
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains("secretpw"), "{args:?}: {shown}");
        }
        assert_eq!(
            fail(&["--usr=alice@localhost:secretpw"]),
            OptionsError::Unknown("--usr".into())
        );
        // A password that is not UTF-8, in the `=` form of --user.
        let arg = OsString::from_vec(b"--user=alice@localhost:secretpw\xff".to_vec());
        let error = match parse([arg]) {
            Err(e) => e,
            Ok(other) => panic!("parsed: {other:?}"),
        };
        let shown = format!("{error} {error:?}");
        assert!(!shown.contains("secretpw"), "{shown}");
        assert!(shown.contains("--user"), "{shown}");
    }

    #[test]
    fn help_names_the_quota_refusals_the_server_sends() {
        // smtp.rs answers 452 4.2.2 at RCPT and 552 5.2.2 after the data (the class of the
        // enhanced code agrees with the reply's, RFC 3463); --help said `552 4.2.2`.
        let help = USAGE.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            help.contains("RCPT (452 4.2.2, counting MAIL SIZE=) or after DATA (552 5.2.2)"),
            "{}",
            USAGE
                .lines()
                .filter(|l| l.contains("DATA ("))
                .collect::<String>()
        );
    }

    #[test]
    fn passwords_never_appear_in_errors() {
        for args in [
            &["--user", "no-colon-secretpw"][..],
            &["--user", "bad address:secretpw"],
            &["--user", "a@elsewhere.example:secretpw"],
        ] {
            let message = fail(args).to_string();
            assert!(!message.contains("secretpw"), "{message}");
        }
        assert_eq!(
            fail(&["--user", "a@elsewhere.example:pw"]),
            OptionsError::UserDomain {
                address: "a@elsewhere.example".into(),
                domain: "elsewhere.example".into()
            }
        );
    }

    #[test]
    fn missing_values_and_unknown_flags() {
        for flag in FLAGS_WITH_VALUES {
            assert_eq!(fail(&[flag]), OptionsError::MissingValue(flag.to_string()));
        }
        assert_eq!(
            fail(&["--data", "--smtp", "25"]),
            OptionsError::MissingValue("--data".into())
        );
        assert_eq!(
            fail(&["--smtpx", "1"]),
            OptionsError::Unknown("--smtpx".into())
        );
        assert!(matches!(fail(&["stray"]), OptionsError::Unknown(s) if !s.contains("stray")));
        assert_eq!(fail(&["-x"]), OptionsError::Unknown("-x".into()));
        assert_eq!(
            fail(&["--allow-plaintext-auth=yes"]),
            OptionsError::UnexpectedValue("--allow-plaintext-auth".into())
        );
        assert_eq!(
            fail(&["--limit-loopback=1"]),
            OptionsError::UnexpectedValue("--limit-loopback".into())
        );
        // A value starting with `--` needs the `=` form.
        assert_eq!(run(&["--data=--odd"]).data, PathBuf::from("--odd"));
    }

    #[test]
    fn password_files_quota_free_space_and_local_senders() {
        let o = run(&[]);
        assert_eq!(o.guards, StoreGuards::default());
        assert_eq!(o.guards.quota, Some(1 << 30));
        assert!(!o.guards.allow_local_senders_on_relay);
        // 1.5 times the largest message by default.
        assert_eq!(o.min_free_space(), 52_428_800 * 3 / 2);
        assert_eq!(
            run(&["--max-message-size", "10M"]).min_free_space(),
            15 << 20
        );

        let o = run(&[
            "--user",
            "alice@localhost",
            "--password-file",
            "/run/secrets/alice",
            "--user=bob@localhost",
            "--password-file",
            "-",
            "--user",
            "carol@localhost:inline",
            "--quota",
            "5M",
            "--min-free-space=0",
            "--allow-local-senders-on-relay",
        ]);
        let sources: Vec<&PasswordSource> = o.users.iter().map(|u| &u.password).collect();
        assert_eq!(
            sources,
            [
                &PasswordSource::File("/run/secrets/alice".into()),
                &PasswordSource::Stdin,
                &PasswordSource::CommandLine(Secret::new("inline".into())),
            ]
        );
        assert_eq!(o.guards.quota, Some(5 << 20));
        assert_eq!(o.min_free_space(), 0);
        assert!(o.guards.allow_local_senders_on_relay);
        assert_eq!(run(&["--quota", "0"]).guards.quota, None);
        assert_eq!(run(&["--min-free-space", "1G"]).min_free_space(), 1 << 30);

        // A --user without a password, a --password-file without a --user, stdin twice.
        let error = fail(&["--user", "alice@localhost"]);
        assert!(error.to_string().contains("--password-file"), "{error}");
        let error = fail(&["--password-file", "f"]);
        assert!(error.to_string().contains("--user"), "{error}");
        let error = fail(&[
            "--user",
            "a@localhost",
            "--password-file",
            "-",
            "--user",
            "b@localhost",
            "--password-file=-",
        ]);
        assert!(error.to_string().contains("one --user only"), "{error}");
        assert_eq!(
            fail(&["--allow-local-senders-on-relay=yes"]),
            OptionsError::UnexpectedValue("--allow-local-senders-on-relay".into())
        );
        for flag in STORE_FLAGS {
            assert!(USAGE.contains(flag), "{flag} is not documented");
        }
        for flag in ["--password-file", "--quota", "--min-free-space"] {
            assert_eq!(fail(&[flag]), OptionsError::MissingValue(flag.to_string()));
        }
        assert!(matches!(
            fail(&["--quota", "lots"]),
            OptionsError::Invalid { .. }
        ));
    }

    #[test]
    fn cert_and_key_go_together() {
        assert_eq!(
            fail(&["--cert", "c.pem"]),
            OptionsError::CertKeyPair {
                given: "--cert",
                missing: "--key"
            }
        );
        assert_eq!(
            fail(&["--key", "k.pem"]),
            OptionsError::CertKeyPair {
                given: "--key",
                missing: "--cert"
            }
        );
        let message = fail(&["--cert", "c.pem"]).to_string();
        assert!(message.contains("--key"), "{message}");
    }

    #[test]
    fn port_clashes_are_refused_but_zero_may_repeat() {
        assert_eq!(
            fail(&["--smtp", "2000", "--imap", "2000"]),
            OptionsError::PortClash {
                first: Service::Smtp,
                second: Service::Imap,
                port: 2000
            }
        );
        let o = run(&["--pop3", "0", "--pop3s", "0", "--imap", "0", "--imaps", "0"]);
        assert_eq!(o.listeners().len(), 3);
    }

    #[cfg(unix)]
    #[test]
    fn paths_may_be_any_os_string() {
        use std::os::unix::ffi::OsStringExt;
        let odd = OsString::from_vec(b"/tmp/\xffdata".to_vec());
        let parsed = parse([OsString::from("--data"), odd.clone()]).unwrap();
        match parsed {
            Parsed::Run(o) => assert_eq!(o.data, PathBuf::from(odd)),
            Parsed::Help => panic!(),
        }
        let bad = OsString::from_vec(b"--hostname=\xff".to_vec());
        assert!(matches!(parse([bad]), Err(OptionsError::NotUnicode(_))));
    }
    #[test]
    fn dkim_flags() {
        use crate::dkim::{Algorithm, DkimConfig};
        let o = run(&[]);
        assert_eq!(o.dkim, Some(DkimConfig::default()));
        let config = o.dkim.unwrap();
        assert_eq!(config.selector, "sansmail");
        assert_eq!(config.algorithms, [Algorithm::Rsa, Algorithm::Ed25519]);
        assert_eq!(config.selector_for(Algorithm::Rsa), "sansmail-rsa");

        let o = run(&["--dkim-selector", "Mail2027", "--dkim-algorithm=ed25519"]);
        let config = o.dkim.unwrap();
        assert_eq!(config.selector, "mail2027");
        assert_eq!(config.algorithms, [Algorithm::Ed25519]);
        assert_eq!(config.selector_for(Algorithm::Ed25519), "mail2027-ed25519");
        let o = run(&["--dkim-algorithm", "RSA"]);
        assert_eq!(o.dkim.unwrap().algorithms, [Algorithm::Rsa]);
        let o = run(&["--dkim-algorithm", "both", "--dkim-selector", "a.b-c"]);
        assert_eq!(o.dkim.unwrap().selector, "a.b-c");
        assert_eq!(run(&["--no-dkim"]).dkim, None);
        assert_eq!(run(&["--dkim-selector", "x", "--no-dkim"]).dkim, None);

        let long = "x".repeat(56);
        for (flag, value) in [
            ("--dkim-selector", "a/b"),
            ("--dkim-selector", "a..b"),
            ("--dkim-selector", "-a"),
            ("--dkim-selector", "s\u{e9}lecteur"),
            ("--dkim-selector", long.as_str()),
            ("--dkim-algorithm", "dsa"),
            ("--dkim-algorithm=", ""),
        ] {
            let args = match flag.strip_suffix('=') {
                Some(flag) => vec![format!("{flag}={value}")],
                None => vec![flag.to_owned(), value.to_owned()],
            };
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            match fail(&args) {
                OptionsError::Invalid {
                    flag: f, value: v, ..
                } => {
                    assert_eq!(
                        (f.as_str(), v.as_str()),
                        (flag.trim_end_matches('='), value)
                    );
                }
                other => panic!("{flag} {value}: {other:?}"),
            }
        }
        // 55 octets plus `-ed25519` is the longest label DNS allows.
        assert!(run(&["--dkim-selector", &"x".repeat(55)]).dkim.is_some());
        assert_eq!(
            fail(&["--no-dkim=yes"]),
            OptionsError::UnexpectedValue("--no-dkim".into())
        );
        for flag in ["--dkim-selector", "--dkim-algorithm"] {
            assert_eq!(fail(&[flag]), OptionsError::MissingValue(flag.to_string()));
        }
        for flag in DKIM_FLAGS {
            assert!(USAGE.contains(flag), "{flag} is not documented");
        }
    }

    /// Issue 16's outbound flags: defaults, values, and the ones that need each other.
    #[test]
    fn outbound_flags() {
        let o = run(&[]).outbound;
        assert_eq!(o, OutboundOptions::default());
        assert_eq!((o.mx_port, o.dns, o.smarthost.clone()), (25, None, None));
        assert_eq!((o.max_connections, o.max_connections_per_domain), (100, 20));
        assert!(!o.require_tls);
        assert_eq!(o.verify, OutboundVerify::Any);
        let o = run(&[
            "--dns",
            "127.0.0.53:5353",
            "--mx-port=2526",
            "--require-tls",
            "--outbound-tls-verify",
            "webpki",
            "--smarthost",
            "Relay.Example.net:587",
            "--smarthost-user",
            "me",
            "--smarthost-password-file",
            "/p",
            "--smarthost-ca",
            "/ca.pem",
            "--smarthost-tls",
            "implicit",
            "--outbound-connections",
            "7",
            "--outbound-connections-per-domain",
            "3",
        ])
        .outbound;
        assert_eq!(o.dns, Some("127.0.0.53:5353".parse().unwrap()));
        assert_eq!(o.mx_port, 2526);
        assert!(o.require_tls);
        assert_eq!(o.verify, OutboundVerify::WebPki);
        assert_eq!(o.smarthost, Some(("relay.example.net".to_owned(), 587)));
        assert_eq!(o.smarthost_user.as_deref(), Some("me"));
        assert_eq!(o.smarthost_password_file, Some(PathBuf::from("/p")));
        assert_eq!(o.smarthost_ca, Some(PathBuf::from("/ca.pem")));
        assert_eq!(o.smarthost_implicit_tls, Some(true));
        assert_eq!((o.max_connections, o.max_connections_per_domain), (7, 3));
        let o = run(&["--smarthost", "[::1]:465", "--dns", "[::1]:53"]).outbound;
        assert_eq!(o.smarthost, Some(("::1".to_owned(), 465)));
        assert_eq!(o.dns, Some("[::1]:53".parse().unwrap()));

        for (args, says) in [
            (&["--mx-port", "0"][..], "--mx-port"),
            (&["--mx-port", "65536"], "--mx-port"),
            (&["--dns", "localhost:53"], "expected IP:PORT"),
            (&["--dns", "127.0.0.1"], "expected IP:PORT"),
            (&["--smarthost", "relay.example.net"], "expected HOST:PORT"),
            (&["--smarthost", ":25"], "the host is empty"),
            (&["--outbound-tls-verify", "dane"], "expected any or webpki"),
            (&["--outbound-connections", "0"], "greater than 0"),
            (&["--smarthost-user", "me"], "needs --smarthost"),
            (&["--smarthost-ca", "/ca"], "needs --smarthost"),
            (&["--smarthost-tls", "starttls"], "needs --smarthost"),
            (
                &["--smarthost", "h:25", "--smarthost-tls", "tls"],
                "expected implicit or starttls",
            ),
            (
                &["--smarthost", "h:25", "--smarthost-user", "me"],
                "needs --smarthost-password-file",
            ),
            (
                &["--smarthost", "h:25", "--smarthost-password-file", "/p"],
                "needs --smarthost-user",
            ),
        ] {
            let error = fail(args).to_string();
            assert!(error.contains(says), "{args:?}: {error}");
        }
        assert_eq!(
            fail(&["--require-tls=yes"]),
            OptionsError::UnexpectedValue("--require-tls".into())
        );
        assert_eq!(fail(&["--dns"]), OptionsError::MissingValue("--dns".into()));
        assert!(USAGE.contains("--smarthost-password-file FILE"));
    }

    #[test]
    fn queue_flags() {
        let q = run(&[]).queue;
        assert_eq!(q, QueueOptions::default());
        let m = |n: u64| Duration::from_secs(n * 60);
        assert_eq!(q.retry, [m(30), m(60), m(120), m(240)]);
        assert_eq!(q.lifetime, Duration::from_secs(5 * 86400));
        assert_eq!(q.delay_warning, Some(m(240)));
        assert_eq!((q.max_messages, q.max_bytes), (10_000, 1 << 30));
        assert!(!q.list);
        let q = run(&[
            "--retry-schedule",
            "1s, 2m,3h,1d",
            "--max-queue-lifetime=4d",
            "--delay-warning",
            "0",
            "--max-queue-messages",
            "7",
            "--max-queue-size",
            "2M",
            "--list-queue",
        ])
        .queue;
        let s = Duration::from_secs;
        assert_eq!(q.retry, [s(1), s(120), s(3 * 3600), s(86400)]);
        assert_eq!(q.lifetime, s(4 * 86400));
        assert_eq!(q.delay_warning, None);
        assert_eq!((q.max_messages, q.max_bytes), (7, 2 << 20));
        assert!(q.list);
        for (args, needle) in [
            (&["--retry-schedule", "1s,,2s"][..], "--retry-schedule"),
            (&["--retry-schedule", "0"], "greater than 0"),
            (&["--max-queue-lifetime", "5w"], "--max-queue-lifetime"),
            (&["--max-queue-messages", "0"], "greater than 0"),
            (&["--max-queue-size", "lots"], "--max-queue-size"),
        ] {
            let error = fail(args).to_string();
            assert!(error.contains(needle), "{args:?}: {error}");
        }
        assert_eq!(
            fail(&["--list-queue=yes"]),
            OptionsError::UnexpectedValue("--list-queue".into())
        );
        assert_eq!(
            fail(&["--delay-warning"]),
            OptionsError::MissingValue("--delay-warning".into())
        );
    }
}
