"""Assemble and link the x86 test guests into 64 KiB -bios images (and say
whether KVM can run them here).

Each guest is start.S (reset vector, mode switches, output helpers) plus
one test file, linked with rom.ld by binutils' ``as`` and ``ld``; images
are cached by a hash of the sources.
"""

import hashlib
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).parent


def kvm_unusable():
    """Why pyvirt cannot use KVM here (the one-line error it would print), or None."""
    from pyvirt.errors import PyvirtError
    from pyvirt.kvm.system import Kvm
    try:
        Kvm().close()
    except PyvirtError as err:
        return str(err)
    return None


def toolchain_missing():
    for tool in ("as", "ld"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (Debian package binutils)"
    return None


def build(name, out_dir):
    """Path of the image for tests/guest_x86/<name>.S, built into ``out_dir`` if needed."""
    sources = [HERE / "start.S", HERE / f"{name}.S", HERE / "rom.ld"]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    out_dir = Path(out_dir)
    image = out_dir / f"{name}-{digest}.bin"
    if image.exists():
        return image
    out_dir.mkdir(parents=True, exist_ok=True)
    objects = []
    for src in sources[:2]:
        obj = out_dir / f"{name}-{src.stem}.o"
        subprocess.run(["as", "--64", "-o", str(obj), str(src)], check=True)
        objects.append(str(obj))
    subprocess.run(["ld", "-T", str(sources[2]), "-o", str(image), *objects], check=True)
    assert image.stat().st_size == 64 * 1024, "the ROM image must be exactly 64 KiB"
    return image
