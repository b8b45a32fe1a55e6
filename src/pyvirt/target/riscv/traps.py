"""Exceptions used for control flow out of instruction execution."""


class Trap(Exception):
    """A synchronous exception: the instruction does not retire."""
    __slots__ = ("cause", "tval")

    def __init__(self, cause, tval=0):
        self.cause = cause
        self.tval = tval


# Kinds of BlockExit
EXIT_NEXT = 0      # the instruction retired; continue at pc in a fresh block
EXIT_WFI = 1       # retired wfi: sleep until an interrupt is pending
EXIT_RETRY = 2     # not retired: synchronise counters, then re-execute pc
EXIT_IO = 3        # not retired: synchronise counters, then run this one
                   # instruction alone with device access allowed (icount)


class BlockExit(Exception):
    """Leave the current block (state that blocks depend on changed)."""
    __slots__ = ("pc", "kind")

    def __init__(self, pc, kind=EXIT_NEXT):
        self.pc = pc
        self.kind = kind
