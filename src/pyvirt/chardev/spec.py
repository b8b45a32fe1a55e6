"""Turning QEMU's chardev spellings into backends.

Two spellings exist, and as in QEMU the first is translated into the
second:

* ``-serial``/``-monitor``: ``stdio``, ``mon:stdio``, ``null``, ``none``,
  ``pty``, ``file:PATH``, ``tcp:HOST:PORT[,server=on][,wait=off]``
  (legacy ``,server,nowait`` too), ``unix:PATH[,server=on,...]``;
* ``-chardev``: ``BACKEND,id=ID[,key=value...]``, e.g.
  ``socket,id=s0,host=127.0.0.1,port=4444,server=on,wait=off`` or
  ``stdio,id=c0,mux=on,signal=off``.

``mux=on`` (and the ``mon:`` prefix) yields a ``MuxChardev``: call its
``new_frontend()`` once per device that shares it, serial port first.
"""

import socket

from pyvirt.chardev.file import FileChardev
from pyvirt.chardev.mux import MuxChardev
from pyvirt.chardev.null import NullChardev
from pyvirt.chardev.pty import PtyChardev
from pyvirt.chardev.socket import SocketChardev
from pyvirt.chardev.stdio import StdioChardev
from pyvirt.errors import PyvirtError

_BOOLEAN_KEYS = {"mux", "signal", "append", "server", "wait", "delay"}
#: Keys each backend accepts besides ``id`` and ``mux``.
_BACKEND_KEYS = {
    "null": set(),
    "stdio": {"signal"},
    "pty": set(),
    "file": {"path", "append"},
    "socket": {"host", "port", "path", "server", "wait", "delay"},
}
_TRUE = {"on", "yes", "true", "y"}
_FALSE = {"off", "no", "false", "n"}


def chardev_from_spec(spec: str, mainloop, *, label: str = "serial0", on_quit=None):
    """A backend for a ``-serial``-style spec, or None for ``none``.

    ``on_quit`` is what a mux's Ctrl-A x calls (default: quit the main loop).
    """
    if spec == "none":
        return None
    return _open(_parse_compat(spec), mainloop, label, on_quit)


def chardev_from_options(text: str, mainloop, *, on_quit=None):
    """``(id, backend)`` for a ``-chardev`` option string."""
    opts = _parse_options(text, first_key="backend")
    if "id" not in opts:
        raise PyvirtError("chardev: no id specified")
    return opts["id"], _open(opts, mainloop, opts["id"], on_quit)


def _parse_options(text: str, first_key=None) -> dict:
    """QEMU's ``a,b=c,noD`` option syntax (``,,`` is a literal comma)."""
    items = [p.replace("\0", ",") for p in text.replace(",,", "\0").split(",")]
    opts = {}
    for i, item in enumerate(items):
        key, eq, value = item.partition("=")
        if i == 0 and first_key is not None and not eq:
            key, value = first_key, item
        elif not eq:
            # A bare ``key`` means key=on; a bare ``nokey`` means key=off.
            if key.startswith("no") and key[2:] in _BOOLEAN_KEYS:
                key, value = key[2:], "off"
            else:
                value = "on"
        if key in _BOOLEAN_KEYS:
            value = _boolean(key, value)
        opts[key] = value
    return opts


def _boolean(key: str, value: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise PyvirtError(f"Parameter '{key}' expects 'on' or 'off'")


def _parse_compat(spec: str) -> dict:
    """Translate the ``-serial`` spelling into ``-chardev`` options."""
    opts = {}
    rest = spec
    if rest.startswith("mon:"):
        rest = rest[4:]
        opts["mux"] = True
        if rest == "stdio":
            # As QEMU: a terminal shared with the monitor passes Ctrl-C to the guest.
            opts["signal"] = False
    kind, colon, arg = rest.partition(":")
    if not colon and kind in ("null", "stdio", "pty"):
        opts["backend"] = kind
    elif kind == "file" and arg:
        opts.update(backend="file", path=arg)
    elif kind == "tcp" and arg:
        address, _, extra = arg.partition(",")
        host, sep, port = address.rpartition(":")
        if not sep:
            raise PyvirtError(f"'{spec}': expected tcp:HOST:PORT")
        opts.update(backend="socket", host=host, port=port)
        opts.update(_parse_options(extra) if extra else {})
    elif kind == "unix" and arg:
        path, _, extra = arg.partition(",")
        opts.update(backend="socket", path=path)
        opts.update(_parse_options(extra) if extra else {})
    else:
        raise PyvirtError(f"'{spec}' is not a valid char driver")
    return opts


def _open(opts: dict, mainloop, label: str, on_quit):
    backend = opts.get("backend")
    if backend not in _BACKEND_KEYS:
        raise PyvirtError(f"'{backend}' is not a valid char driver name")
    for key in opts:
        if key not in _BACKEND_KEYS[backend] | {"backend", "id", "mux"}:
            raise PyvirtError(f"Invalid parameter '{key}'")
    if backend == "null":
        chardev = NullChardev()
    elif backend == "stdio":
        chardev = StdioChardev(mainloop, signal=opts.get("signal", True))
    elif backend == "pty":
        chardev = PtyChardev(mainloop, label)
    elif backend == "file":
        if "path" not in opts:
            raise PyvirtError("chardev: file: no filename given")
        chardev = FileChardev(opts["path"], append=opts.get("append", False))
    else:
        chardev = _open_socket(opts, mainloop)
    if opts.get("mux"):
        return MuxChardev(chardev, on_quit or mainloop.quit)
    return chardev


def _open_socket(opts: dict, mainloop) -> SocketChardev:
    server = opts.get("server", False)
    if "wait" in opts and not server:
        raise PyvirtError("'wait' option is incompatible with socket in client connect mode")
    if "path" in opts:
        if "host" in opts or "port" in opts:
            raise PyvirtError("chardev: socket: give either path or host and port")
        family, address = socket.AF_UNIX, opts["path"]
    else:
        if "port" not in opts:
            raise PyvirtError("chardev: socket: no port given")
        port = opts["port"]
        if not port.isdigit() or int(port) > 65535:
            raise PyvirtError(f"chardev: socket: invalid port '{port}'")
        host = opts.get("host", "")
        if host.startswith("[") and host.endswith("]"):
            host = host[1:-1]
        if not host:
            # QEMU's defaults: listen on every address, connect to this host.
            host = "0.0.0.0" if server else "localhost"
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        address = (host, int(port))
    return SocketChardev(mainloop, family, address, server=server,
                         wait=opts.get("wait", True), nodelay=not opts.get("delay", True))
