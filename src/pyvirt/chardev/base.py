"""The character-device interface between a front end and a host backend.

As in QEMU, a chardev connects a device front end (a UART, the monitor)
to something on the host: a terminal, a file, a socket.  The front end
sends guest output with ``write``.  For input it registers
``set_handlers(can_receive, receive, event)``: the chardev hands over only
as many bytes as ``can_receive()`` allows and queues the rest, and a
backend reading a file descriptor stops polling it while anything is
queued.  The front end calls ``accept_input()`` when it has room again
(QEMU's ``qemu_chr_fe_accept_input``), so pasted input is never lost.

Input callbacks run in the main-loop thread with the global lock held;
``accept_input`` comes from a vCPU thread that holds the same lock, so
queue handling needs no locking of its own, but selector changes are
deferred to the main loop.
"""

import enum
import os


class ChardevEvent(enum.Enum):
    OPENED = "opened"      # a peer connected (socket) or the backend is ready
    CLOSED = "closed"      # the peer went away
    BREAK = "break"        # a serial line break (the mux's Ctrl-A b)
    MUX_IN = "mux-in"      # this front end gained the focus of a mux
    MUX_OUT = "mux-out"    # ... or lost it


class Chardev:
    """Base of all backends: the front-end handlers and the input queue."""

    def __init__(self):
        self._can_receive = None
        self._receive = None
        self._event = None
        self._pending = bytearray()

    def set_handlers(self, can_receive, receive, event=None) -> None:
        """Register the front end: ``can_receive() -> int`` (bytes it can
        take now), ``receive(data: bytes)`` and ``event(ChardevEvent)``."""
        self._can_receive = can_receive
        self._receive = receive
        self._event = event
        self._flush_input()

    def write(self, data: bytes) -> None:
        """Send front-end output to the host side."""
        raise NotImplementedError

    def accept_input(self) -> None:
        """The front end has room for input again."""
        self._flush_input()

    def close(self) -> None:
        """Release host resources (fds, terminal modes)."""

    # -- for backends -------------------------------------------------

    def _push_input(self, data: bytes) -> None:
        """Queue host input and give the front end what it can take."""
        self._pending += data
        self._flush_input()

    def _flush_input(self) -> None:
        while self._pending and self._receive is not None:
            room = self._can_receive()
            if room <= 0:
                return
            chunk = bytes(self._pending[:room])
            del self._pending[:room]
            self._receive(chunk)

    def _send_event(self, event: ChardevEvent) -> None:
        if self._event is not None:
            self._event(event)


def write_all(fd: int, data: bytes) -> None:
    """Write all of ``data`` to a blocking fd.

    If the host side has gone away (the reader of a pipe exited, a pty was
    hung up), the bytes are dropped, as on a serial line nobody listens
    to: the guest must not die of it.
    """
    view = memoryview(data)
    try:
        while view:
            view = view[os.write(fd, view):]
    except OSError:
        pass


class FdChardev(Chardev):
    """A backend that reads input from a file descriptor on the main loop.

    Reading pauses while the front end has queued input left and resumes
    on ``accept_input``: the host fd's own buffer (pipe, tty, socket) holds
    the rest, which is what gives the sender back-pressure.
    """

    READ_CHUNK = 4096

    def __init__(self, mainloop, in_fd=None):
        super().__init__()
        self.mainloop = mainloop
        self._in_fd = None
        self._reading = False
        self._resume_scheduled = False
        if in_fd is not None:
            self._start_input(in_fd)

    def _start_input(self, fd: int) -> None:
        self._in_fd = fd
        self._resume_reading()

    def _stop_input(self) -> None:
        if self._reading:
            self.mainloop.remove_reader(self._in_fd)
            self._reading = False
        self._in_fd = None

    def _resume_reading(self) -> None:
        self._resume_scheduled = False
        if self._in_fd is not None and not self._reading and not self._pending:
            self._reading = True
            self.mainloop.add_reader(self._in_fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self._in_fd, self.READ_CHUNK)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._input_eof()
            return
        self._push_input(data)
        if self._pending and self._reading:
            self.mainloop.remove_reader(self._in_fd)
            self._reading = False

    def _input_eof(self) -> None:
        """The input side ended; by default just stop polling it."""
        self._stop_input()

    def accept_input(self) -> None:
        super().accept_input()
        if (not self._pending and self._in_fd is not None and not self._reading
                and not self._resume_scheduled):
            # Selector changes belong to the main-loop thread.
            self._resume_scheduled = True
            self.mainloop.call_soon(self._resume_reading)

    def close(self) -> None:
        self._stop_input()
