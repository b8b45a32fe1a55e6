"""QEMU's command-line syntax, driven by one table of option specs.

Options are words after one or two dashes (``-m`` and ``--m`` alike); an
option that takes an argument always consumes the next word, whatever it
looks like.  Many arguments are QemuOpts-style ``key=value`` lists with an
implied first key (``-M virt,dumpdtb=f.dtb`` is ``type=virt,dumpdtb=f.dtb``);
``,,`` stands for a literal comma and a bare ``key`` means ``key=on``.
Using a single-valued option twice merges its lists (``-M virt -M
dumpdtb=x``) or, for plain values, keeps the last; repeatable options
(``-device``, ``-chardev``, ``-serial`` ...) collect a list.

argparse is not used: it cannot parse single-dash long options, an
argument that starts with a dash (``-append -v``), or QemuOpts lists.

Front ends pass the names of the options they accept; anything else is
``-foo: invalid option``, as in QEMU.  ``-h``, ``-version`` and ``-d help``
print and exit with status 0.
"""

import re
import sys
import types
from dataclasses import dataclass
from typing import Any, Callable

from .. import __version__
from ..errors import PyvirtError

MiB = 1 << 20


class BadValue(Exception):
    """An option argument that does not parse; the caller adds where it was."""


class _PrintAndExit(Exception):
    """An informational argument (``-d help``): print this and exit 0."""


# -- value parsers -----------------------------------------------------------

SIZE_SUFFIXES = {"b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30,
                 "t": 1 << 40, "p": 1 << 50, "e": 1 << 60}
_SIZE = re.compile(r"(0x[0-9a-f]+|\d+(?:\.\d+)?|\.\d+)([bkmgtpe]?)", re.IGNORECASE)


def parse_size(text: str, key: str = "size", *, default_unit: int = 1) -> int:
    """A byte count with an optional K/M/G/T/P/E suffix (powers of 1024).

    A number without a suffix counts ``default_unit``\\ s: bytes for most
    sizes, MiB for ``-m``.  Fractions (``1.5G``) are allowed.
    """
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise BadValue(f"Parameter '{key}' expects a size: a number with an "
                       "optional suffix B, K, M, G, T, P or E")
    number, suffix = match.groups()
    unit = SIZE_SUFFIXES[suffix.lower()] if suffix else default_unit
    value = int(number, 16) * unit if number.lower().startswith("0x") \
        else int(float(number) * unit)
    if value >= 1 << 64:
        raise BadValue(f"Parameter '{key}' expects a size below 2^64")
    return value


def parse_number(text: str, key: str = "value") -> int:
    try:
        value = int(text, 0)
    except ValueError:
        value = -1
    if value < 0:
        raise BadValue(f"Parameter '{key}' expects a number")
    return value


def parse_ram_size(text: str, key: str = "size") -> int:
    return parse_size(text, key, default_unit=MiB)


def key_values(implied: str | None = None, converters: dict | None = None,
               closed: bool = False) -> Callable[[str], dict]:
    """A parser for QemuOpts ``key=value,...`` lists.

    ``implied`` names the key of a first element given without ``key=``;
    ``converters`` maps keys to functions (text, key) -> value; with
    ``closed`` only those keys are allowed.
    """
    converters = converters or {}

    def parse(text: str) -> dict:
        result = {}
        for index, item in enumerate(_split_commas(text)):
            key, eq, value = item.partition("=")
            if not eq:
                if index == 0 and implied is not None:
                    key, value = implied, item
                else:
                    value = "on"
            if not key:
                raise BadValue(f"Invalid parameter '{item}'")
            if closed and key not in converters:
                raise BadValue(f"Invalid parameter '{key}'")
            convert = converters.get(key)
            result[key] = convert(value, key) if convert else value
        return result

    return parse


def _split_commas(text: str) -> list[str]:
    """Split at commas; ``,,`` is a literal comma."""
    items, current, i = [], [], 0
    while i < len(text):
        if text[i] == ",":
            if text[i + 1:i + 2] == ",":
                current.append(",")
                i += 2
                continue
            items.append("".join(current))
            current = []
        else:
            current.append(text[i])
        i += 1
    items.append("".join(current))
    return items


#: ``-d`` items: what each one logs, as in QEMU.
LOG_ITEMS = {
    "out_asm": "show generated host assembly code for each compiled TB",
    "in_asm": "show target assembly code for each compiled TB",
    "op": "show micro ops for each compiled TB",
    "op_opt": "show micro ops after optimization",
    "int": "show interrupts/exceptions in short format",
    "exec": "show trace before each executed TB (lots of logs)",
    "cpu": "show CPU registers before entering a TB (lots of logs)",
    "fpu": "include FPU registers in the 'cpu' logging",
    "mmu": "log MMU-related activities",
    "cpu_reset": "show CPU state before CPU resets",
    "unimp": "log unimplemented functionality",
    "guest_errors": "log when the guest OS does something invalid "
                    "(eg accessing a non-existent register)",
    "page": "dump pages at beginning of user mode emulation",
    "nochain": "do not chain compiled TBs so that \"exec\" and \"cpu\" show "
               "complete traces",
    "strace": "log every user-mode syscall, its input, and its result",
}


def log_items_help() -> str:
    lines = ["Log items (comma separated):"]
    lines += [f"{name:<10} {text}" for name, text in LOG_ITEMS.items()]
    lines.append(f"{'all':<10} all of the above")
    return "\n".join(lines)


def parse_log_items(text: str) -> tuple[str, ...]:
    """``-d in_asm,int``: the items in order, ``all`` expanded."""
    items = []
    for item in text.split(","):
        if item == "help":
            raise _PrintAndExit(log_items_help())
        names = list(LOG_ITEMS) if item == "all" else [item]
        for name in names:
            if name not in LOG_ITEMS:
                raise BadValue(f"unknown logging item '{item}' (see -d help)")
            if name not in items:
                items.append(name)
    return tuple(items)


# -- the option table -------------------------------------------------------

@dataclass(frozen=True)
class OptionSpec:
    name: str                               # as typed after the dash
    help: str
    metavar: str | None = None              # None: a flag, takes no argument
    parse: Callable[[str], Any] = str       # argument text -> value
    repeatable: bool = False                # every use appended to a list
    dest: str | None = None                 # result attribute; default from name,
                                            # plural for repeatable options
    const: Any = True                       # what a flag stores
    aliases: tuple[str, ...] = ()

    @property
    def attr(self) -> str:
        if self.dest:
            return self.dest
        return self.name.replace("-", "_") + ("s" if self.repeatable else "")

    @property
    def default(self):
        if self.repeatable:
            return []
        return False if self.metavar is None and self.const is True else None


_SMP_KEYS = ("cpus", "sockets", "dies", "clusters", "cores", "threads", "maxcpus")

OPTIONS = (
    OptionSpec("h", "display this help and exit", aliases=("help",)),
    OptionSpec("version", "display version information and exit"),
    OptionSpec("machine", "select the emulated machine and set its properties "
               "('-machine help' for a list)", "[type=]name[,prop=value...]",
               key_values("type"), aliases=("M",)),
    OptionSpec("cpu", "select the CPU model ('-cpu help' for a list)", "model"),
    OptionSpec("accel", "select an accelerator and set its properties; repeat "
               "to give fallbacks", "[accel=]name[,prop=value...]",
               key_values("accel"), repeatable=True),
    OptionSpec("smp", "set the number of CPUs and their topology",
               "[cpus=]n[,maxcpus=m][,sockets=s][,cores=c][,threads=t]",
               key_values("cpus", {k: parse_number for k in _SMP_KEYS}, closed=True)),
    OptionSpec("m", "set the guest RAM size (a plain number means MiB)",
               "[size=]megs[,slots=n][,maxmem=size]",
               key_values("size", {"size": parse_ram_size, "slots": parse_number,
                                   "maxmem": parse_size}, closed=True),
               dest="memory"),
    OptionSpec("name", "set the guest name", "[guest=]name[,prop=value...]",
               key_values("guest")),
    OptionSpec("bios", "set the firmware image ('none' for no firmware)", "file"),
    OptionSpec("kernel", "use 'file' as the kernel image", "file"),
    OptionSpec("initrd", "use 'file' as the initial ram disk", "file"),
    OptionSpec("append", "use 'cmdline' as the kernel command line", "cmdline"),
    OptionSpec("dtb", "use 'file' as the device tree image", "file"),
    OptionSpec("device", "add a device ('-device help' for a list)",
               "driver[,prop=value...]", key_values("driver"), repeatable=True),
    OptionSpec("drive", "define a block device", "file=path[,prop=value...]",
               key_values(), repeatable=True),
    OptionSpec("netdev", "define a network back end", "type,id=id[,prop=value...]",
               key_values("type"), repeatable=True),
    OptionSpec("chardev", "define a character device back end",
               "backend,id=id[,prop=value...]", key_values("backend"), repeatable=True),
    OptionSpec("serial", "connect the next serial port to a character device "
               "(mon:stdio, stdio, null, file:path, none ...)", "dev",
               repeatable=True),
    OptionSpec("monitor", "connect the monitor to a character device", "dev",
               repeatable=True),
    OptionSpec("qmp", "connect a QMP monitor to a character device", "dev",
               repeatable=True, dest="qmp_monitors"),
    OptionSpec("debugcon", "connect the debug console to a character device", "dev"),
    OptionSpec("nographic", "no graphical output; serial port and monitor on stdio"),
    OptionSpec("display", "select the display back end (none)",
               "type[,prop=value...]", key_values("type")),
    OptionSpec("nodefaults", "create no default devices"),
    OptionSpec("no-reboot", "exit instead of rebooting"),
    OptionSpec("S", "do not start the CPUs (use 'c' in the monitor)",
               dest="start_paused"),
    OptionSpec("s", "shorthand for -gdb tcp::1234", dest="gdb", const="tcp::1234"),
    OptionSpec("gdb", "wait for a gdb connection on 'dev'", "dev"),
    OptionSpec("d", "log the given items (comma separated; '-d help' for a list)",
               "item1[,...]", parse_log_items, dest="log_items"),
    OptionSpec("D", "write the log to 'file' instead of stderr", "file",
               dest="log_file"),
    OptionSpec("icount", "count instructions to drive the virtual clock",
               "[shift=]N|auto[,prop=value...]", key_values("shift")),
)

_BY_NAME = {name: spec for spec in OPTIONS for name in (spec.name, *spec.aliases)}
_INFO_OPTIONS = ("h", "version")


class Options(types.SimpleNamespace):
    """The parsed command line: one attribute per accepted option.

    Flags are False/True, single-valued options None until given,
    key=value lists are dicts, repeatable options are lists.
    """


def parse_args(argv: list[str], *, prog: str, accept=None, out=None) -> Options:
    """Parse ``argv`` (without the program name) for a front end.

    ``accept`` names the options this front end knows (all by default);
    ``-h`` and ``-version`` are always known.  Informational options print
    to ``out`` and raise SystemExit(0).
    """
    specs = _accepted(accept)
    by_name = {name: spec for spec in specs for name in (spec.name, *spec.aliases)}
    opts = Options(**{spec.attr: spec.default for spec in specs
                      if spec.name not in _INFO_OPTIONS})
    out = out or sys.stdout
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        if not word.startswith("-") or word == "-":
            raise PyvirtError(f"{word}: unexpected argument (disk images are "
                              "given with -drive file=...)")
        name = word[2:] if word.startswith("--") else word[1:]
        spec = by_name.get(name)
        if spec is None:
            raise PyvirtError(f"{word}: invalid option")
        if spec.name in _INFO_OPTIONS:
            print(help_text(prog, specs) if spec.name == "h" else
                  f"{prog} version {__version__}", file=out)
            raise SystemExit(0)
        if spec.metavar is None:
            value = spec.const
        else:
            if i >= len(argv):
                raise PyvirtError(f"{word}: requires an argument")
            text = argv[i]
            i += 1
            try:
                value = spec.parse(text)
            except BadValue as err:
                raise PyvirtError(f"{word} {text}: {err}") from None
            except _PrintAndExit as info:
                print(info, file=out)
                raise SystemExit(0) from None
        _store(opts, spec, value)
    return opts


def _accepted(accept) -> list[OptionSpec]:
    if accept is None:
        return list(OPTIONS)
    names = set(accept) | set(_INFO_OPTIONS)
    unknown = names - set(_BY_NAME)
    if unknown:
        raise ValueError(f"no such options in the table: {sorted(unknown)}")
    return [spec for spec in OPTIONS if spec.name in names
            or names & set(spec.aliases)]


def _store(opts: Options, spec: OptionSpec, value) -> None:
    current = getattr(opts, spec.attr)
    if spec.repeatable:
        current.append(value)
    elif isinstance(value, dict) and isinstance(current, dict):
        current.update(value)
    else:
        setattr(opts, spec.attr, value)


def help_text(prog: str, specs=OPTIONS) -> str:
    lines = [f"usage: {prog} [options]", ""]
    for spec in specs:
        names = ", ".join(f"-{n}" for n in (spec.name, *spec.aliases))
        usage = f"{names} {spec.metavar}" if spec.metavar else names
        lines.append(usage)
        lines.append(f"                {spec.help}")
    return "\n".join(lines)
