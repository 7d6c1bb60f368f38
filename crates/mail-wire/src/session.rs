//! The session contract: what every sans-IO protocol state machine of sansmail offers its
//! driver, on both sides of every protocol.
//!
//! An SMTP server, an SMTP client and (as they land) the POP3 and IMAP machines all implement
//! [`Session`]. A driver (the tokio one in `mail-tokio`, an in-memory test pair, a fuzz target,
//! your own event loop) can then run any of them with the same loop:
//!
//! ```text
//!            ┌────────── feed / feed_buf / handle_eof ◀── bytes read from the peer
//!  Session ──┼──▶ poll_transmit (_marked) ──▶ bytes to write to the peer
//!            ├──▶ poll_event ──▶ application (decisions go back through the machine's own API)
//!            └──▶ poll_timeout ──▶ timer ──▶ handle_timeout(now)
//! ```
//!
//! Time is an argument: the machine never reads a clock. It never fails on peer input either:
//! what the peer does wrong comes out as events and protocol replies, and the session ends
//! with an [`Ending`]. `Err` from a method of the trait means the *caller* misused the API.
//!
//! # Driving a session
//!
//! ```
//! use std::time::Instant;
//! use bytes::Bytes;
//! use mail_wire::session::{EventKind, Session};
//!
//! /// Runs `session` over a scripted peer: each read is handed over in turn, and everything
//! /// the session writes is collected. Returns how the session ended.
//! fn drive<S: Session>(mut session: S, reads: &[&[u8]], mut on_event: impl FnMut(&mut S, S::Event))
//!     -> (Vec<u8>, Option<Result<(), S::Error>>)
//! {
//!     let mut written = Vec::new();
//!     let mut reads = reads.iter();
//!     let now = Instant::now();
//!     loop {
//!         while let Some(bytes) = session.poll_transmit() {
//!             written.extend_from_slice(&bytes);
//!         }
//!         while let Some(event) = session.poll_event() {
//!             if let EventKind::Closed(ending) = S::classify(&event) {
//!                 let ending = ending.clone();
//!                 while let Some(bytes) = session.poll_transmit() {
//!                     written.extend_from_slice(&bytes);
//!                 }
//!                 return (written, Some(ending));
//!             }
//!             on_event(&mut session, event);
//!         }
//!         if session.is_closed() {
//!             return (written, None);
//!         }
//!         match reads.next() {
//!             Some(read) => session.feed(now, read),
//!             None => session.handle_eof(),
//!         }
//!     }
//! }
//! # // A minimal session, so that the loop above runs: it echoes each read and ends on EOF.
//! # #[derive(Debug, Default)]
//! # struct Echo { out: Vec<Bytes>, events: Vec<Result<(), std::fmt::Error>>, closed: bool }
//! # impl Session for Echo {
//! #     type Event = Result<(), std::fmt::Error>;
//! #     type Error = std::fmt::Error;
//! #     type Misuse = std::fmt::Error;
//! #     fn feed(&mut self, _: Instant, bytes: &[u8]) { self.out.push(Bytes::copy_from_slice(bytes)) }
//! #     fn handle_eof(&mut self) { self.closed = true; self.events.push(Ok(())) }
//! #     fn poll_transmit(&mut self) -> Option<Bytes> { self.out.pop() }
//! #     fn poll_event(&mut self) -> Option<Self::Event> { self.events.pop() }
//! #     fn poll_timeout(&self) -> Option<Instant> { None }
//! #     fn handle_timeout(&mut self, _: Instant) {}
//! #     fn wants_input(&self) -> bool { !self.closed }
//! #     fn is_tls(&self) -> bool { false }
//! #     fn tls_established(&mut self, _: Instant) -> Result<(), std::fmt::Error> { Err(std::fmt::Error) }
//! #     fn is_closed(&self) -> bool { self.closed }
//! #     fn classify(event: &Self::Event) -> EventKind<'_, std::fmt::Error> { EventKind::Closed(event) }
//! # }
//! # let (written, ending) = drive(Echo::default(), &[b"hello\r\n"], |_, _| {});
//! # assert_eq!(written, b"hello\r\n");
//! # assert_eq!(ending, Some(Ok(())));
//! ```

use std::time::Instant;

use bytes::{Bytes, BytesMut};

/// How a session ended, the same shape on both sides of every protocol: `Ok(())` when the
/// protocol's own ending ran its course (SMTP `QUIT` answered by `221`, POP3 `QUIT`, IMAP
/// `LOGOUT`), `Err` with the protocol's reason otherwise (the peer closed the stream, a
/// deadline passed, a limit was breached, a policy forbade going on, the application shut the
/// session down).
pub type Ending<E> = Result<(), E>;

/// What a driver needs to know of an event: most are for the application alone, two change
/// what the driver does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind<'a, E> {
    /// The STARTTLS (STLS) hand-off: write everything [`Session::poll_transmit`] returns,
    /// read nothing more, do the TLS handshake, then call [`Session::tls_established`].
    StartTls,
    /// The session is over: write what remains in [`Session::poll_transmit`] and close the
    /// connection.
    Closed(&'a Ending<E>),
    /// Anything else: hand it to the application.
    Other,
}

/// One piece of output from [`Session::poll_transmit_marked`]: the bytes to write, and
/// whether they may be shown.
///
/// Both kinds go on the wire the same way, in order; the mark is for whatever watches the
/// wire (a trace, a transcript) and never changes what is written.
#[derive(Clone, PartialEq, Eq)]
pub enum Transmit {
    /// Commands, replies, message data: fine to show (to whoever may see the mail).
    Plain(Bytes),
    /// Credentials: a SASL response, or the initial response of an AUTH (AUTHENTICATE)
    /// command, through the end of its line. Never show, log or keep these bytes; a trace
    /// shows at most that a secret of so many octets went out.
    Secret(Bytes),
}

impl Transmit {
    /// The bytes to write, whatever their mark.
    pub fn bytes(&self) -> &Bytes {
        match self {
            Transmit::Plain(bytes) | Transmit::Secret(bytes) => bytes,
        }
    }

    /// The bytes to write, whatever their mark.
    pub fn into_bytes(self) -> Bytes {
        match self {
            Transmit::Plain(bytes) | Transmit::Secret(bytes) => bytes,
        }
    }

    /// Whether these bytes carry credentials.
    pub fn is_secret(&self) -> bool {
        matches!(self, Transmit::Secret(_))
    }
}

impl std::fmt::Debug for Transmit {
    // A secret's bytes are never printed, not even by `{:?}` (docs/design.md section 3.6).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transmit::Plain(bytes) => f.debug_tuple("Plain").field(bytes).finish(),
            Transmit::Secret(bytes) => write!(f, "Secret(<{} octets>)", bytes.len()),
        }
    }
}

/// The sans-IO driver contract every protocol state machine implements.
///
/// The inherent methods of each machine carry the same names and meanings; the trait lets one
/// driver run them all. See the [module docs](self) for the loop.
pub trait Session {
    /// What the machine reports to the application.
    type Event;
    /// Why a session ended other than by the protocol's own ending (see [`Ending`]).
    type Error: std::error::Error + Clone + Send + Sync + 'static;
    /// API misuse: a call that does not fit the session's state. The peer cannot cause it.
    type Misuse: std::error::Error + Send + Sync + 'static;

    /// Takes bytes read from the peer. Never fails: peer misbehaviour comes out as events
    /// and protocol replies. Input the machine cannot take yet is buffered, up to a limit
    /// past which the session closes.
    fn feed(&mut self, now: Instant, bytes: &[u8]);

    /// Takes the bytes in a read buffer, leaving `buf` empty for the next read. Machines that
    /// can split message bodies off the buffer without copying override it; the default
    /// copies through [`Session::feed`].
    fn feed_buf(&mut self, now: Instant, buf: &mut BytesMut) {
        self.feed(now, buf);
        buf.clear();
    }

    /// The peer closed its side of the connection (end of stream). The session need not end
    /// at once: a machine that still holds complete input the peer sent before closing (a
    /// pipelined `QUIT`, a whole message) may answer it first, since the peer can still read
    /// the answers. It ends once that input is used up, through [`Session::poll_event`].
    /// A driver calls this once, and reads nothing more afterwards.
    fn handle_eof(&mut self);

    /// The connection broke (a reset, a failed or timed-out write): nothing more can be read
    /// or written, so the session ends at once, answering nothing it still holds. The
    /// default is [`Session::handle_eof`], right for machines that end at once on it.
    fn handle_connection_lost(&mut self) {
        self.handle_eof();
    }

    /// Bytes to write to the peer, in order, if any.
    #[must_use = "bytes the session queued must be written to the peer"]
    fn poll_transmit(&mut self) -> Option<Bytes>;

    /// Bytes to write to the peer, in order, if any, marked [`Transmit::Secret`] when they
    /// carry credentials; the same queue as [`Session::poll_transmit`], which drops the mark.
    ///
    /// A driver that shows what it writes (a trace, a transcript, a debug log) calls this
    /// one and never shows a secret piece. Only the machine knows which of its output is a
    /// SASL response; a trace that guessed it from the peer's replies could be made to show
    /// one, by a peer that sends a challenge before the response it calls for is written.
    ///
    /// The default marks nothing secret: a machine that never sends credentials (a server)
    /// keeps it. A machine that does (a client) overrides it and queues each secret as a
    /// piece of its own, so that what surrounds it (`AUTH PLAIN ` before an initial
    /// response) stays visible.
    #[must_use = "bytes the session queued must be written to the peer"]
    fn poll_transmit_marked(&mut self) -> Option<Transmit> {
        self.poll_transmit().map(Transmit::Plain)
    }

    /// The next event, in order.
    #[must_use = "events carry decisions the application must answer"]
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// When [`Session::handle_timeout`] should next be called, if a deadline is running.
    #[must_use = "a session whose deadline is never checked cannot time out"]
    fn poll_timeout(&self) -> Option<Instant>;

    /// Tells the machine the time; a deadline that has passed ends the session (or moves it
    /// on, where the protocol says so).
    fn handle_timeout(&mut self, now: Instant);

    /// Whether the machine will process input now. `false` while it waits for the
    /// application (a pending decision), during a TLS hand-off, and once closed; a driver
    /// may still read then, but only to notice the peer closing.
    fn wants_input(&self) -> bool;

    /// Whether the connection is protected by TLS (implicit, or after STARTTLS).
    fn is_tls(&self) -> bool;

    /// The driver finished the TLS handshake after [`EventKind::StartTls`]. Everything
    /// learned before TLS is forgotten, as the protocols require.
    ///
    /// # Errors
    ///
    /// The machine's misuse error when no hand-off was pending or the session is over.
    fn tls_established(&mut self, now: Instant) -> Result<(), Self::Misuse>;

    /// Whether the session is over (the closing event was queued).
    fn is_closed(&self) -> bool;

    /// Says what a driver has to do about `event`.
    fn classify(event: &Self::Event) -> EventKind<'_, Self::Error>;
}

/// Implements [`Session`] for a state machine whose inherent methods already carry the
/// trait's names and meanings, as every machine of sansmail does (docs/design.md section
/// 2.2): each trait method forwards to the inherent method of the same name, so a protocol
/// crate writes only what differs between machines. What each method means is documented
/// once, on [`Session`].
///
/// The machine names its three associated types, the variant of its event that is the
/// STARTTLS (STLS) hand-off (a unit variant), and the variant that closes the session (a
/// tuple variant holding the [`Ending`]); [`Session::classify`] maps those two and calls
/// everything else [`EventKind::Other`]. The methods the trait provides
/// ([`Session::feed_buf`], [`Session::handle_connection_lost`],
/// [`Session::poll_transmit_marked`]) keep their defaults unless listed in `also`, in which
/// case they forward too.
///
/// The forwarding calls resolve to the inherent methods, which take precedence over the
/// trait's. A machine that lacks one would make the trait method call itself; rustc's
/// `unconditional_recursion` lint reports that.
///
/// ```
/// use std::time::Instant;
/// use bytes::{Bytes, BytesMut};
/// use mail_wire::session::{EventKind, Session};
///
/// #[derive(Debug, Clone, PartialEq, thiserror::Error)]
/// #[error("the peer went away")]
/// pub struct Gone;
///
/// #[derive(Debug, PartialEq)]
/// pub enum Event {
///     Line(Bytes),
///     StartTls,
///     Closed(Result<(), Gone>),
/// }
///
/// /// A toy machine: reports each read as a line, and counts what `feed_buf` took.
/// #[derive(Default)]
/// pub struct Echo { events: Vec<Event>, taken: usize, closed: bool }
///
/// impl Echo {
///     pub fn feed(&mut self, _now: Instant, bytes: &[u8]) {
///         self.events.push(Event::Line(Bytes::copy_from_slice(bytes)));
///     }
///     pub fn feed_buf(&mut self, _now: Instant, buf: &mut BytesMut) {
///         self.taken += buf.len();
///         self.events.push(Event::Line(buf.split().freeze()));
///     }
///     pub fn handle_eof(&mut self) {
///         self.closed = true;
///         self.events.push(Event::Closed(Err(Gone)));
///     }
///     pub fn poll_transmit(&mut self) -> Option<Bytes> { None }
///     pub fn poll_event(&mut self) -> Option<Event> {
///         (!self.events.is_empty()).then(|| self.events.remove(0))
///     }
///     pub fn poll_timeout(&self) -> Option<Instant> { None }
///     pub fn handle_timeout(&mut self, _now: Instant) {}
///     pub fn wants_input(&self) -> bool { !self.closed }
///     pub fn is_tls(&self) -> bool { false }
///     pub fn tls_established(&mut self, _now: Instant) -> Result<(), std::fmt::Error> {
///         Err(std::fmt::Error)
///     }
///     pub fn is_closed(&self) -> bool { self.closed }
/// }
///
/// mail_wire::delegate_session!(Echo {
///     Event = Event,
///     Error = Gone,
///     Misuse = std::fmt::Error,
///     StartTls = Event::StartTls,
///     Closed = Event::Closed,
///     also = [feed_buf],
/// });
///
/// let now = Instant::now();
/// let mut echo = Echo::default();
/// let mut buf = BytesMut::from(&b"hello\r\n"[..]);
/// Session::feed_buf(&mut echo, now, &mut buf); // the inherent method, through the trait
/// assert_eq!((echo.taken, buf.len()), (7, 0));
/// Session::handle_eof(&mut echo);
/// let line = Session::poll_event(&mut echo).unwrap();
/// assert_eq!(Echo::classify(&line), EventKind::Other);
/// let closed = Session::poll_event(&mut echo).unwrap();
/// assert_eq!(Echo::classify(&closed), EventKind::Closed(&Err(Gone)));
/// assert_eq!(Echo::classify(&Event::StartTls), EventKind::StartTls);
/// assert!(Session::is_closed(&echo) && !Session::wants_input(&echo));
/// ```
///
/// A method in `also` that the trait does not provide is refused when it is compiled:
///
/// ```compile_fail
/// # use std::time::Instant;
/// # use bytes::Bytes;
/// # pub struct M;
/// # impl M {
/// #     pub fn feed(&mut self, _: Instant, _: &[u8]) {}
/// #     pub fn handle_eof(&mut self) {}
/// #     pub fn poll_transmit(&mut self) -> Option<Bytes> { None }
/// #     pub fn poll_event(&mut self) -> Option<Option<Result<(), std::fmt::Error>>> { None }
/// #     pub fn poll_timeout(&self) -> Option<Instant> { None }
/// #     pub fn handle_timeout(&mut self, _: Instant) {}
/// #     pub fn wants_input(&self) -> bool { true }
/// #     pub fn is_tls(&self) -> bool { false }
/// #     pub fn tls_established(&mut self, _: Instant) -> Result<(), std::fmt::Error> { Ok(()) }
/// #     pub fn is_closed(&self) -> bool { false }
/// # }
/// mail_wire::delegate_session!(M {
///     Event = Option<Result<(), std::fmt::Error>>,
///     Error = std::fmt::Error,
///     Misuse = std::fmt::Error,
///     StartTls = None,
///     Closed = Some,
///     also = [poll_event], // not a provided method: a compile error
/// });
/// ```
#[macro_export]
macro_rules! delegate_session {
    (
        $machine:ty {
            Event = $event:ty,
            Error = $error:ty,
            Misuse = $misuse:ty,
            StartTls = $start_tls:pat,
            Closed = $closed:path,
            $(also = [$($also:ident),* $(,)?],)?
        }
    ) => {
        impl $crate::session::Session for $machine {
            type Event = $event;
            type Error = $error;
            type Misuse = $misuse;

            fn feed(&mut self, now: ::std::time::Instant, bytes: &[u8]) {
                <$machine>::feed(self, now, bytes);
            }

            fn handle_eof(&mut self) {
                <$machine>::handle_eof(self);
            }

            fn poll_transmit(
                &mut self,
            ) -> ::core::option::Option<$crate::session::__private::Bytes> {
                <$machine>::poll_transmit(self)
            }

            fn poll_event(&mut self) -> ::core::option::Option<$event> {
                <$machine>::poll_event(self)
            }

            fn poll_timeout(&self) -> ::core::option::Option<::std::time::Instant> {
                <$machine>::poll_timeout(self)
            }

            fn handle_timeout(&mut self, now: ::std::time::Instant) {
                <$machine>::handle_timeout(self, now);
            }

            fn wants_input(&self) -> bool {
                <$machine>::wants_input(self)
            }

            fn is_tls(&self) -> bool {
                <$machine>::is_tls(self)
            }

            fn tls_established(
                &mut self,
                now: ::std::time::Instant,
            ) -> ::core::result::Result<(), $misuse> {
                <$machine>::tls_established(self, now)
            }

            fn is_closed(&self) -> bool {
                <$machine>::is_closed(self)
            }

            fn classify(event: &$event) -> $crate::session::EventKind<'_, $error> {
                match event {
                    $start_tls => $crate::session::EventKind::StartTls,
                    $closed(ending) => $crate::session::EventKind::Closed(ending),
                    #[allow(unreachable_patterns)]
                    _ => $crate::session::EventKind::Other,
                }
            }

            $($($crate::delegate_session!(@provided $machine, $also);)*)?
        }
    };
    (@provided $machine:ty, feed_buf) => {
        fn feed_buf(
            &mut self,
            now: ::std::time::Instant,
            buf: &mut $crate::session::__private::BytesMut,
        ) {
            <$machine>::feed_buf(self, now, buf);
        }
    };
    (@provided $machine:ty, handle_connection_lost) => {
        fn handle_connection_lost(&mut self) {
            <$machine>::handle_connection_lost(self);
        }
    };
    (@provided $machine:ty, poll_transmit_marked) => {
        fn poll_transmit_marked(
            &mut self,
        ) -> ::core::option::Option<$crate::session::Transmit> {
            <$machine>::poll_transmit_marked(self)
        }
    };
    (@provided $machine:ty, $other:ident) => {
        ::core::compile_error!(concat!(
            "delegate_session!: `also` lists the methods Session provides (feed_buf, \
             handle_connection_lost, poll_transmit_marked), not `",
            stringify!($other),
            "`"
        ));
    };
}

/// What [`delegate_session!`](crate::delegate_session) names in the code it writes; not
/// part of the API.
#[doc(hidden)]
pub mod __private {
    pub use bytes::{Bytes, BytesMut};
}
