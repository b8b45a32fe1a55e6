"""A private apt for one foreign Debian architecture and suite.

apt itself resolves, downloads and verifies the packages (against the
host's debian-archive-keyring), but with a configuration that keeps all
of its state (sources list, package lists, downloaded archives, an empty
dpkg status) under one directory of pyvirt's cache: the host's apt
setup is neither read nor touched, and no root is needed.
"""

import os
import pwd
import re
import subprocess
from pathlib import Path

from pyvirt.errors import PyvirtError

MIRROR = "http://deb.debian.org/debian"
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")

# One dependency of `apt-cache depends` output: "  Depends: name" or, for
# one of several alternatives, " |Depends: name". Virtual packages show
# as "<name>" and are left out.
_DEPENDS_LINE = re.compile(r"^\s*\|?(?:Pre)?Depends: ([^<\s]\S*)$", re.MULTILINE)


class AptRoot:
    """apt configured for ``arch`` packages of ``suite``, with all state in ``root``."""

    def __init__(self, root: Path, arch: str, suite: str, mirror: str = MIRROR,
                 keyring: Path = KEYRING):
        self.root = root
        self.arch = arch
        self.suite = suite
        self.mirror = mirror
        self.keyring = keyring

    @property
    def sources_list(self) -> Path:
        return self.root / "sources.list"

    def sources_line(self) -> str:
        return f"deb [arch={self.arch} signed-by={self.keyring}] {self.mirror} {self.suite} main"

    def options(self) -> list[str]:
        """The ``-o`` options that point apt-get and apt-cache at this root."""
        settings = {
            "Dir::Etc::SourceList": self.sources_list,
            "Dir::Etc::SourceParts": "/dev/null",
            "Dir::Etc::Preferences": "/dev/null",
            "Dir::Etc::PreferencesParts": "/dev/null",
            "Dir::State::Lists": self.root / "lists",
            "Dir::State::status": self.root / "status",
            "Dir::Cache": self.root / "apt",
            "APT::Architecture": self.arch,
            "APT::Architectures": self.arch,
            "Acquire::Languages": "none",
            # The lock files live in the host's /var/lib; this root needs none.
            "Debug::NoLocking": "1",
            # apt drops to the _apt user to download, which cannot write
            # into a cache directory that belongs to us.
            "APT::Sandbox::User": pwd.getpwuid(os.geteuid()).pw_name,
        }
        return [arg for key, value in settings.items() for arg in ("-o", f"{key}={value}")]

    def prepare(self) -> None:
        """Create the directories and files apt expects under the root."""
        if not self.keyring.is_file():
            raise PyvirtError(f"{self.keyring} not found: install the Debian package "
                              "debian-archive-keyring")
        for directory in ("lists/partial", "apt/archives/partial"):
            (self.root / directory).mkdir(parents=True, exist_ok=True)
        self.sources_list.write_text(self.sources_line() + "\n")
        (self.root / "status").touch()

    def update(self) -> None:
        """Download the suite's package index (apt-get update)."""
        self._run("apt-get", "update")

    def depends(self, package: str) -> list[str]:
        """The names of the packages ``package`` depends or pre-depends on."""
        output = self._run(
            "apt-cache", "depends", "--no-recommends", "--no-suggests", "--no-conflicts",
            "--no-breaks", "--no-replaces", "--no-enhances", package, capture=True)
        return _DEPENDS_LINE.findall(output)

    def download(self, package: str, into: Path) -> Path:
        """Download the .deb of ``package`` into the directory ``into``."""
        into.mkdir(parents=True, exist_ok=True)
        self._run("apt-get", "download", package, cwd=into)
        debs = list(into.glob(f"{package}_*.deb"))
        if len(debs) != 1:
            raise PyvirtError(f"apt-get download {package} left {len(debs)} .deb files in {into}")
        return debs[0]

    def _run(self, tool: str, *args: str, capture: bool = False, cwd: Path | None = None) -> str:
        command = [tool, *self.options(), *args]
        try:
            # apt's progress goes to stderr so that our stdout stays clean.
            result = subprocess.run(command, cwd=cwd, text=True,
                                    stdout=subprocess.PIPE if capture else 2)
        except FileNotFoundError:
            raise PyvirtError(f"{tool} not found: fetching guest images needs Debian's apt") from None
        if result.returncode != 0:
            raise PyvirtError(f"{tool} {' '.join(args)} failed with exit status "
                              f"{result.returncode} (see apt's messages above)")
        return result.stdout or ""


def extract(deb: Path, into: Path) -> None:
    """Unpack the files of the Debian package ``deb`` under ``into``."""
    result = subprocess.run(["dpkg-deb", "-x", str(deb), str(into)],
                            stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise PyvirtError(f"dpkg-deb -x {deb} failed: {result.stderr.strip()}")


def deb_field(deb: Path, field: str) -> str:
    """One control field (``Version``, ``Package``...) of the package ``deb``."""
    result = subprocess.run(["dpkg-deb", "--field", str(deb), field],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        raise PyvirtError(f"dpkg-deb --field {deb} {field} failed: {result.stderr.strip()}")
    return result.stdout.strip()
