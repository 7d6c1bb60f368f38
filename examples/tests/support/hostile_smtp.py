"""A hostile SMTP server for the smtp-send tests: one connection on 127.0.0.1, an ephemeral
port printed as `PORT n`, then a scripted attack. When the client closes, everything it sent
after the attack is printed as `AFTER <hex>` (empty hex: nothing).

Modes:
  auth-push      STARTTLS, then answers the second EHLO with an AUTH LOGIN offer and both
                 LOGIN challenges in one write, before the client sent AUTH.
  greeting       a 554 greeting carrying terminal escape codes.
  final-reply    a whole transaction whose final reply carries cursor movement and a fake
                 `250 queued`.
"""

import argparse
import socket
import ssl
import sys


def read_line(conn):
    line = b""
    while not line.endswith(b"\n"):
        byte = conn.recv(1)
        if not byte:
            raise EOFError
        line += byte
    return line


def read_rest(conn):
    data = b""
    conn.settimeout(20)
    try:
        while True:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError):
        pass
    return data


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    print("PORT", listener.getsockname()[1], flush=True)
    listener.settimeout(30)
    conn, _ = listener.accept()
    conn.settimeout(20)
    if args.mode == "auth-push":
        conn.sendall(b"220 evil.test ESMTP\r\n")
        read_line(conn)  # EHLO
        conn.sendall(b"250-evil.test\r\n250 STARTTLS\r\n")
        read_line(conn)  # STARTTLS
        conn.sendall(b"220 go ahead\r\n")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        conn = context.wrap_socket(conn, server_side=True)
        read_line(conn)  # the second EHLO
        conn.sendall(
            b"250-evil\r\n250 AUTH LOGIN\r\n334 VXNlcm5hbWU6\r\n334 UGFzc3dvcmQ6\r\n"
        )
    elif args.mode == "greeting":
        conn.sendall(b"554 \x1b[2J\x1b[31mfake: accepted\r\n")
    elif args.mode == "final-reply":
        conn.sendall(b"220 evil.test ESMTP\r\n")
        read_line(conn)  # EHLO
        conn.sendall(b"250 evil.test\r\n")
        for reply in (b"250 ok\r\n", b"250 ok\r\n", b"354 go\r\n"):
            read_line(conn)  # MAIL, RCPT, DATA
            conn.sendall(reply)
        while read_line(conn) != b".\r\n":
            pass
        conn.sendall(b"554 5.7.1 no\x1b[1A\x1b[2K\x1b[G250 queued \xe2\x80\xaedeyalp\r\n")
    else:
        sys.exit("unknown mode " + args.mode)
    after = read_rest(conn)
    print("AFTER", after.hex(), flush=True)


if __name__ == "__main__":
    main()
