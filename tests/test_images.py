"""Guest images: the newc writer, the initramfs, the private apt, the cache,
the CLI and (slow) the real fetch from Debian, checked by running what it
fetched under real QEMU."""

import gzip
import json
import os
import select
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile

from pyvirt.errors import PyvirtError
from pyvirt.images import READY_MARKER, fetch_guest_images, firmware_path, image_path
from pyvirt.images.cache import cache_dir
from pyvirt.images.cpio import char_device, directory, newc_archive, regular_file, symlink
from pyvirt.images.debian import KEYRING, AptRoot
from pyvirt.images.firmware import HOST_FIRMWARE, HostFirmware
from pyvirt.images.guest import check_riscv_image, guest_dir
from pyvirt.images.initramfs import INIT_SCRIPT, build_initramfs

needs_cpio = pytest.mark.skipif(shutil.which("cpio") is None, reason="cpio not installed")


def cpio(archive: bytes, *args: str, cwd: Path | None = None) -> str:
    """Run the real cpio(1) on ``archive``: the oracle for our writer."""
    result = subprocess.run(["cpio", "--quiet", *args], input=archive, cwd=cwd,
                            capture_output=True, check=True)
    return result.stdout.decode()


# --- newc writer -----------------------------------------------------------

SAMPLE = [
    directory("etc"),
    regular_file("etc/motd", b"hello\n"),
    regular_file("etc/odd", b"abc"),  # length not a multiple of 4: needs padding
    symlink("etc/link", "motd"),
    directory("dev"),
    char_device("dev/console", 5, 1),
]


@needs_cpio
def test_newc_archive_lists_with_cpio():
    listing = cpio(newc_archive(SAMPLE), "-itv").splitlines()
    assert [line.split()[-1] for line in listing] == [
        "etc", "etc/motd", "etc/odd", "motd", "dev", "dev/console"]
    console = next(line for line in listing if line.endswith("dev/console"))
    assert console.startswith("crw-------") and "5,   1" in console
    link = next(line for line in listing if "etc/link" in line)
    assert link.startswith("lrwxrwxrwx") and link.endswith("etc/link -> motd")


@needs_cpio
def test_newc_archive_extracts_with_cpio(tmp_path):
    files_only = [entry for entry in SAMPLE if not stat.S_ISCHR(entry.mode)]
    cpio(newc_archive(files_only), "-id", cwd=tmp_path)
    assert (tmp_path / "etc/motd").read_bytes() == b"hello\n"
    assert (tmp_path / "etc/odd").read_bytes() == b"abc"
    assert os.readlink(tmp_path / "etc/link") == "motd"


def test_newc_entries_are_4_byte_aligned():
    archive = newc_archive(SAMPLE)
    assert len(archive) % 4 == 0
    assert archive.startswith(b"070701")
    assert archive.count(b"070701") == len(SAMPLE) + 1  # and the trailer
    assert b"TRAILER!!!\0" in archive


# --- initramfs -------------------------------------------------------------

@needs_cpio
def test_initramfs_holds_busybox_and_init(tmp_path):
    fake_busybox = b"\x7fELF not really busybox"
    archive = gzip.decompress(build_initramfs(fake_busybox))
    names = cpio(archive, "-it").split()
    for needed in ("init", "bin/busybox", "dev/console", "proc", "sys", "dev", "tmp"):
        assert needed in names
    cpio(archive, "-id", "init", "bin/busybox", cwd=tmp_path)
    assert (tmp_path / "bin/busybox").read_bytes() == fake_busybox
    init = tmp_path / "init"
    assert init.stat().st_mode & 0o111
    assert init.read_text() == INIT_SCRIPT


def test_init_script_prints_marker_and_runs_a_console_shell():
    assert INIT_SCRIPT.startswith("#!/bin/busybox sh\n")
    assert f'echo "{READY_MARKER}"' in INIT_SCRIPT
    assert "setsid cttyhack sh" in INIT_SCRIPT


def test_initramfs_is_reproducible():
    assert build_initramfs(b"x") == build_initramfs(b"x")


# --- private apt -----------------------------------------------------------

def test_apt_sources_line_pins_arch_suite_and_keyring(tmp_path):
    apt = AptRoot(tmp_path, "riscv64", "sid")
    assert apt.sources_line() == (
        f"deb [arch=riscv64 signed-by={KEYRING}] http://deb.debian.org/debian sid main")


@pytest.mark.skipif(not KEYRING.is_file(), reason="debian-archive-keyring not installed")
def test_apt_config_keeps_all_state_under_the_root(tmp_path):
    apt = AptRoot(tmp_path, "riscv64", "sid")
    apt.prepare()
    assert apt.sources_list.read_text() == apt.sources_line() + "\n"
    assert (tmp_path / "lists/partial").is_dir()
    assert (tmp_path / "apt/archives/partial").is_dir()
    assert (tmp_path / "status").read_bytes() == b""
    # apt itself says how it reads the options.
    def apt_config(*args: str) -> str:
        return subprocess.run(["apt-config", *apt.options(), *args], capture_output=True,
                              text=True, check=True).stdout

    settings = {
        "SOURCES": ("Dir::Etc::SourceList", f"{tmp_path}/sources.list"),
        "PARTS": ("Dir::Etc::SourceParts", "/dev/null"),
        "LISTS": ("Dir::State::Lists", f"{tmp_path}/lists"),
        "STATUS": ("Dir::State::status", f"{tmp_path}/status"),
        "CACHE": ("Dir::Cache", f"{tmp_path}/apt"),
        "ARCH": ("APT::Architecture", "riscv64"),
    }
    shell = apt_config("shell", *(arg for var, (key, _) in settings.items() for arg in (var, key)))
    assert shell.splitlines() == [f"{var}='{value}'" for var, (_, value) in settings.items()]
    architectures = [line for line in apt_config("dump").splitlines()
                     if line.startswith("APT::Architectures::")]
    assert architectures == ['APT::Architectures:: "riscv64";']


def test_missing_keyring_names_the_package(tmp_path):
    apt = AptRoot(tmp_path, "riscv64", "sid", keyring=tmp_path / "absent.gpg")
    with pytest.raises(PyvirtError, match="debian-archive-keyring"):
        apt.prepare()


# --- kernel check, firmware, cache -----------------------------------------

def test_check_riscv_image_refuses_a_compressed_kernel():
    with pytest.raises(PyvirtError, match="not an uncompressed RISC-V Image"):
        check_riscv_image(gzip.compress(b"\0" * 256))


def test_unknown_firmware_is_a_user_error():
    with pytest.raises(PyvirtError, match="unknown firmware 'bios'"):
        firmware_path("bios")


def test_missing_firmware_names_its_package(tmp_path, monkeypatch):
    monkeypatch.setitem(HOST_FIRMWARE, "fake", HostFirmware(tmp_path / "fw.bin", "opensbi-fake"))
    with pytest.raises(PyvirtError, match="apt-get install opensbi-fake"):
        firmware_path("fake")


@pytest.mark.parametrize("name", sorted(HOST_FIRMWARE))
def test_host_firmware_is_installed(name):
    path = firmware_path(name)
    assert path.stat().st_size > 0


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("PYVIRT_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("PYVIRT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "pyvirt"


@pytest.fixture
def seeded_cache(tmp_path, monkeypatch):
    """A cache that already holds a (fake) complete fetch."""
    monkeypatch.setenv("PYVIRT_CACHE", str(tmp_path))
    root = guest_dir()
    root.mkdir(parents=True)
    for name in ("Image", "initrd.cpio.gz", "busybox"):
        (root / name).write_bytes(b"cached " + name.encode())
    (root / "images.json").write_text(json.dumps({"versions": {"busybox-static": "1"}}))
    return root


def test_cached_fetch_runs_no_apt(seeded_cache, monkeypatch):
    monkeypatch.setenv("PATH", "")  # apt-get cannot run: a fetch would fail
    images = fetch_guest_images()
    assert images.kernel == seeded_cache / "Image"
    assert images.versions == {"busybox-static": "1"}
    assert image_path("initrd") == seeded_cache / "initrd.cpio.gz"


def test_incomplete_cache_is_not_trusted(seeded_cache, monkeypatch):
    (seeded_cache / "Image").unlink()
    monkeypatch.setenv("PATH", "")
    with pytest.raises(PyvirtError, match="apt-get not found"):
        fetch_guest_images()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyvirt.images", *args],
                          capture_output=True, text=True)


def test_cli_path_prints_one_path(seeded_cache):
    result = run_cli("path", "kernel")
    assert result.returncode == 0
    assert result.stdout == f"{seeded_cache / 'Image'}\n"


def test_cli_fetch_prints_name_and_path(seeded_cache):
    result = run_cli("fetch")
    assert result.returncode == 0
    assert result.stdout.splitlines() == [
        f"kernel {seeded_cache / 'Image'}",
        f"initrd {seeded_cache / 'initrd.cpio.gz'}",
        f"busybox {seeded_cache / 'busybox'}",
    ]


def test_cli_reports_errors_in_one_line(seeded_cache):
    (seeded_cache / "images.json").unlink()
    env = {**os.environ, "PATH": ""}
    result = subprocess.run([sys.executable, "-m", "pyvirt.images", "fetch"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "pyvirt-images: error: apt-get not found: fetching guest images needs Debian's apt"]


# --- the real fetch (network on first run, then cached) --------------------

@pytest.fixture(scope="module")
def guest():
    return fetch_guest_images()


@pytest.mark.slow
def test_fetch_yields_a_riscv64_kernel_image(guest):
    kernel = guest.kernel.read_bytes()
    check_riscv_image(kernel)
    assert kernel[0x30:0x38] == b"RISCV\0\0\0"  # the older, deprecated magic
    assert any(package.startswith("linux-") for package in guest.versions)


@pytest.mark.slow
def test_fetch_yields_a_static_riscv64_busybox(guest):
    with open(guest.busybox, "rb") as f:
        elf = ELFFile(f)
        assert elf["e_machine"] == "EM_RISCV" and elf.elfclass == 64
        assert not any(seg["p_type"] == "PT_INTERP" for seg in elf.iter_segments())


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-riscv64") is None, reason="qemu-user not installed")
def test_fetched_busybox_runs_under_qemu_user(guest):
    result = subprocess.run(["qemu-riscv64", str(guest.busybox), "echo", "hi"],
                            capture_output=True, text=True, timeout=60)
    assert result.stdout == "hi\n"


class SerialConsole:
    """The guest's console on a child process's stdin/stdout."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.output = b""

    def expect(self, text: str, timeout: float) -> str:
        """Read until ``text`` appears; return what came before it."""
        deadline = time.monotonic() + timeout
        wanted = text.encode()
        while wanted not in self.output:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                raise AssertionError(f"no {text!r} on the console; got:\n"
                                     + self.output[-3000:].decode(errors="replace"))
            if select.select([self.process.stdout], [], [], remaining)[0]:
                self.output += os.read(self.process.stdout.fileno(), 65536)
        before, _, self.output = self.output.partition(wanted)
        return before.decode(errors="replace")

    def type(self, line: str) -> None:
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("qemu-system-riscv64") is None,
                    reason="qemu-system-misc not installed")
def test_guest_boots_to_a_shell_under_qemu_system(guest):
    """The reference QEMU boots the fetched kernel and initramfs to a
    working shell: what pyvirt's own virt board must do too."""
    process = subprocess.Popen(
        ["qemu-system-riscv64", "-M", "virt", "-m", "512M", "-nographic",
         "-kernel", str(guest.kernel), "-initrd", str(guest.initrd),
         "-append", "console=ttyS0"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        console = SerialConsole(process)
        console.expect(READY_MARKER, timeout=120)
        console.expect("# ", timeout=30)
        console.type("uname -m")
        console.expect("riscv64", timeout=30)
        console.type("echo $((6*7))")
        console.expect("42", timeout=30)
        console.type("poweroff -f")
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()
