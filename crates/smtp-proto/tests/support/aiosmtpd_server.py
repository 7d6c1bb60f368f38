"""An aiosmtpd server for the client interop tests (tests/interop/client.rs and the smtp-send
example's tests): a server none of us wrote, configured from the command line.

    python3 aiosmtpd_server.py --outdir DIR [--tls starttls|implicit --cert PEM --key PEM]
        [--require-starttls] [--user NAME:PASSWORD] [--auth-plaintext] [--size N]
        [--reject ADDRESS]... [--pipelining]

It listens on 127.0.0.1 on a free port and prints `PORT n` once it accepts connections. Each
message it takes is written to DIR as `N.env` (envelope and session facts, one `key value`
per line) and `N.body` (the content, dot-unstuffed by aiosmtpd, byte for byte), before the
`250` reply goes out.
It exits when its standard input closes, so it never outlives the test that started it.
"""

import argparse
import asyncio
import os
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir, reject, pipelining):
        self.outdir = outdir
        self.reject = {address.lower() for address in reject}
        self.pipelining = pipelining
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        # aiosmtpd does not advertise PIPELINING, although it reads commands from a buffered
        # stream and answers them in order; --pipelining adds the keyword.
        session.host_name = hostname
        if self.pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        # The authenticator below stores the login name as auth_data.
        login = session.auth_data if session.authenticated else None
        # One fact per line, `key value`, so the tests need no JSON parser.
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
    parser.add_argument("--tls", choices=["none", "starttls", "implicit"], default="none")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--require-starttls", action="store_true")
    parser.add_argument("--user", action="append", default=[])
    # aiosmtpd offers AUTH only after STARTTLS unless auth_require_tls is off; it does not
    # count implicit TLS, so implicit-TLS tests need this too.
    parser.add_argument("--auth-plaintext", action="store_true")
    parser.add_argument("--size", type=int, default=None)
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--pipelining", action="store_true")
    args = parser.parse_args()

    context = None
    if args.tls != "none":
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)

    handler = Handler(args.outdir, args.reject, args.pipelining)
    kwargs = {
        "hostname": "aiosmtpd.test",
        "auth_require_tls": not args.auth_plaintext,
        "timeout": 30,
    }
    if args.size is not None:
        kwargs["data_size_limit"] = args.size
    if args.tls == "starttls":
        kwargs["tls_context"] = context
        kwargs["require_starttls"] = args.require_starttls
    if args.user:
        users = dict(user.split(":", 1) for user in args.user)
        kwargs["authenticator"] = authenticator(users)
        # Users are configured: the tests expect AUTH to matter.
        kwargs["auth_required"] = True

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, loop=loop, **kwargs),
            "127.0.0.1",
            0,
            ssl=context if args.tls == "implicit" else None,
        )
        port = server.sockets[0].getsockname()[1]
        print("PORT", port, flush=True)
        # Exit when the test closes our stdin (or dies).
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
