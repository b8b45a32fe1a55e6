"""The TCG engines every front end can run a hart with, by the name
``-accel tcg,engine=NAME`` gives them.

Each engine is a class built as ``Engine(hart, log, disas)`` with
``run(budget)`` returning the instructions retired; ``interp`` is the
reference the others are checked against.
"""

import platform

from ..target.riscv.interp import Interpreter
from .pygen import PythonEngine

ENGINES = {"interp": Interpreter, "python": PythonEngine}
if platform.machine() in ("x86_64", "AMD64"):
    from .x86_64.engine import NativeEngine
    ENGINES["native"] = NativeEngine
#: What ``-accel tcg`` without an engine runs: the fastest the host has.
DEFAULT_ENGINE = "native" if "native" in ENGINES else "python"
