"""A remote MX for the outbound-delivery tests (examples/tests/outbound_*.rs): Python's
aiosmtpd, a server none of us wrote, configured from the command line.

    python3 outbound_peer.py --outdir DIR [--bind IP]... [--tls none|starttls|broken|implicit]
        [--cert PEM --key PEM] [--require-starttls] [--user NAME:PASSWORD]
        [--reject ADDRESS]... [--defer ADDRESS]... [--reject-data] [--pipelining]
        [--smtputf8] [--delay-data SECONDS] [--timeout SECONDS]
        [--rcptmax N]

It listens on every --bind address (default 127.0.0.1) on one free port, the same for all,
and prints `PORT n` once it accepts connections. `--tls broken` offers STARTTLS with a TLS
configuration no modern client can agree with (TLS 1.2 with RSA key exchange only), so the
handshake fails; `--tls implicit` speaks TLS from the first byte (port 465 style).
`--rcptmax N` announces `LIMITS RCPTMAX=N` (RFC 9422) without enforcing it.

What it saw goes to DIR:
- `N.env` and `N.body` for each message it took (before its `250`): `from`, `to`, `option`
  (MAIL parameters), `tls 0|1`, `login NAME`, `peer IP:PORT` (the client's end of the TCP
  connection, the same for every message of one connection), `server IP` (the address the
  client connected to), `helo NAME`;
- `events`: one line per connection opened (`open PEER`), QUIT (`quit PEER`) and connection
  closed (`close PEER`);
- `max-active`: the most transactions (MAIL to the end of DATA) in progress at once.
It exits when its standard input closes, so it never outlives the test that started it.
"""

import argparse
import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, args):
        self.outdir = args.outdir
        self.reject = {a.lower() for a in args.reject}
        self.defer = {a.lower() for a in args.defer}
        self.reject_data = args.reject_data
        self.pipelining = args.pipelining
        self.delay = args.delay_data
        self.rcptmax = args.rcptmax
        self.count = 0
        self.active = 0
        self.max_active = 0

    def event(self, line):
        with open(os.path.join(self.outdir, "events"), "a") as f:
            f.write(line + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        if self.rcptmax:
            responses.insert(1, "250-LIMITS RCPTMAX=%d" % self.rcptmax)
        return responses

    async def handle_QUIT(self, server, session, envelope):
        self.event("quit %s:%d" % session.peer[:2])
        return "221 2.0.0 Bye"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        with open(os.path.join(self.outdir, "max-active"), "w") as f:
            f.write("%d\n" % self.max_active)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        if address.lower() in self.defer:
            return "450 4.2.1 <%s>: Mailbox busy, try later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_RSET(self, server, session, envelope):
        if envelope.mail_from is not None:
            self.active -= 1
        return "250 2.0.0 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        self.active -= 1
        if self.reject_data:
            return "554 5.7.1 Message content rejected"
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        login = session.auth_data if session.authenticated else None
        lines = ["from " + envelope.mail_from]
        lines += ["to " + address for address in envelope.rcpt_tos]
        lines += ["option " + option for option in envelope.mail_options]
        # session.ssl is only set by STARTTLS; with implicit TLS ask the transport.
        tls = session.ssl is not None or (
            server.transport is not None
            and server.transport.get_extra_info("ssl_object") is not None
        )
        lines.append("tls %d" % tls)
        if login is not None:
            lines.append("login " + login)
        lines.append("helo %s" % session.host_name)
        lines.append("peer %s:%d" % session.peer[:2])
        sock = server.transport.get_extra_info("sockname") if server.transport else None
        if sock:
            lines.append("server " + sock[0])
        with open(base + ".body.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".body.tmp", base + ".body")
        with open(base + ".env.tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(base + ".env.tmp", base + ".env")
        return "250 2.0.0 OK: queued as %d" % self.count


def authenticator(users):
    def check(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        if users.get(login) == password:
            return AuthResult(success=True, auth_data=login)
        return AuthResult(success=False, handled=False)

    return check


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--bind", action="append", default=[])
    parser.add_argument(
        "--tls", choices=["none", "starttls", "broken", "implicit"], default="none"
    )
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--user", action="append", default=[])
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--reject-data", action="store_true")
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--smtputf8", action="store_true")
    parser.add_argument("--delay-data", type=float, default=0)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--rcptmax", type=int, default=0)
    args = parser.parse_args()
    binds = args.bind or ["127.0.0.1"]

    context = None
    if args.tls != "none":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
    if args.tls == "broken":
        # RSA key exchange only: rustls (and every current client) refuses it.
        context.maximum_version = ssl.TLSVersion.TLSv1_2
        context.set_ciphers("AES256-SHA256:AES128-SHA")

    handler = Handler(args)

    class Recording(SMTP):
        def connection_made(self, transport):
            first = getattr(self, "_original_transport", None) is None
            super().connection_made(transport)
            if first:
                handler.event("open %s:%d" % self.session.peer[:2])

        def connection_lost(self, error):
            if self.session is not None:
                handler.event("close %s:%d" % self.session.peer[:2])
            super().connection_lost(error)

    kwargs = {
        "hostname": "mx.outbound.test",
        "timeout": args.timeout,
        "enable_SMTPUTF8": args.smtputf8,
    }
    if context is not None and args.tls != "implicit":
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = args.require_starttls
    if args.tls == "implicit":
        # aiosmtpd counts only STARTTLS as TLS for AUTH; the connection is TLS from the start.
        kwargs["auth_require_tls"] = False
    if args.user:
        users = dict(user.split(":", 1) for user in args.user)
        kwargs["authenticator"] = authenticator(users)
        kwargs["auth_required"] = True

    async def serve():
        loop = asyncio.get_running_loop()
        servers = []
        port = 0
        for address in binds:
            server = await loop.create_server(
                lambda: Recording(handler, loop=loop, **kwargs),
                address,
                port,
                ssl=context if args.tls == "implicit" else None,
            )
            port = server.sockets[0].getsockname()[1]
            servers.append(server)
        print("PORT", port, flush=True)
        await loop.run_in_executor(None, sys.stdin.read)
        for server in servers:
            server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
