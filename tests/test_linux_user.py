"""pyvirt-riscv64 against qemu-riscv64: Debian's busybox, our own C/C++ programs, bad input.

Every comparison runs the same command under both emulators and checks
stdout, stderr and the exit status.  A program's own execve of a RISC-V
program cannot work under qemu-user without binfmt_misc (it falls back to
the host's PATH), so for the busybox script qemu's PATH holds one wrapper
per applet that runs it under qemu-riscv64 again; pyvirt gets an empty
PATH, so each applet it runs is busybox itself.
"""

import fcntl
import os
import pty
import shutil
import signal
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "user"
PYVIRT = [sys.executable, "-m", "pyvirt.cli.user_riscv64"]
QEMU = shutil.which("qemu-riscv64")
PREFIX = "/usr/riscv64-linux-gnu"

pytestmark = pytest.mark.skipif(QEMU is None, reason="qemu-user not installed (scripts/setup.sh)")


@pytest.fixture(scope="module")
def busybox():
    from pyvirt.images import fetch_guest_images
    return str(fetch_guest_images().busybox)


def run(cmd, cwd=None, env=None, timeout=300):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout)
    return r.stdout, r.stderr, r.returncode


def same(cmd, tmp_path, env=None, pyvirt_opts=(), timeout=300):
    """Run ``cmd`` (program and arguments) under both emulators in fresh directories."""
    qdir, pdir = tmp_path / "qemu", tmp_path / "pyvirt"
    qdir.mkdir()
    pdir.mkdir()
    expected = run([QEMU, "-L", PREFIX, *cmd], cwd=qdir, env=env, timeout=timeout)
    got = run([*PYVIRT, *pyvirt_opts, "-L", PREFIX, *cmd], cwd=pdir, env=env, timeout=timeout)
    assert got[2] == expected[2], got[1].decode(errors="replace")[-2000:]
    assert got[0] == expected[0]
    assert got[1] == expected[1]
    return got


def test_busybox_pipeline(busybox, tmp_path):
    out, _, _ = same([busybox, "sh", "-c", "echo hello | sha256sum"], tmp_path)
    assert out.startswith(b"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03")


@pytest.mark.slow
def test_busybox_script_of_applets(busybox, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    applets = subprocess.run([QEMU, busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        wrapper = bindir / applet
        wrapper.write_text(f'#!/bin/sh\nexec {QEMU} {busybox} {applet} "$@"\n')
        wrapper.chmod(0o755)
    script = str(HERE / "busybox_applets.sh")
    used = {line.split()[0] for line in (HERE / "busybox_applets.sh").read_text().split("\n")
            if line and not line.startswith("#")}
    assert len(set(applets) & used) >= 20     # plus those used inside $(...)
    qdir, pdir = tmp_path / "qemu", tmp_path / "pyvirt"
    qdir.mkdir()
    pdir.mkdir()
    expected = run([QEMU, busybox, "sh", script], cwd=qdir, env={"PATH": str(bindir)})
    got = run([*PYVIRT, busybox, "sh", script], cwd=pdir, env={"PATH": "/nonexistent"})
    assert expected[2] == 3 and b"kill: 143" in expected[0]
    assert got == expected


@pytest.fixture(scope="module")
def programs(tmp_path_factory):
    """Our test programs, compiled static and dynamic: {name.kind: path}."""
    for tool in ("riscv64-linux-gnu-gcc", "riscv64-linux-gnu-g++"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (scripts/setup.sh)")
    out = tmp_path_factory.mktemp("user-programs")
    built = {}
    for src in sorted(HERE.glob("*.c")) + sorted(HERE.glob("*.cpp")):
        cc = "riscv64-linux-gnu-g++" if src.suffix == ".cpp" else "riscv64-linux-gnu-gcc"
        for kind, flags in (("static", ["-static"]), ("dynamic", [])):
            exe = out / f"{src.stem}.{kind}"
            subprocess.run([cc, "-O1", *flags, "-o", str(exe), str(src), "-lm", "-lpthread"],
                           check=True)
            built[f"{src.stem}.{kind}"] = str(exe)
    return built


PROGRAMS = ["fileio", "process", "signals", "memory", "threads", "tcp", "fp", "exceptions"]


def signalled_when_ready(cmd):
    """Run ``cmd``, send it SIGUSR1 once it prints "ready"; (stdout, status)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.send_signal(signal.SIGUSR1)
    try:
        rest, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return first + rest, proc.returncode


def test_signal_from_outside_reaches_a_threaded_program(programs):
    exe = programs["signal_thread.static"]
    expected = signalled_when_ready([QEMU, exe])
    assert expected == (b"ready\ngot 10\n", 0)
    assert signalled_when_ready([*PYVIRT, exe]) == expected


@pytest.mark.parametrize("kind", ["static", "dynamic"])
@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_qemu(programs, tmp_path, name, kind):
    same([programs[f"{name}.{kind}"]], tmp_path, env={"PATH": "/usr/bin:/bin"})


def test_auto_engine_moves_to_compiled_blocks_midway(busybox, tmp_path):
    data = tmp_path / "data"
    data.write_bytes(bytes(range(256)) * 64)
    cmd = [busybox, "sh", "-c", f"md5sum {data}; gzip -c {data} | md5sum"]
    env = dict(os.environ, PYVIRT_TIER_UP="20000")
    # (under qemu-user the gzip here would be the host's: the interpreter is the reference)
    assert run([*PYVIRT, "-engine", "auto", *cmd], env=env) == \
        run([*PYVIRT, "-engine", "interp", *cmd])


def in_pty(cmd, rows=33, cols=111):
    """Output and status of ``cmd`` run on a new pseudo-terminal of that size."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("LINES", "COLUMNS")}
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    out = b""
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:         # EIO: the last writer closed the terminal
            break
        if not data:
            break
        out += data
    os.close(master)
    return out, proc.wait(timeout=60)


def test_terminal_ioctls(busybox):
    cmd = [busybox, "sh", "-c", "stty size; tty -s && echo isatty; stty -echo && stty -a"]
    out, status = in_pty([*PYVIRT, *cmd])
    assert status == 0 and b"33 111\r\nisatty\r\n" in out and b"-echo " in out
    # QEMU 7.2 fails TCSETS for stty -echo, so it is compared up to there
    assert out.split(b"isatty")[0] == in_pty([QEMU, *cmd])[0].split(b"isatty")[0]


def test_exec_of_a_riscv_program_runs_it_under_pyvirt(busybox, tmp_path):
    # qemu-user cannot do this without binfmt_misc; pyvirt starts itself again
    out, err, status = run([*PYVIRT, busybox, "sh", "-c",
                            f"exec {busybox} sh -c 'echo $0; exit 9' inner"],
                           env={"PATH": "/nonexistent"})
    assert (out, status) == (b"inner\n", 9), err


def test_strace_prints_calls_like_qemu(busybox, tmp_path):
    (tmp_path / "f.txt").write_text("hi\n")
    cmd = ["-strace", busybox, "cat", "f.txt"]
    out, err, status = run([*PYVIRT, *cmd], cwd=tmp_path)
    _, qerr, _ = run([QEMU, *cmd], cwd=tmp_path)
    assert (out, status) == (b"hi\n", 0)

    def calls(text, names=("brk", "mprotect", "getuid", "openat", "close", "exit_group")):
        lines = [line.split(" ", 1)[1] for line in text.decode().splitlines()
                 if line.split(" ")[0].isdigit()]
        return [line for line in lines if line.split("(")[0] in names]
    mine = calls(err)
    assert mine[-1] == "exit_group(0)"
    assert "mprotect(0x0000000000193000,32768,PROT_READ) = 0" in mine
    # the same calls, with the same arguments and results, formatted alike
    assert [c.split(",O_RDONLY")[0] for c in mine] == \
        [c.split(",O_RDONLY")[0] for c in calls(qerr)]


def test_options_set_the_guest_environment_and_argv0(busybox):
    env = dict(os.environ, KEEP="1", DROP="1")
    out, _, _ = run([*PYVIRT, "-E", "ADDED=yes", "-U", "DROP", busybox, "sh",
                     "-c", 'echo "$0 ${ADDED} ${KEEP} ${DROP:-unset}"'], env=env)
    assert out == b"sh yes 1 unset\n"
    out, _, _ = run([*PYVIRT, "-0", "echo", busybox, "argv0 picks the applet"])
    assert out == b"argv0 picks the applet\n"


def test_uncaught_fault_kills_with_the_signal_like_qemu(tmp_path):
    if shutil.which("riscv64-linux-gnu-gcc") is None:
        pytest.skip("riscv64-linux-gnu-gcc not installed")
    src = tmp_path / "segv.c"
    src.write_text("int main(void) { *(volatile int *)16 = 1; return 0; }\n")
    exe = tmp_path / "segv"
    subprocess.run(["riscv64-linux-gnu-gcc", "-static", "-o", str(exe), str(src)], check=True)
    got = run([*PYVIRT, str(exe)])
    assert got[2] == -11
    assert got == run([QEMU, str(exe)])


def test_unknown_syscall_is_enosys_and_logged_with_d_unimp(tmp_path):
    if shutil.which("riscv64-linux-gnu-gcc") is None:
        pytest.skip("riscv64-linux-gnu-gcc not installed")
    src = tmp_path / "u.c"
    src.write_text("#include <unistd.h>\n#include <stdio.h>\n#include <errno.h>\n"
                   "int main(void) { long r = syscall(4000); "
                   "printf(\"%ld %d\\n\", r, errno); return 0; }\n")
    exe = tmp_path / "u"
    subprocess.run(["riscv64-linux-gnu-gcc", "-static", "-o", str(exe), str(src)], check=True)
    out, err, status = run([*PYVIRT, "-d", "unimp", str(exe)])
    assert (out, status) == (b"-1 38\n", 0)
    assert b"Unsupported syscall: 4000" in err
    assert run([QEMU, str(exe)])[0] == out


def _needs_missing_interpreter(d):
    if shutil.which("riscv64-linux-gnu-gcc") is None:
        pytest.skip("riscv64-linux-gnu-gcc not installed")
    src, exe = d / "t.c", d / "needs-interp"
    src.write_text("int main(void) { return 0; }\n")
    subprocess.run(["riscv64-linux-gnu-gcc", "-o", str(exe), str(src),
                    "-Wl,--dynamic-linker=/lib/ld-nowhere.so.1"], check=True)
    return exe


def _truncated(d, busybox):
    (d / "trunc").write_bytes(Path(busybox).read_bytes()[:100])
    return d / "trunc"


@pytest.mark.parametrize("make, message, status", [
    (lambda d, bb: "/bin/true", "Invalid ELF image for this architecture", 255),
    (lambda d, bb: d / "missing", "No such file or directory", 1),
    (_truncated, "truncated or corrupt ELF file", 1),
    (lambda d, bb: _needs_missing_interpreter(d), "Could not open '/lib/ld-nowhere.so.1'", 255),
], ids=["x86-64", "missing", "truncated", "no-interpreter"])
def test_bad_programs_give_one_line_and_qemus_status(busybox, tmp_path, make, message, status):
    program = str(make(tmp_path, busybox))
    _, err, code = run([*PYVIRT, program])
    assert code == status == run([QEMU, program])[2]
    lines = err.decode().splitlines()
    assert len(lines) == 1 and message in lines[0], lines


def test_bad_options(busybox):
    _, err, code = run([*PYVIRT, "-nonsense", busybox])
    assert code == 1 and err.decode().strip() == "pyvirt-riscv64: unknown option 'nonsense'"
    _, err, code = run([*PYVIRT])
    assert code == 1 and "no user program specified" in err.decode()
    env = dict(os.environ, QEMU_LD_PREFIX="/nonexistent-prefix")
    out, _, code = run([*PYVIRT, busybox, "echo", "env ok"], env=env)
    assert (out, code) == (b"env ok\n", 0)
