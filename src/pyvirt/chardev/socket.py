"""The socket backend: a TCP or Unix-domain stream, as server or client.

As a server it serves one connection at a time and listens again when the
peer goes away; with ``wait`` (the default, as in QEMU) start-up blocks
until the first peer connects.  Output while nobody is connected is
dropped.
"""

import contextlib
import os
import socket
import sys

from pyvirt.chardev.base import ChardevEvent, FdChardev
from pyvirt.errors import PyvirtError


class SocketChardev(FdChardev):
    def __init__(self, mainloop, family: int, address, *, server: bool,
                 wait: bool = True, nodelay: bool = False):
        super().__init__(mainloop)
        self.family = family
        self.address = address
        self.nodelay = nodelay
        self._listener = None
        self._conn = None
        if server:
            self._listen()
            if wait:
                print(f"pyvirt: info: waiting for connection on: "
                      f"disconnected:{self.describe()},server=on", file=sys.stderr)
                self._accept()
            else:
                self._watch_listener()
        else:
            self._connect()

    def describe(self) -> str:
        """The endpoint in QEMU's spelling, e.g. ``tcp:127.0.0.1:4444``."""
        if self.family == socket.AF_UNIX:
            return f"unix:{self.address}"
        host, port = self.address[:2]
        return f"tcp:{host}:{port}"

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def _listen(self) -> None:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            if self.family == socket.AF_UNIX:
                if os.path.exists(self.address):
                    os.unlink(self.address)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(self.address)
            sock.listen(1)
        except OSError as e:
            sock.close()
            raise PyvirtError(f"Failed to listen on {self.describe()}: {e.strerror}") from None
        self._listener = sock
        if self.family != socket.AF_UNIX:
            # Port 0 asks the OS to pick one: record the real address.
            self.address = sock.getsockname()

    def _connect(self) -> None:
        sock = socket.socket(self.family, socket.SOCK_STREAM)
        try:
            sock.connect(self.address)
        except OSError as e:
            sock.close()
            raise PyvirtError(f"Failed to connect to {self.describe()}: {e.strerror}") from None
        self._attach(sock)

    def _watch_listener(self) -> None:
        self.mainloop.add_reader(self._listener.fileno(), self._accept)

    def _accept(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        self.mainloop.remove_reader(self._listener.fileno())
        self._attach(sock)

    def _attach(self, sock) -> None:
        if self.nodelay and self.family != socket.AF_UNIX:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._conn = sock
        self._start_input(sock.fileno())
        self._send_event(ChardevEvent.OPENED)

    def _disconnect(self) -> None:
        self._stop_input()
        self._conn.close()
        self._conn = None
        self._send_event(ChardevEvent.CLOSED)
        if self._listener is not None:
            self._watch_listener()

    def _input_eof(self) -> None:
        self._disconnect()

    def write(self, data: bytes) -> None:
        if self._conn is None:
            return
        try:
            self._conn.sendall(data)
        except OSError:
            self._disconnect()

    def close(self) -> None:
        if self._conn is not None:
            self._stop_input()
            self._conn.close()
            self._conn = None
        if self._listener is not None:
            self.mainloop.remove_reader(self._listener.fileno())
            self._listener.close()
            if self.family == socket.AF_UNIX:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.address)
            self._listener = None
