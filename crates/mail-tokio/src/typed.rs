//! [`typed_connection!`](crate::typed_connection): the part of a protocol crate's typed
//! wrapper over [`Connection`](crate::Connection) that is the same for every protocol.

/// Declares a protocol crate's typed connection, a newtype over
/// [`Connection`](crate::Connection) for one machine, with the methods every such wrapper
/// forwards unchanged; the protocol crate adds its constructor and what only its protocol
/// knows in an `impl` block of its own.
///
/// The wrapper's docs and each method's docs are written at the invocation, since they speak
/// of the protocol (STARTTLS or STLS, what a trace of this side shows). The methods, each
/// named by one line, and what they forward to:
///
/// | line | method | forwards to |
/// |---|---|---|
/// | `with_write_timeout;` | `fn with_write_timeout(self, timeout: Duration) -> Self` | [`Connection::with_write_timeout`](crate::Connection::with_write_timeout) (`Some(timeout)`) |
/// | `with_starttls = accept;` | `fn with_starttls(self, config: Arc<rustls::ServerConfig>, options: HandshakeOptions) -> Self` | [`Connection::with_starttls_accept`](crate::Connection::with_starttls_accept) |
/// | `with_starttls = connect;` | `fn with_starttls(self, config: Arc<rustls::ClientConfig>, server_name: ServerName<'static>, options: HandshakeOptions) -> Self` | [`Connection::with_starttls_connect`](crate::Connection::with_starttls_connect) |
/// | `with_trace;` | `fn with_trace(self, trace: impl FnMut(Traffic, &[u8]) + Send + 'static) -> Self` | [`Connection::with_trace`](crate::Connection::with_trace) |
/// | `session = NAME;` | `fn NAME(&mut self) -> &mut Machine` | [`Connection::session_mut`](crate::Connection::session_mut) |
/// | `tls_info;` | `fn tls_info(&self) -> Option<&SessionInfo>` | [`Connection::tls_info`](crate::Connection::tls_info) |
/// | `next_event -> EVENT;` | `async fn next_event(&mut self) -> io::Result<Option<EVENT>>` | [`Connection::next_event`](crate::Connection::next_event) |
/// | `flush;` | `async fn flush(&mut self) -> io::Result<()>` | [`Connection::flush`](crate::Connection::flush) |
///
/// The wrapper's `Debug` is the connection's, which shows no buffer: unwritten output and
/// unread input can carry credentials (docs/design.md section 3).
///
/// ```
/// # use std::time::Instant;
/// # use bytes::Bytes;
/// # #[derive(Debug, Clone, PartialEq)]
/// # pub struct Gone;
/// # impl std::fmt::Display for Gone {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("gone") }
/// # }
/// # impl std::error::Error for Gone {}
/// # #[derive(Debug, PartialEq)]
/// # pub enum Event { StartTls, Closed(Result<(), Gone>) }
/// # #[derive(Debug, Default)]
/// # pub struct Machine { closed: bool }
/// # impl Machine {
/// #     pub fn feed(&mut self, _: Instant, _: &[u8]) {}
/// #     pub fn handle_eof(&mut self) { self.closed = true }
/// #     pub fn poll_transmit(&mut self) -> Option<Bytes> { None }
/// #     pub fn poll_event(&mut self) -> Option<Event> {
/// #         std::mem::take(&mut self.closed).then_some(Event::Closed(Err(Gone)))
/// #     }
/// #     pub fn poll_timeout(&self) -> Option<Instant> { None }
/// #     pub fn handle_timeout(&mut self, _: Instant) {}
/// #     pub fn wants_input(&self) -> bool { true }
/// #     pub fn is_tls(&self) -> bool { false }
/// #     pub fn tls_established(&mut self, _: Instant) -> Result<(), Gone> { Err(Gone) }
/// #     pub fn is_closed(&self) -> bool { false }
/// # }
/// # mail_wire::delegate_session!(Machine {
/// #     Event = Event, Error = Gone, Misuse = Gone,
/// #     StartTls = Event::StartTls, Closed = Event::Closed,
/// # });
/// use mail_tokio::Connection;
///
/// mail_tokio::typed_connection! {
///     /// One session of the toy protocol over a tokio stream.
///     pub struct ToyConnection(Machine);
///
///     /// Calls `trace` with every piece of output and input.
///     with_trace;
///     /// The state machine, to answer decisions.
///     session = machine;
///     /// The next event; `Ok(None)` once the session is over.
///     next_event -> Event;
/// }
///
/// impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> ToyConnection<S> {
///     /// Drives `machine` over `stream`.
///     pub fn new(stream: S, machine: Machine) -> Self {
///         ToyConnection(Connection::new(stream, machine))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let (stream, _peer) = tokio::io::duplex(64);
/// let mut conn = ToyConnection::new(stream, Machine::default()).with_trace(|_, _| {});
/// conn.machine().handle_eof();
/// assert_eq!(conn.next_event().await?, Some(Event::Closed(Err(Gone))));
/// assert_eq!(conn.next_event().await?, None);
/// assert!(format!("{conn:?}").starts_with("ToyConnection(Connection"));
/// # Ok(())
/// # }
/// ```
#[macro_export]
macro_rules! typed_connection {
    (
        $(#[$attr:meta])*
        $vis:vis struct $name:ident($machine:ty);
        $($methods:tt)*
    ) => {
        $(#[$attr])*
        $vis struct $name<S>($crate::Connection<$machine, S>);

        impl<S> ::core::fmt::Debug for $name<S> {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_tuple(::core::stringify!($name)).field(&self.0).finish()
            }
        }

        impl<S> $name<S>
        where
            S: $crate::__private::AsyncRead + $crate::__private::AsyncWrite + ::core::marker::Unpin,
        {
            $crate::typed_connection!(@methods $machine; $($methods)*);
        }
    };
    (@methods $machine:ty;) => {};
    (@methods $machine:ty; $(#[$attr:meta])* with_write_timeout; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn with_write_timeout(self, timeout: ::std::time::Duration) -> Self {
            Self(self.0.with_write_timeout(::core::option::Option::Some(timeout)))
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
    (@methods $machine:ty; $(#[$attr:meta])* with_starttls = accept; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn with_starttls(
            self,
            config: ::std::sync::Arc<$crate::tls::rustls::ServerConfig>,
            options: $crate::tls::tokio::HandshakeOptions,
        ) -> Self {
            Self(self.0.with_starttls_accept(config, options))
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
    (@methods $machine:ty; $(#[$attr:meta])* with_starttls = connect; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn with_starttls(
            self,
            config: ::std::sync::Arc<$crate::tls::rustls::ClientConfig>,
            server_name: $crate::tls::pki_types::ServerName<'static>,
            options: $crate::tls::tokio::HandshakeOptions,
        ) -> Self {
            Self(self.0.with_starttls_connect(config, server_name, options))
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
    (@methods $machine:ty; $(#[$attr:meta])* with_trace; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn with_trace(
            self,
            trace: impl ::core::ops::FnMut($crate::Traffic, &[u8]) + ::core::marker::Send + 'static,
        ) -> Self {
            Self(self.0.with_trace(trace))
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
    (@methods $machine:ty; $(#[$attr:meta])* session = $accessor:ident; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn $accessor(&mut self) -> &mut $machine {
            self.0.session_mut()
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
    (@methods $machine:ty; $(#[$attr:meta])* tls_info; $($rest:tt)*) => {
        $(#[$attr])*
        pub fn tls_info(&self) -> ::core::option::Option<&$crate::tls::SessionInfo> {
            self.0.tls_info()
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
    (@methods $machine:ty; $(#[$attr:meta])* next_event -> $event:ty; $($rest:tt)*) => {
        $(#[$attr])*
        pub async fn next_event(
            &mut self,
        ) -> ::std::io::Result<::core::option::Option<$event>> {
            self.0.next_event().await
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
    (@methods $machine:ty; $(#[$attr:meta])* flush; $($rest:tt)*) => {
        $(#[$attr])*
        pub async fn flush(&mut self) -> ::std::io::Result<()> {
            self.0.flush().await
        }
        $crate::typed_connection!(@methods $machine; $($rest)*);
    };
}
