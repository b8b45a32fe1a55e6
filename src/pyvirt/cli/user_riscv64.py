"""pyvirt-riscv64: run a riscv64 Linux program on this host (QEMU's qemu-riscv64).

``pyvirt-riscv64 [options] program [arguments...]``: options come first,
one word each, with their argument in the next word, and end at the first
word that is not an option (qemu-user's own parser, not the system
emulator's table: ``-L`` and ``-E`` take plain values).  Each option has a
``QEMU_*`` environment variable as in qemu-user.  ``-engine NAME`` (or
``PYVIRT_ENGINE``) picks the TCG engine; it is pyvirt's own, since
qemu-user has no ``-accel``.
"""

import os
import sys

from ..core.log import Log
from ..errors import PyvirtError
from ..linux_user.elfload import DEFAULT_STACK, LoadError, load_program
from ..linux_user.memory import DEFAULT_SIZE, GuestMemory
from ..linux_user.process import Process
from .options import BadValue, parse_size

PROG = "pyvirt-riscv64"
LOG_ITEMS = ("in_asm", "out_asm", "int", "exec", "cpu", "unimp", "guest_errors", "strace")
USAGE = f"""usage: {PROG} [options] program [arguments...]
Linux CPU emulator (compiled for riscv64 emulation)

Options and associated environment variables:

Argument             Env-variable      Description
-h                                     print this help
-L path              QEMU_LD_PREFIX    set the elf interpreter prefix to 'path'
-s size              QEMU_STACK_SIZE   set the stack size to 'size' bytes
-cpu model           QEMU_CPU          select CPU (-cpu help for list)
-E var=value         QEMU_SET_ENV      sets targets environment variable (see below)
-U var               QEMU_UNSET_ENV    unsets targets environment variable (see below)
-0 argv0             QEMU_ARGV0        forces target process argv[0] to be 'argv0'
-B address           QEMU_GUEST_BASE   set guest_base address to 'address'
-R size              QEMU_RESERVED_VA  reserve 'size' bytes for guest virtual address space
-d item[,...]        QEMU_LOG          enable logging of specified items (-d help for list)
-D logfile           QEMU_LOG_FILENAME write logs to 'logfile' (default stderr)
-g port              QEMU_GDB          wait gdb connection to 'port' (not yet supported)
-strace              QEMU_STRACE       log system calls
-engine name         PYVIRT_ENGINE     TCG engine: {{engines}}
-version             QEMU_VERSION      display version information and exit
"""
CPUS = ("rv64", "max")
#: ``-engine auto`` (the default): each thread starts in the interpreter and
#: moves to a compiling engine (native where the host has it) after a few
#: million instructions.  Programs under user mode are often a shell's
#: short-lived children, where the interpreter wins (busybox applet script:
#: 24 s interp, 40 s python), and sometimes long computations, where
#: compiled blocks win (sha256sum of 1 MB: 55 s interp, 16 s python).
DEFAULT_ENGINE = "auto"
AUTO_FIRST = "interp"
AUTO_THEN = ("native", "python")

#: option -> (takes an argument, environment variable)
OPTIONS = {
    "h": (False, None), "help": (False, None), "L": (True, "QEMU_LD_PREFIX"),
    "s": (True, "QEMU_STACK_SIZE"), "cpu": (True, "QEMU_CPU"), "E": (True, "QEMU_SET_ENV"),
    "U": (True, "QEMU_UNSET_ENV"), "0": (True, "QEMU_ARGV0"), "B": (True, "QEMU_GUEST_BASE"),
    "R": (True, "QEMU_RESERVED_VA"), "d": (True, "QEMU_LOG"), "D": (True, "QEMU_LOG_FILENAME"),
    "g": (True, "QEMU_GDB"), "strace": (False, "QEMU_STRACE"), "engine": (True, "PYVIRT_ENGINE"),
    "version": (False, "QEMU_VERSION"),
}
#: Options a re-exec for the guest's execve passes on.
INHERITED = ("L", "s", "cpu", "R", "d", "strace", "engine")


def engines():
    from ..tcg.engines import ENGINES
    return ENGINES


def parse(argv, environ):
    """({option: [values]}, program arguments)."""
    opts = {}
    for name, (_, env) in OPTIONS.items():
        if env and env in environ:
            value = environ[env]
            if name in ("E", "U"):
                opts[name] = value.split(",")
            else:
                opts[name] = [value]
    i = 0
    while i < len(argv) and argv[i].startswith("-") and argv[i] != "-":
        word = argv[i].lstrip("-")
        i += 1
        if word == "":
            break
        if word not in OPTIONS:
            raise PyvirtError(f"unknown option '{word}'")
        takes, _ = OPTIONS[word]
        if takes:
            if i >= len(argv):
                raise PyvirtError(f"missing argument to option '{word}'")
            opts.setdefault(word, []).append(argv[i])
            i += 1
        else:
            opts[word] = [""]
    return opts, argv[i:]


def last(opts, name, default=None):
    return opts[name][-1] if name in opts else default


def size_option(opts, name, default):
    try:
        return parse_size(last(opts, name), name) if name in opts else default
    except BadValue as err:
        raise PyvirtError(f"-{name}: {err}") from None


def run(argv, environ):
    opts, args = parse(argv, environ)
    available = engines()
    if "h" in opts or "help" in opts:
        print(USAGE.format(engines=", ".join(["auto", *available])))
        sys.exit(0)
    if "version" in opts:
        from .. import __version__
        print(f"{PROG} version {__version__} (riscv64 Linux user mode)")
        sys.exit(0)
    items = [x for x in last(opts, "d", "").split(",") if x]
    if "help" in items:
        print("Log items (comma separated):\n" + "\n".join(LOG_ITEMS))
        sys.exit(0)
    for item in items:
        if item not in LOG_ITEMS:
            raise PyvirtError(f"-d {item}: unknown log item (use -d help to list)")
    cpu = last(opts, "cpu", "rv64")
    if cpu == "help":
        print("\n".join(CPUS))
        sys.exit(0)
    if cpu not in CPUS:
        raise PyvirtError(f"unable to find CPU model '{cpu}'")
    if "g" in opts:
        raise PyvirtError("-g: the gdb stub is not supported yet")
    engine = last(opts, "engine", DEFAULT_ENGINE)
    if engine not in available and engine != "auto":
        raise PyvirtError(f"-engine {engine}: unknown engine "
                          f"(available: auto, {', '.join(available)})")
    if engine == "auto":
        first = AUTO_FIRST
        tier_up = available[next(e for e in AUTO_THEN if e in available)]
    else:
        first, tier_up = engine, None
    if not args:
        raise PyvirtError("no user program specified")
    strace_on = "strace" in opts or "strace" in items
    log = Log([x for x in items if x != "strace"], last(opts, "D"))
    env = dict(environ)
    for var in opts.get("U", []):
        env.pop(var, None)
    for assignment in opts.get("E", []):
        name, _, value = assignment.partition("=")
        env[name] = value
    program = args[0]
    guest_argv = [last(opts, "0", program)] + args[1:]
    reexec = []
    for name in INHERITED:
        for value in opts.get(name, []):
            reexec += [f"-{name}"] + ([value] if OPTIONS[name][0] else [])
    base = last(opts, "B")
    try:
        base = int(base, 0) if base is not None else None
    except ValueError:
        raise PyvirtError(f"-B {base}: expected an address") from None
    mem = GuestMemory(size_option(opts, "R", DEFAULT_SIZE), base)
    proc = Process(mem, engine_cls=available[first], tier_up=tier_up,
                   exe=os.path.abspath(program), prefix=last(opts, "L"), log=log,
                   strace_on=strace_on, reexec_args=reexec)
    loaded = load_program(mem, program, guest_argv, [f"{k}={v}" for k, v in env.items()],
                          prefix=proc.prefix, stack_size=size_option(opts, "s", DEFAULT_STACK))
    proc.start(loaded.entry, loaded.sp)


def main(argv=None):
    try:
        run(sys.argv[1:] if argv is None else argv, os.environ)
    except LoadError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        sys.exit(err.status)
    except PyvirtError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
