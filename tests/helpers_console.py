"""Drive a guest's serial console through pipes, as a person at a terminal would.

The emulator (pyvirt or the real QEMU: same argv, different binary) runs
with ``-nographic`` in a session of its own; its stdout and stderr are read
by a thread into one buffer that ``expect`` searches, and ``send`` types on
its stdin.  stdin is a pipe, not a tty, so the stdio chardev leaves
terminal modes alone and every byte reaches the guest as sent -- except
Ctrl-A, the -nographic mux escape, which ``send`` refuses.

pexpect could do this, but it is not a dependency of the project and the
part needed here (a reader thread and a regex search) is short.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from typing import Sequence

from guestbuild import RUNNERS

CTRL_A = "\x01"


def emulator_argv(binary: str, *args: str) -> list[str]:
    """The command line running ``binary`` ('pyvirt' or 'qemu') with ``args``."""
    return [*RUNNERS[binary].command, *args]


def unavailable(binary: str) -> str | None:
    """Why ``binary`` can't run here, or None."""
    return RUNNERS[binary].unavailable()


class Console:
    """A running emulator and its console: ``with Console(argv) as c: c.expect(...)``.

    Leaving the ``with`` block (or ``close``) kills the whole process group
    of an emulator still running, so no test leaves one behind.
    """

    def __init__(self, argv: Sequence[str], *, env: dict | None = None):
        self.argv = list(argv)
        self.process = subprocess.Popen(
            self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, env=env)
        self._output = bytearray()
        self._searched = 0     # expect() looks only at output after its last match
        self._eof = False
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        fd = self.process.stdout.fileno()
        while chunk := os.read(fd, 65536):
            with self._changed:
                self._output += chunk
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    @property
    def output(self) -> str:
        """Everything the process printed so far."""
        with self._changed:
            return self._output.decode(errors="replace")

    def expect(self, pattern: str | re.Pattern, timeout: float) -> re.Match:
        """Wait until ``pattern`` (a regex) appears in output not yet matched.

        Returns the match (on the decoded text); the next expect starts after
        it.  Fails with the tail of the output on timeout or process exit.
        """
        regex = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                # surrogateescape round-trips, so the match end maps back to bytes.
                text = self._output[self._searched:].decode(errors="surrogateescape")
                match = regex.search(text)
                if match:
                    self._searched += len(text[:match.end()].encode(errors="surrogateescape"))
                    return match
                remaining = deadline - time.monotonic()
                if self._eof or remaining <= 0:
                    why = "the process exited" if self._eof else f"{timeout}s passed"
                    raise AssertionError(
                        f"{regex.pattern!r} not seen before {why}; "
                        f"{self.argv[0]} printed (tail):\n{text[-3000:]}")
                self._changed.wait(remaining)

    def send(self, text: str) -> None:
        """Type ``text`` on the console."""
        if CTRL_A in text:
            raise ValueError("Ctrl-A is the -nographic mux escape; don't send it")
        self.process.stdin.write(text.encode())
        self.process.stdin.flush()

    def sendline(self, line: str) -> None:
        self.send(line + "\n")

    def wait(self, timeout: float) -> int:
        """The exit status, once the process has exited (and its output is read)."""
        try:
            status = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.argv[0]} still running after {timeout}s; output (tail):\n"
                                 f"{self.output[-3000:]}") from None
        self._reader.join(timeout)
        return status

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait()
        self._reader.join()
        self.process.stdin.close()
        self.process.stdout.close()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
