"""A minimal busybox initramfs: a root shell on the guest's console.

The archive holds busybox (Debian's static riscv64 build) and an
``/init`` script that installs the applet links, mounts proc, sysfs and
devtmpfs, prints READY_MARKER and runs a shell on the console, started
again whenever it exits so that init never dies. Tests wait for the
marker, then type commands (``uname -m``, ``poweroff -f``...).
"""

import gzip

from pyvirt.images.cpio import char_device, directory, newc_archive, regular_file

READY_MARKER = "pyvirt-initramfs: ready"

INIT_SCRIPT = f"""\
#!/bin/busybox sh
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "{READY_MARKER}"
# cttyhack gives the shell the console as its controlling terminal, so
# that ^C and job control work.
while true; do
    setsid cttyhack sh
done
"""

_DIRECTORIES = ("bin", "sbin", "usr", "usr/bin", "usr/sbin", "dev", "proc", "sys", "root")


def build_initramfs(busybox: bytes) -> bytes:
    """The gzip-compressed newc initramfs around the ``busybox`` binary."""
    entries = [
        *(directory(name) for name in _DIRECTORIES),
        directory("tmp", perm=0o1777),
        # The kernel opens /dev/console for init's stdio before /init runs.
        char_device("dev/console", 5, 1),
        regular_file("bin/busybox", busybox, perm=0o755),
        regular_file("init", INIT_SCRIPT.encode(), perm=0o755),
    ]
    return gzip.compress(newc_archive(entries), mtime=0)
