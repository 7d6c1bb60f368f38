"""A remote mail exchanger for the outbound-queue tests (examples/tests/queue_relay.rs):
Python's aiosmtpd, a server none of us wrote, with the failures the tests need.

    python3 queue_mx.py --outdir DIR [--port N] [--tempfail N] [--reject ADDRESS]...

It listens on 127.0.0.1 (on --port, or a free port) and prints `PORT n` once it accepts
connections. The first --tempfail RCPT commands are answered `451 4.3.0`; a recipient named by
--reject gets `550 5.1.1`. Each message it takes is written to DIR as `N.env` (`from ...`, one
`to ...` per recipient, one `option ...` per MAIL parameter) and `N.body` (the content,
dot-unstuffed, byte for byte), before its `250`. It exits when its standard input closes.
"""

import argparse
import asyncio
import os
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, outdir, tempfail, reject):
        self.outdir = outdir
        self.tempfail = tempfail
        self.reject = {address.lower() for address in reject}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.tempfail > 0:
            self.tempfail -= 1
            return "451 4.3.0 <%s>: try again later" % address
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        lines = ["from " + envelope.mail_from]
        lines += ["to " + address for address in envelope.rcpt_tos]
        lines += ["option " + option for option in envelope.mail_options]
        with open(base + ".body.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".body.tmp", base + ".body")
        with open(base + ".env.tmp", "w") as f:
            f.write("\n".join(lines) + "\n")
        os.rename(base + ".env.tmp", base + ".env")
        return "250 2.0.0 OK: queued as %d" % self.count


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--outdir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tempfail", type=int, default=0)
    parser.add_argument("--reject", action="append", default=[])
    args = parser.parse_args()
    handler = Handler(args.outdir, args.tempfail, args.reject)

    async def serve():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="mx.aiosmtpd.test", enable_SMTPUTF8=True,
                         decode_data=False, timeout=30),
            host="127.0.0.1",
            port=args.port,
        )
        port = server.sockets[0].getsockname()[1]
        print("PORT %d" % port, flush=True)
        # Stop when the test closes our standard input.
        await loop.run_in_executor(None, sys.stdin.read)
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
