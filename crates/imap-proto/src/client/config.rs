//! [`ClientConfig`]: the TLS policy, the timers and the limits, each with its default and
//! source.

use std::time::Duration;

use crate::framer::FramerConfig;

/// Whether to upgrade with `STARTTLS` (RFC 9051 section 6.2.1) a connection that is not TLS
/// from the start. The machine sends `STARTTLS` itself, before any command of the
/// application, so that nothing the application sends can go out in plaintext by mistake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsPolicy {
    /// Never send `STARTTLS`.
    Never,
    /// Send `STARTTLS` when the server offers it; otherwise go on in plaintext, reported by
    /// [`Event::PlaintextFallback`](super::Event::PlaintextFallback).
    Opportunistic,
    /// Send `STARTTLS` and end the session when it is not offered, refused, or when the
    /// server greets with `PREAUTH` (which leaves no chance to upgrade: RFC 9051 section
    /// 6.2.1, docs/design.md section 3). The default.
    #[default]
    Required,
}

/// Default [`ClientConfig::greeting_timeout`]: 60 seconds.
pub const DEFAULT_GREETING_TIMEOUT: Duration = Duration::from_secs(60);
/// Default [`ClientConfig::command_timeout`]: 10 minutes.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);
/// Default [`ClientConfig::idle_refresh`]: 28 minutes, under the 29 of RFC 2177 section 3.
pub const DEFAULT_IDLE_REFRESH: Duration = Duration::from_secs(28 * 60);
/// The longest [`ClientConfig::idle_refresh`] the client uses: 29 minutes less one second
/// (RFC 2177 section 3: a client re-issues IDLE at least every 29 minutes, since servers
/// may log out a client that was idle 30 minutes).
pub const MAX_IDLE_REFRESH: Duration = Duration::from_secs(29 * 60 - 1);
/// Default [`ClientConfig::max_commands`]: 1000 commands in flight or queued.
pub const DEFAULT_MAX_COMMANDS: usize = 1000;

/// The client's configuration. `#[non_exhaustive]`: start from [`ClientConfig::new`] or
/// [`ClientConfig::imaps`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ClientConfig {
    /// STARTTLS policy. Default [`TlsPolicy::Required`].
    pub tls: TlsPolicy,
    /// The connection is TLS from the first byte (port 993, RFC 8314). Default `false`.
    pub implicit_tls: bool,
    /// Let `LOGIN` and `AUTHENTICATE` send credentials over a connection without TLS
    /// (docs/design.md section 3). Default `false`.
    pub allow_plaintext_auth: bool,
    /// How long to wait for the greeting after the connection opened:
    /// [`DEFAULT_GREETING_TIMEOUT`].
    pub greeting_timeout: Duration,
    /// How long to wait, while a command is in flight, for the next complete response:
    /// [`DEFAULT_COMMAND_TIMEOUT`] (the server's autologout timer is at least 30 minutes,
    /// RFC 9051 section 5.4, but a silent server answering a command is broken far sooner).
    pub command_timeout: Duration,
    /// How long an IDLE runs before the client ends it with `DONE` and sends `IDLE` again:
    /// [`DEFAULT_IDLE_REFRESH`]; values above [`MAX_IDLE_REFRESH`] (and zero) are taken as
    /// [`MAX_IDLE_REFRESH`].
    pub idle_refresh: Duration,
    /// Commands in flight or queued behind a synchronising literal, an AUTHENTICATE or
    /// STARTTLS: [`DEFAULT_MAX_COMMANDS`]. One more is refused with
    /// [`ClientError::TooManyCommands`](super::ClientError::TooManyCommands).
    pub max_commands: usize,
    /// The limits on what the server sends: line, literal and message sizes
    /// ([`FramerConfig::default`]: lines of 64 KiB, literals of 64 MiB). A response that
    /// breaks one ends the session with
    /// [`SessionError::TooLarge`](super::SessionError::TooLarge).
    pub framer: FramerConfig,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig::new()
    }
}

impl ClientConfig {
    /// Port 143 with required STARTTLS.
    pub fn new() -> Self {
        ClientConfig {
            tls: TlsPolicy::Required,
            implicit_tls: false,
            allow_plaintext_auth: false,
            greeting_timeout: DEFAULT_GREETING_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            idle_refresh: DEFAULT_IDLE_REFRESH,
            max_commands: DEFAULT_MAX_COMMANDS,
            framer: FramerConfig::default(),
        }
    }

    /// Port 993: implicit TLS.
    pub fn imaps() -> Self {
        ClientConfig {
            implicit_tls: true,
            ..ClientConfig::new()
        }
    }

    /// The IDLE refresh in force: [`ClientConfig::idle_refresh`] within
    /// (0, [`MAX_IDLE_REFRESH`]].
    pub fn effective_idle_refresh(&self) -> Duration {
        if self.idle_refresh.is_zero() || self.idle_refresh > MAX_IDLE_REFRESH {
            MAX_IDLE_REFRESH
        } else {
            self.idle_refresh
        }
    }
}
