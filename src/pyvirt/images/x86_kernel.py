"""Debian's x86-64 kernel for the KVM tests, from the host's own apt.

The host is Debian amd64, so its apt already knows ``linux-image-amd64``:
``apt-get download`` fetches the package that metapackage depends on
(verified by apt), ``dpkg-deb`` unpacks it, and the bzImage is kept in the
cache as ``x86_64-kernel/vmlinuz``, its uncompressed vmlinux (for the PVH
entry) as ``x86_64-kernel/vmlinux``.  Nothing is installed on the host.
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from pyvirt.errors import PyvirtError
from pyvirt.images.cache import cache_dir, locked
from pyvirt.images.debian import extract
from pyvirt.loader.bzimage import vmlinux_of

METAPACKAGE = "linux-image-amd64"
_DEPENDS = re.compile(r"^\s*Depends: (linux-image-\S+-amd64)$", re.MULTILINE)


def _apt(*args, cwd=None):
    try:
        result = subprocess.run(args, cwd=cwd, text=True, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise PyvirtError(f"{args[0]} not found: fetching the x86-64 kernel needs Debian's apt") from None
    if result.returncode != 0:
        raise PyvirtError(f"{' '.join(args)} failed: {result.stderr.strip()}")
    return result.stdout


def x86_kernel() -> Path:
    """The cached bzImage of the host's current Debian kernel package, fetched if missing."""
    root = cache_dir() / "x86_64-kernel"
    kernel = root / "vmlinuz"
    root.mkdir(parents=True, exist_ok=True)
    with locked(root):
        if kernel.exists():
            return kernel
        match = _DEPENDS.search(_apt("apt-cache", "depends", METAPACKAGE))
        if match is None:
            raise PyvirtError(f"apt-cache depends {METAPACKAGE}: no kernel package found")
        with tempfile.TemporaryDirectory(dir=root) as tmp:
            _apt("apt-get", "download", match.group(1), cwd=tmp)
            deb = next(Path(tmp).glob("*.deb"))
            extract(deb, Path(tmp) / "tree")
            found = sorted((Path(tmp) / "tree" / "boot").glob("vmlinuz-*"))
            if not found:
                raise PyvirtError(f"{deb.name} holds no /boot/vmlinuz-*")
            shutil.copyfile(found[0], kernel.with_suffix(".part"))
            kernel.with_suffix(".part").rename(kernel)
    return kernel


def x86_vmlinux() -> Path:
    """The vmlinux ELF inside ``x86_kernel()``, extracted once into the cache."""
    bzimage = x86_kernel()
    vmlinux = bzimage.with_name("vmlinux")
    with locked(bzimage.parent):
        if not vmlinux.exists():
            vmlinux.with_suffix(".part").write_bytes(vmlinux_of(bzimage.read_bytes(), str(bzimage)))
            vmlinux.with_suffix(".part").rename(vmlinux)
    return vmlinux
