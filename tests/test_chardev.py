"""Chardev backends: spec parsing, file, sockets, pty, stdio and the mux escapes."""

import os
import socket
import subprocess
import sys
import termios
import textwrap

import pytest

from pyvirt.chardev import ChardevEvent, MuxChardev, chardev_from_options, chardev_from_spec
from pyvirt.chardev.mux import help_text
from pyvirt.chardev.socket import SocketChardev
from pyvirt.core.clock import VirtualClock
from pyvirt.core.irq import IRQLine
from pyvirt.core.mainloop import MainLoop
from pyvirt.errors import PyvirtError
from pyvirt.hw.char import uart16550 as u
from pyvirt.hw.char.uart16550 import UART16550

QEMU_HELP = (b"\n\rC-a h    print this help\n\rC-a x    exit emulator\n\r"
             b"C-a s    save disk data back to file (if -snapshot)\n\r"
             b"C-a t    toggle console timestamps\n\rC-a b    send break (magic sysrq)\n\r"
             b"C-a c    switch between console and monitor\n\rC-a C-a  sends C-a\n\r")


class Frontend:
    """Records what a chardev delivers; takes at most ``room`` bytes at a time."""

    def __init__(self, chardev, room=1 << 20):
        self.room = room
        self.data = bytearray()
        self.events = []
        chardev.set_handlers(lambda: self.room - len(self.data), self.data.extend,
                             self.events.append)


@pytest.fixture
def mainloop():
    return MainLoop(VirtualClock())


def pump(mainloop, until, rounds=200):
    for _ in range(rounds):
        if until():
            return
        mainloop.iterate(0.01)
    raise AssertionError("condition not reached")


def test_spec_errors_are_one_line_pyvirt_errors(mainloop):
    bad = {
        "vc": "'vc' is not a valid char driver",
        "file:": "'file:' is not a valid char driver",
        "tcp:4444": "expected tcp:HOST:PORT",
        "tcp::70000,server=on": "invalid port",
        "tcp:127.0.0.1:1,wait=off": "incompatible with socket in client connect mode",
        "tcp::1,server=maybe": "Parameter 'server' expects 'on' or 'off'",
        "unix:/tmp/x,telnet=on": "Invalid parameter 'telnet'",
    }
    for spec, message in bad.items():
        with pytest.raises(PyvirtError, match=message):
            chardev_from_spec(spec, mainloop)
    with pytest.raises(PyvirtError, match="no id"):
        chardev_from_options("null", mainloop)
    with pytest.raises(PyvirtError, match="not a valid char driver name"):
        chardev_from_options("vc,id=x", mainloop)


def test_none_and_null(mainloop):
    assert chardev_from_spec("none", mainloop) is None
    ident, chardev = chardev_from_options("null,id=n0", mainloop)
    assert ident == "n0"
    chardev.write(b"discarded")


def test_file_backend_through_the_uart(mainloop, tmp_path):
    path = tmp_path / "serial.log"
    chardev = chardev_from_spec(f"file:{path}", mainloop)
    uart = UART16550(chardev, IRQLine())
    for byte in b"OpenSBI\r\n":
        uart.write(u.THR, 1, byte)
    chardev.close()
    assert path.read_bytes() == b"OpenSBI\r\n"
    with pytest.raises(PyvirtError, match="Could not open"):
        chardev_from_spec(f"file:{tmp_path}/missing/dir/x", mainloop)


def test_tcp_server_nowait_legacy_spelling(mainloop):
    chardev = chardev_from_spec("tcp:127.0.0.1:0,server,nowait", mainloop)
    front = Frontend(chardev)
    chardev.write(b"dropped while nobody is connected")
    client = socket.create_connection(chardev.address)
    pump(mainloop, lambda: chardev.connected)
    assert front.events == [ChardevEvent.OPENED]
    client.sendall(b"root\n")
    pump(mainloop, lambda: front.data == b"root\n")
    chardev.write(b"login: ")
    assert client.recv(100) == b"login: "
    client.close()
    pump(mainloop, lambda: not chardev.connected)
    assert front.events[-1] is ChardevEvent.CLOSED
    # It listens again for the next peer.
    second = socket.create_connection(chardev.address)
    pump(mainloop, lambda: chardev.connected)
    second.close()
    chardev.close()


def test_tcp_client_and_nodelay(mainloop):
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    chardev = chardev_from_spec(f"tcp:127.0.0.1:{port},nodelay", mainloop)
    peer, _ = listener.accept()
    chardev.write(b"hello")
    assert peer.recv(5) == b"hello"
    peer.close()
    listener.close()
    chardev.close()


def test_unix_server_with_chardev_syntax(mainloop, tmp_path):
    path = str(tmp_path / "serial.sock")
    ident, chardev = chardev_from_options(
        f"socket,id=ser0,path={path},server=on,wait=off", mainloop)
    assert ident == "ser0" and isinstance(chardev, SocketChardev)
    front = Frontend(chardev)
    client = socket.socket(socket.AF_UNIX)
    client.connect(path)
    client.sendall(b"x")
    pump(mainloop, lambda: front.data == b"x")
    client.close()
    chardev.close()
    assert not os.path.exists(path)


def test_paste_is_paced_by_the_uart_not_lost(mainloop):
    chardev = chardev_from_spec("tcp:127.0.0.1:0,server=on,wait=off", mainloop)
    uart = UART16550(chardev, IRQLine())
    uart.write(u.FCR, 1, u.FCR_FE)
    client = socket.create_connection(chardev.address)
    pump(mainloop, lambda: chardev.connected)
    paste = bytes(i % 251 for i in range(20000))
    client.sendall(paste)
    got = bytearray()

    def drain():
        while uart.read(u.LSR, 1) & u.LSR_DR:
            got.append(uart.read(u.RBR, 1))
        return len(got) == len(paste)

    pump(mainloop, drain, rounds=5000)
    assert got == paste
    client.close()
    chardev.close()


def test_pty_backend(mainloop, capfd):
    chardev = chardev_from_spec("pty", mainloop, label="serial0")
    assert f"char device redirected to {chardev.path} (label serial0)" in capfd.readouterr().err
    front = Frontend(chardev)
    peer = os.open(chardev.path, os.O_RDWR | os.O_NOCTTY)
    chardev.write(b"guest says hi")
    assert os.read(peer, 100) == b"guest says hi"
    os.write(peer, b"ls\r")
    pump(mainloop, lambda: front.data == b"ls\r")
    os.close(peer)
    chardev.close()


def test_help_text_matches_qemu():
    assert help_text(1) == QEMU_HELP
    assert help_text(0x02).startswith(b"\n\rC-b h    print this help")
    # As in QEMU, only C-a..C-y get a C- name.
    assert help_text(0x1D).startswith(
        b"\n\rEscape-Char set to Ascii: 0x1d\n\r\n\rEscape-Char h    print this help")


def test_mux_focus_break_and_timestamps(mainloop, tmp_path):
    ident, mux = chardev_from_options(f"file,id=m,path={tmp_path}/out,mux=on", mainloop)
    assert isinstance(mux, MuxChardev)
    serial, monitor = mux.new_frontend(), mux.new_frontend()
    serial_in, monitor_in = Frontend(serial), Frontend(monitor)
    feed = mux.backend._push_input
    feed(b"ab\x01\x01c")
    assert serial_in.data == b"ab\x01c" and monitor_in.data == b""
    feed(b"\x01c")
    assert monitor_in.events == [ChardevEvent.MUX_IN]
    assert serial_in.events == [ChardevEvent.MUX_OUT]
    feed(b"info\x01z")                  # unknown commands are swallowed
    assert monitor_in.data == b"info"
    feed(b"\x01c\x01b")
    assert serial_in.events[-1] is ChardevEvent.BREAK
    feed(b"\x01t")
    serial.write(b"first\nsecond\n")
    mux.close()
    out = (tmp_path / "out").read_bytes()
    assert out.startswith(b"first\n[00:00:00.0") and out.endswith(b"] second\n")


MUX_SCRIPT = textwrap.dedent("""
    import sys
    from pyvirt.chardev import chardev_from_spec
    from pyvirt.core.clock import VirtualClock
    from pyvirt.core.mainloop import MainLoop

    loop = MainLoop(VirtualClock())
    mux = chardev_from_spec("mon:stdio", loop, on_quit=loop.quit)
    got = bytearray()
    mux.new_frontend().set_handlers(lambda: 64, got.extend)
    loop.run()
    mux.close()
    sys.stderr.write(repr(bytes(got)))
""")


def test_stdio_mux_escapes_through_a_pipe():
    proc = subprocess.run([sys.executable, "-c", MUX_SCRIPT],
                          input=b"hello\x01h\x01\x01!\x01xignored",
                          capture_output=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == QEMU_HELP + b"QEMU: Terminated\n\r"
    assert proc.stderr == repr(b"hello\x01!").encode()


TTY_SCRIPT = textwrap.dedent("""
    import sys, termios
    from pyvirt.chardev import chardev_from_spec
    from pyvirt.core.clock import VirtualClock
    from pyvirt.core.mainloop import MainLoop

    chardev = chardev_from_spec(sys.argv[1], MainLoop(VirtualClock()))
    lflag = termios.tcgetattr(0)[3]
    print(int(bool(lflag & termios.ICANON)), int(bool(lflag & termios.ISIG)), flush=True)
    raise RuntimeError("crash without closing the chardev")
""")


@pytest.mark.parametrize("spec, isig", [("stdio", 1), ("mon:stdio", 0)])
def test_stdio_raw_mode_is_restored_even_after_a_crash(spec, isig):
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)
    proc = subprocess.run([sys.executable, "-c", TTY_SCRIPT, spec], stdin=slave,
                          capture_output=True, timeout=30)
    assert proc.returncode == 1 and b"RuntimeError" in proc.stderr
    assert proc.stdout.split() == [b"0", str(isig).encode()]
    assert termios.tcgetattr(slave) == before
    os.close(master)
    os.close(slave)
