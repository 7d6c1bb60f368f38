//! How a plan fails: every failure is permanent (bounce) or temporary (retry later), with the
//! enhanced status code (RFC 3463) a delivery status notification carries.

use std::fmt;

use crate::wire::{Name, Rcode, RecordType};

/// Why one lookup the planner asked for produced no answer. Every one of them is temporary.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LookupFailure {
    /// No answer came before the deadline, from any nameserver, on any try.
    Timeout,
    /// The nameservers could not be reached (a socket error).
    Network,
    /// The nameserver answered with an error code other than NXDOMAIN: SERVFAIL, REFUSED,
    /// FORMERR, NOTIMP or another.
    Rcode(Rcode),
    /// The answer handed to the planner is not an answer to the question it asked.
    Mismatch,
}

impl fmt::Display for LookupFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LookupFailure::Timeout => f.write_str("timed out"),
            LookupFailure::Network => f.write_str("nameserver unreachable"),
            LookupFailure::Rcode(Rcode::ServFail) => f.write_str("server failure (SERVFAIL)"),
            LookupFailure::Rcode(Rcode::Refused) => f.write_str("query refused (REFUSED)"),
            LookupFailure::Rcode(rcode) => write!(f, "nameserver error {rcode:?}"),
            LookupFailure::Mismatch => f.write_str("the answer does not match the question"),
        }
    }
}

/// Why no delivery candidate list could be made for a destination.
///
/// | variant | class | status |
/// |---|---|---|
/// | [`InvalidDomain`](Self::InvalidDomain) | permanent | 5.1.2 |
/// | [`NoSuchDomain`](Self::NoSuchDomain) | permanent | 5.4.4 |
/// | [`NullMx`](Self::NullMx) | permanent | 5.1.10 |
/// | [`NoAddresses`](Self::NoAddresses) | permanent | 5.4.4 |
/// | [`UnusableLiteral`](Self::UnusableLiteral) | permanent | 5.4.4 |
/// | [`LoopsBackToMyself`](Self::LoopsBackToMyself) | permanent | 5.4.6 |
/// | [`CnameChain`](Self::CnameChain) | temporary | 4.4.3 |
/// | [`Temporary`](Self::Temporary) | temporary | 4.4.3 |
///
/// `docs/mx.md` has the same table with the RFC behind each row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PlanError {
    /// The destination is neither a domain name (after IDNA) nor an address literal.
    InvalidDomain {
        /// The destination as given.
        domain: String,
    },
    /// The domain does not exist (NXDOMAIN for its MX query, or, with no MX, for its address
    /// query).
    NoSuchDomain {
        /// The name the nameserver said does not exist (the last name of a CNAME chain).
        name: Name,
    },
    /// The domain publishes a null MX (`0 .` as its only MX record): it accepts no mail
    /// (RFC 7505 section 4.1).
    NullMx {
        /// The domain.
        domain: Name,
    },
    /// No mail exchanger (or, with no MX, the domain itself) resolved to a usable address: the
    /// names do not exist, have no address of a usable family, or were invalid records.
    NoAddresses {
        /// The domain.
        domain: Name,
    },
    /// An address literal of a family the configuration does not use, or an unspecified,
    /// multicast or broadcast address.
    UnusableLiteral {
        /// The literal as given, brackets included.
        literal: String,
    },
    /// The best mail exchanger is one of our own addresses: delivering would send the message
    /// to ourselves (RFC 5321 section 5.1).
    LoopsBackToMyself {
        /// The domain.
        domain: String,
        /// The exchange whose address is ours (the root name for an address literal).
        exchange: Name,
    },
    /// The domain's CNAME chain loops or is longer than
    /// [`PlanConfig::max_cname_depth`](super::PlanConfig::max_cname_depth). Temporary: a
    /// recursive resolver answers the same data with SERVFAIL, and data being changed can be
    /// inconsistent for a while.
    CnameChain {
        /// The name the chain started at.
        name: Name,
    },
    /// A lookup failed in a way that may pass: a timeout, an unreachable nameserver, SERVFAIL
    /// or REFUSED. When every exchange failed, the first failure is the one reported.
    Temporary {
        /// The name looked up.
        name: Name,
        /// The record type looked up.
        rtype: RecordType,
        /// What went wrong.
        failure: LookupFailure,
    },
}

impl PlanError {
    /// Whether the failure is permanent: the message should be bounced, not retried.
    pub fn is_permanent(&self) -> bool {
        !matches!(
            self,
            PlanError::CnameChain { .. } | PlanError::Temporary { .. }
        )
    }

    /// The enhanced status code (RFC 3463) of the failure, for a delivery status notification
    /// (RFC 3464) or a log line: `5.1.10` for a null MX (RFC 7505 section 4.1), `5.4.6` for a
    /// routing loop, `5.4.4` for an unroutable destination, `5.1.2` for a destination that is
    /// not a domain, `4.4.3` for a temporary DNS failure.
    pub fn enhanced_status(&self) -> &'static str {
        match self {
            PlanError::InvalidDomain { .. } => "5.1.2",
            PlanError::NoSuchDomain { .. }
            | PlanError::NoAddresses { .. }
            | PlanError::UnusableLiteral { .. } => "5.4.4",
            PlanError::NullMx { .. } => "5.1.10",
            PlanError::LoopsBackToMyself { .. } => "5.4.6",
            PlanError::CnameChain { .. } | PlanError::Temporary { .. } => "4.4.3",
        }
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::InvalidDomain { domain } => {
                write!(f, "{domain:?} is not a valid destination domain")
            }
            PlanError::NoSuchDomain { name } => write!(f, "{name}: no such domain (NXDOMAIN)"),
            PlanError::NullMx { domain } => {
                write!(f, "{domain} does not accept mail (null MX, RFC 7505)")
            }
            PlanError::NoAddresses { domain } => {
                write!(f, "no mail exchanger of {domain} has a usable address")
            }
            PlanError::UnusableLiteral { literal } => {
                write!(
                    f,
                    "{literal}: not a usable delivery address (address family disabled, or an unspecified, multicast or broadcast address)"
                )
            }
            PlanError::LoopsBackToMyself { domain, exchange } => write!(
                f,
                "mail for {domain} loops back to myself (best mail exchanger {exchange} has a local address)"
            ),
            PlanError::CnameChain { name } => {
                write!(f, "{name}: CNAME chain loops or is too long")
            }
            PlanError::Temporary {
                name,
                rtype,
                failure,
            } => write!(f, "{} lookup of {name}: {failure}", type_name(*rtype)),
        }
    }
}

impl std::error::Error for PlanError {}

/// The mnemonic of the record types the planner asks for.
pub(crate) fn type_name(rtype: RecordType) -> String {
    match u16::from(rtype) {
        1 => "A".into(),
        5 => "CNAME".into(),
        15 => "MX".into(),
        28 => "AAAA".into(),
        other => format!("TYPE{other}"),
    }
}
