"""The multiplexer: several front ends sharing one backend, QEMU's ``mux=on``.

With ``-nographic`` or ``-serial mon:stdio`` the serial port and the
monitor share the terminal.  Output from every front end goes to the
backend; input goes to the front end that has the focus.  An escape
character (Ctrl-A unless ``-echr`` says otherwise) starts a command:

    C-a h  print the help      C-a x    quit (the front end's ``on_quit``)
    C-a s  commit snapshots    C-a t    toggle output timestamps
    C-a b  send a break        C-a c    switch focus (console <-> monitor)
    C-a C-a  send C-a itself

Escapes are recognised as soon as the bytes arrive, even while the
focused front end is not accepting input, so Ctrl-A x works when the
guest has stopped reading.
"""

import time

from pyvirt.chardev.base import Chardev, ChardevEvent

CTRL_A = 0x01
#: Input queued for a front end before the backend stops reading.
QUEUE_LIMIT = 4096

_HELP = (
    "% h    print this help\n\r",
    "% x    exit emulator\n\r",
    "% s    save disk data back to file (if -snapshot)\n\r",
    "% t    toggle console timestamps\n\r",
    "% b    send break (magic sysrq)\n\r",
    "% c    switch between console and monitor\n\r",
    "% %  sends %\n\r",
)
TERMINATED = b"QEMU: Terminated\n\r"


def help_text(escape_char: int) -> bytes:
    """The help list, byte for byte as QEMU prints it."""
    if 0 < escape_char < 26:
        head, name = "\n\r", f"C-{chr(escape_char - 1 + ord('a'))}"
    else:
        head = f"\n\rEscape-Char set to Ascii: 0x{escape_char:02x}\n\r\n\r"
        name = "Escape-Char"
    return (head + "".join(line.replace("%", name) for line in _HELP)).encode()


class MuxFrontend(Chardev):
    """What one front end (serial port, monitor) sees of a mux."""

    def __init__(self, mux: "MuxChardev"):
        super().__init__()
        self.mux = mux

    def write(self, data: bytes) -> None:
        self.mux.write(data)

    def accept_input(self) -> None:
        super().accept_input()
        self.mux.backend.accept_input()


class MuxChardev:
    def __init__(self, backend: Chardev, on_quit, escape_char: int = CTRL_A):
        self.backend = backend
        #: Called (with no arguments) for C-a x, after the farewell line.
        self.on_quit = on_quit
        self.escape_char = escape_char
        self.frontends = []
        self.focus = 0
        self._got_escape = False
        self.timestamps = False
        self._timestamps_start = None
        self._line_start = False
        backend.set_handlers(self._can_receive, self._receive, self._backend_event)

    def new_frontend(self) -> MuxFrontend:
        """Attach a front end; the first one attached has the focus."""
        frontend = MuxFrontend(self)
        self.frontends.append(frontend)
        self.backend.accept_input()
        return frontend

    def close(self) -> None:
        self.backend.close()

    # -- output -------------------------------------------------------

    def write(self, data: bytes) -> None:
        if not self.timestamps:
            self.backend.write(data)
            return
        out = bytearray()
        for byte in data:
            if self._line_start:
                out += self._timestamp()
                self._line_start = False
            out.append(byte)
            if byte == ord("\n"):
                self._line_start = True
        self.backend.write(bytes(out))

    def _timestamp(self) -> bytes:
        now_ms = time.monotonic_ns() // 1_000_000
        if self._timestamps_start is None:
            self._timestamps_start = now_ms
        ms = now_ms - self._timestamps_start
        secs, ms = divmod(ms, 1000)
        mins, secs = divmod(secs, 60)
        hours, mins = divmod(mins, 60)
        return f"[{hours:02d}:{mins:02d}:{secs:02d}.{ms:03d}] ".encode()

    # -- input --------------------------------------------------------

    def _focused(self):
        return self.frontends[self.focus] if self.frontends else None

    def _can_receive(self) -> int:
        frontend = self._focused()
        return QUEUE_LIMIT - len(frontend._pending) if frontend is not None else 0

    def _receive(self, data: bytes) -> None:
        plain = bytearray()
        for byte in data:
            if self._got_escape:
                self._got_escape = False
                if byte == self.escape_char:
                    plain.append(byte)
                elif byte == ord("x"):
                    # Nothing typed after the quit reaches the guest.
                    self._deliver(plain)
                    self.backend.write(TERMINATED)
                    self.on_quit()
                    return
                else:
                    self._deliver(plain)
                    self._command(byte)
            elif byte == self.escape_char:
                self._got_escape = True
            else:
                plain.append(byte)
        self._deliver(plain)

    def _deliver(self, data: bytearray) -> None:
        if data and self.frontends:
            self._focused()._push_input(bytes(data))
        data.clear()

    def _command(self, byte: int) -> None:
        key = chr(byte)
        if key in "h?":
            self.backend.write(help_text(self.escape_char))
        elif key == "b":
            self._focused()._send_event(ChardevEvent.BREAK)
        elif key == "c":
            self._focused()._send_event(ChardevEvent.MUX_OUT)
            self.focus = (self.focus + 1) % len(self.frontends)
            self._focused()._send_event(ChardevEvent.MUX_IN)
        elif key == "t":
            self.timestamps = not self.timestamps
            self._timestamps_start = None
            self._line_start = False
        # "s" commits -snapshot disks, which pyvirt does not have yet;
        # like QEMU, other keys after the escape are swallowed.

    def _backend_event(self, event: ChardevEvent) -> None:
        for frontend in self.frontends:
            frontend._send_event(event)
