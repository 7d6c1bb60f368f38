//! What one message is sent to and from: [`Envelope`] and its [`Recipient`]s, and the check
//! of an envelope against the server's extensions ([`EnvelopeError`]) before anything is sent.

use crate::command::{Body, MailParams, RcptParams};
use crate::reply::Capabilities;
use crate::types::{ForwardPath, ReversePath};

use super::Client;
use super::transaction::Transfer;

/// One recipient of an [`Envelope`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Recipient {
    /// The forward path.
    pub to: ForwardPath<'static>,
    /// Its parameters (DSN `NOTIFY=` and `ORCPT=`, RFC 3461).
    pub params: RcptParams<'static>,
}

impl Recipient {
    /// A recipient with no parameters.
    pub fn new(to: ForwardPath<'static>) -> Self {
        Recipient::with_params(to, RcptParams::default())
    }

    /// A recipient with parameters.
    pub fn with_params(to: ForwardPath<'static>, params: RcptParams<'static>) -> Self {
        Recipient { to, params }
    }
}

/// The envelope of one message: MAIL FROM with its parameters, and the recipients.
///
/// [`Client::send_message`] checks the parameters against what the server offers:
/// `SIZE=` is sent only when the server offers SIZE and refused when over its limit;
/// `BODY=8BITMIME` needs `8BITMIME`; `BODY=BINARYMIME` needs `BINARYMIME` and `CHUNKING`;
/// `SMTPUTF8` (added by itself when an address is not ASCII) needs `SMTPUTF8`; `RET=`,
/// `ENVID=`, `NOTIFY=` and `ORCPT=` need `DSN`; `REQUIRETLS` needs TLS and `REQUIRETLS`;
/// `AUTH=` needs `AUTH`. `BODY=7BIT` is dropped when `8BITMIME` is not offered (7BIT is the
/// default). Parameters this crate does not know are sent as given.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Envelope {
    /// The reverse path.
    pub from: ReversePath<'static>,
    /// The MAIL FROM parameters (SIZE, BODY, RET, ENVID, SMTPUTF8, REQUIRETLS, ...).
    pub params: MailParams<'static>,
    /// The recipients, in order; events refer to them by index.
    pub recipients: Vec<Recipient>,
}

impl Envelope {
    /// An envelope from `from` with no parameters and no recipients yet.
    pub fn new(from: ReversePath<'static>) -> Self {
        Envelope {
            from,
            params: MailParams::default(),
            recipients: Vec::new(),
        }
    }

    /// Adds a recipient without parameters.
    pub fn with_recipient(self, to: ForwardPath<'static>) -> Self {
        self.with_recipient_params(to, RcptParams::default())
    }

    /// Adds a recipient with parameters.
    pub fn with_recipient_params(
        mut self,
        to: ForwardPath<'static>,
        params: RcptParams<'static>,
    ) -> Self {
        self.recipients.push(Recipient::with_params(to, params));
        self
    }

    /// Sets the MAIL FROM parameters.
    pub fn with_params(mut self, params: MailParams<'static>) -> Self {
        self.params = params;
        self
    }

    /// Declares the message size in octets (`SIZE=`, RFC 1870).
    pub fn with_size(mut self, size: u64) -> Self {
        self.params.size = Some(size);
        self
    }

    /// Whether an address needs SMTPUTF8 (RFC 6531).
    pub(super) fn is_utf8(&self) -> bool {
        let from = matches!(&self.from, ReversePath::Mailbox(m) if m.is_utf8());
        from || self
            .recipients
            .iter()
            .any(|r| matches!(&r.to, ForwardPath::Mailbox(m) if m.is_utf8()))
    }

    /// Whether any DSN parameter (RFC 3461) is set.
    pub(super) fn uses_dsn(&self) -> bool {
        self.params.ret.is_some()
            || self.params.envid.is_some()
            || self
                .recipients
                .iter()
                .any(|r| r.params.notify.is_some() || r.params.orcpt.is_some())
    }
}

/// Why the server cannot take an envelope. Nothing was sent; the session stays ready.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The envelope has no recipients.
    #[error("the envelope has no recipients")]
    NoRecipients,
    /// The declared size is over the server's `SIZE` limit (RFC 1870 section 6).
    #[error("the message size {size} exceeds the server's limit of {limit} octets")]
    TooLarge {
        /// The declared size.
        size: u64,
        /// The server's limit.
        limit: u64,
    },
    /// More recipients than the server's `LIMITS RCPTMAX` (RFC 9422 section 4.2): split the
    /// envelope.
    #[error("{count} recipients exceed the server's limit of {limit}")]
    TooManyRecipients {
        /// Recipients in the envelope.
        count: usize,
        /// The server's limit.
        limit: u64,
    },
    /// The envelope needs an extension the server does not offer (or, for `REQUIRETLS`, a
    /// session that is not TLS).
    #[error("the envelope needs {extension}, which the server does not offer")]
    NotOffered {
        /// The EHLO keyword: `SMTPUTF8`, `8BITMIME`, `BINARYMIME`, `CHUNKING`, `DSN`,
        /// `REQUIRETLS`, `AUTH`, or `EHLO` for unknown parameters in a HELO session.
        extension: &'static str,
    },
}

impl Client {
    /// Checks the envelope against the server's extensions; returns the MAIL parameters to
    /// send and how the body will go.
    pub(super) fn check_envelope(
        &self,
        envelope: &Envelope,
    ) -> Result<(MailParams<'static>, Transfer), EnvelopeError> {
        fn require(offered: bool, extension: &'static str) -> Result<(), EnvelopeError> {
            if offered {
                Ok(())
            } else {
                Err(EnvelopeError::NotOffered { extension })
            }
        }

        let none = Capabilities::default();
        let caps = self.capabilities.as_ref().unwrap_or(&none);
        if envelope.recipients.is_empty() {
            return Err(EnvelopeError::NoRecipients);
        }
        if let Some(limit) = caps.limit("RCPTMAX").filter(|&l| l > 0) {
            let count = envelope.recipients.len();
            if count as u64 > limit {
                return Err(EnvelopeError::TooManyRecipients { count, limit });
            }
        }
        let mut params = envelope.params.clone();
        match (params.size, caps.size) {
            (Some(size), Some(Some(limit))) if size > limit => {
                return Err(EnvelopeError::TooLarge { size, limit });
            }
            (Some(_), None) => params.size = None,
            _ => {}
        }
        let chunking = self.config.chunking && caps.chunking;
        match params.body {
            Some(Body::SevenBit) if !caps.eight_bit_mime => params.body = None,
            Some(Body::EightBitMime) => require(caps.eight_bit_mime, "8BITMIME")?,
            Some(Body::BinaryMime) => {
                require(caps.binary_mime, "BINARYMIME")?;
                require(chunking, "CHUNKING")?;
            }
            _ => {}
        }
        if params.smtputf8 || envelope.is_utf8() {
            require(caps.smtputf8, "SMTPUTF8")?;
            params.smtputf8 = true;
        }
        if params.requiretls {
            require(self.tls && caps.requiretls, "REQUIRETLS")?;
        }
        if envelope.uses_dsn() {
            require(caps.dsn, "DSN")?;
        }
        if params.auth.is_some() {
            require(caps.auth.is_some(), "AUTH")?;
        }
        let unknown = !params.unknown.is_empty()
            || envelope
                .recipients
                .iter()
                .any(|r| !r.params.unknown.is_empty());
        if unknown {
            require(self.esmtp, "EHLO")?;
        }
        let transfer = if chunking {
            Transfer::Bdat
        } else {
            Transfer::Data
        };
        Ok((params, transfer))
    }
}
