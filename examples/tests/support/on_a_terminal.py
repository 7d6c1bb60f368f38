"""Runs a program on a pseudo-terminal, answers its password prompt, and reports what the
terminal showed: `python3 on_a_terminal.py PROMPT ANSWER PROGRAM ARGS...`.

Prints `EXIT n` and then the terminal's whole output as `SCREEN <hex>`. The answer is typed
once PROMPT has appeared on the terminal; a program that echoes it shows it in the output.
"""

import os
import pty
import sys
import time


def main():
    prompt, answer, argv = sys.argv[1].encode(), sys.argv[2].encode(), sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    screen = b""
    typed = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        screen += chunk
        if not typed and prompt in screen:
            # A program that asks properly turned echo off before it printed the prompt.
            os.write(fd, answer + b"\n")
            typed = True
    _, status = os.waitpid(pid, 0)
    print("EXIT", os.waitstatus_to_exitcode(status), flush=True)
    print("SCREEN", screen.hex(), flush=True)


if __name__ == "__main__":
    main()
