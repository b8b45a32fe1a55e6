"""The on-disk cache of guest images, and exclusive access to it.

Fetched and built images live under ``$PYVIRT_CACHE`` if set, else
``$XDG_CACHE_HOME/pyvirt`` (``~/.cache/pyvirt``). They are never part of
the source tree.
"""

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_ENV = "PYVIRT_CACHE"


def cache_dir() -> Path:
    """The root of pyvirt's cache (not created here)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "pyvirt"


@contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``directory`` so that two processes
    filling the same cache (parallel test runs, say) take turns."""
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
