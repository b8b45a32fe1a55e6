"""What every system front end does around its Session: parse, run, and turn
user mistakes into one line on stderr with exit status 1."""

import os
import signal
import sys
import time

from ..errors import PyvirtError
from .options import parse_args


def listing(title, items):
    """``-machine help`` style output: a title, then name and description columns."""
    return "\n".join([title] + [f"{k:<20} {v}" for k, v in items.items()])


def select_machine(opts, machines, default):
    """``-machine``: (type, its other properties); ``help`` lists ``machines`` and exits."""
    props = dict(opts.machine or {})
    mtype = props.pop("type", default)
    if mtype == "help":
        print(listing("Supported machines are:", machines))
        raise SystemExit(0)
    if mtype not in machines:
        raise PyvirtError(f"unsupported machine type '{mtype}' (use -machine help to list)")
    return mtype, props


def device_options(opts, devices):
    """``-device``: (driver, its other properties) of each; ``help`` lists
    ``devices`` and exits, a driver not in ``devices`` is an error."""
    for dev in opts.devices:
        dev = dict(dev)
        driver = dev.pop("driver", None)
        if driver == "help":
            print(listing("Available devices:", devices))
            raise SystemExit(0)
        if driver not in devices:
            raise PyvirtError(f"-device {driver}: '{driver}' is not a valid device model name")
        yield driver, dev


def run_front_end(prog, accepted, make_session, print_stats=None, argv=None):
    """Parse ``argv`` (default: sys.argv), run ``make_session(opts)``, return the exit status.

    ``print_stats(session, started)``, if given, runs when PYVIRT_STATS is set.
    """
    argv = sys.argv[1:] if argv is None else argv
    session = None
    started = time.monotonic()
    try:
        opts = parse_args(argv, prog=prog, accept=accepted)
        session = make_session(opts)
        status = session.run()
        if print_stats is not None and os.environ.get("PYVIRT_STATS"):
            print_stats(session, started)
        return status
    except PyvirtError as err:
        print(f"{prog}: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{prog}: terminating on signal {signal.SIGINT.value}", file=sys.stderr)
        return 0
    finally:
        if session is not None:
            session.close()
