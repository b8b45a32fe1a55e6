"""Guest signals: dispositions, the riscv64 signal frame, sigreturn.

Signal numbers, sigset_t (64 bits) and the SA_* flags are the same on the
riscv64 and x86-64 ABIs (both asm-generic), so host signals are guest
signals.  The host disposition mirrors the guest's: SIG_DFL and SIG_IGN
are set on the host (the kernel then terminates, stops or ignores exactly
as it would for the guest, and SIG_IGN survives execve), and for a guest
handler a Python handler queues the signal for the guest.  The guest's
blocked set is mirrored on the host thread too, so a blocked signal stays
pending in the host kernel until the guest unblocks it.  Synchronous
signals (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP) come from the guest's
own faults and are never taken over on the host: a host fault there is a
bug in the emulator, and Python must still crash on it.

The frame is Linux's ``struct rt_sigframe`` for riscv64
(arch/riscv/kernel/signal.c): siginfo, then a ucontext whose mcontext is
``user_regs_struct`` (pc, x1..x31) and the F/D state (f0..f31, fcsr).
The handler returns through a two-instruction trampoline page
(``li a7, 139; ecall``) the loader maps, as the kernel's vDSO provides.
"""

import signal
import struct
from dataclasses import dataclass

from ..target.riscv.state import F_BASE, PC

NSIG = 64
SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE = 1, 2, 3, 4, 5, 6, 7, 8
SIGKILL, SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM = 9, 10, 11, 12, 13, 14, 15
SIGCHLD, SIGCONT, SIGSTOP = 17, 18, 19
SYNCHRONOUS = frozenset({SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV})
UNCATCHABLE = frozenset({SIGKILL, SIGSTOP})
#: Signals whose default action is to do nothing.
DEFAULT_IGNORE = frozenset({SIGCHLD, 23, 28})     # SIGCHLD, SIGURG, SIGWINCH

SIG_DFL, SIG_IGN = 0, 1
SA_SIGINFO = 0x4
SA_ONSTACK = 0x08000000
SA_RESTART = 0x10000000
SA_NODEFER = 0x40000000
SA_RESETHAND = 0x80000000
SS_ONSTACK, SS_DISABLE = 1, 2

SI_USER, SI_TKILL = 0, -6
#: si_code of synchronous faults.
SEGV_MAPERR, SEGV_ACCERR = 1, 2
ILL_ILLOPC = 1
BUS_ADRALN = 1
TRAP_BRKPT = 1

# struct rt_sigframe layout
SIGINFO_SIZE = 128
UC_STACK = 16           # ucontext.uc_stack
UC_SIGMASK = 40
UC_MCONTEXT = 176       # mcontext is 16-byte aligned after the 1024-bit sigmask area
FP_STATE = UC_MCONTEXT + 32 * 8
FCSR = FP_STATE + 32 * 8
UCONTEXT_SIZE = UC_MCONTEXT + 32 * 8 + 528     # regs + union __riscv_fp_state
FRAME_SIZE = SIGINFO_SIZE + UCONTEXT_SIZE
#: li a7, 139 (rt_sigreturn); ecall
TRAMPOLINE = struct.pack("<II", 0x08B00893, 0x00000073)

SIGNAL_NAMES = {s.value: s.name for s in signal.Signals
                if s.name.startswith("SIG") and not s.name.startswith("SIG_")}


def signal_name(sig):
    return SIGNAL_NAMES.get(sig, str(sig))


@dataclass
class Action:
    handler: int = SIG_DFL
    flags: int = 0
    mask: int = 0

    ACTION = struct.Struct("<QQQ")      # riscv64 has no sa_restorer

    def pack(self):
        return self.ACTION.pack(self.handler, self.flags, self.mask)

    @classmethod
    def unpack(cls, data):
        return cls(*cls.ACTION.unpack(data))


def sigbit(sig):
    return 1 << (sig - 1)


def host_set(mask):
    """The host signals to block for a guest mask (never synchronous or uncatchable ones)."""
    return {s for s in _HOST_BLOCKABLE if mask & sigbit(s)}


_HOST_BLOCKABLE = sorted(set(signal.valid_signals()) - SYNCHRONOUS - UNCATCHABLE)


def mask_of(sigs):
    m = 0
    for s in sigs:
        m |= sigbit(int(s))
    return m


def siginfo(sig, code=SI_USER, pid=0, uid=0, addr=None, status=None):
    info = bytearray(SIGINFO_SIZE)
    struct.pack_into("<iii", info, 0, sig, 0, code)
    if addr is not None:
        struct.pack_into("<Q", info, 16, addr)
    else:
        struct.pack_into("<iI", info, 16, pid, uid)
        if status is not None:
            struct.pack_into("<i", info, 24, status)
    return bytes(info)


def setup_frame(mem, hart, sig, action, info, old_mask, altstack, pc, trampoline):
    """Push an rt_sigframe and point the hart at the handler."""
    W = hart.words
    sp = W[2]
    ss_sp, ss_flags, ss_size = altstack
    if action.flags & SA_ONSTACK and ss_size and not ss_sp <= sp < ss_sp + ss_size \
            and not ss_flags & SS_DISABLE:
        sp = ss_sp + ss_size
    frame = (sp - FRAME_SIZE) & ~15
    buf = bytearray(FRAME_SIZE)
    buf[:SIGINFO_SIZE] = info
    uc = SIGINFO_SIZE
    struct.pack_into("<QiiQ", buf, uc + UC_STACK, ss_sp, ss_flags, 0, ss_size)
    struct.pack_into("<Q", buf, uc + UC_SIGMASK, old_mask)
    regs = [pc] + [W[i] for i in range(1, 32)]
    struct.pack_into("<32Q", buf, uc + UC_MCONTEXT, *regs)
    struct.pack_into("<32Q", buf, uc + FP_STATE, *(W[F_BASE + i] for i in range(32)))
    st = hart.state
    struct.pack_into("<I", buf, uc + FCSR, (st.frm << 5) | st.fflags)
    mem.write(frame, bytes(buf))
    W[2] = frame
    W[1] = trampoline
    W[10] = sig
    W[11] = frame
    W[12] = frame + uc
    W[PC] = action.handler


def restore_frame(mem, hart):
    """rt_sigreturn: registers from the frame at sp; returns the saved signal mask."""
    W = hart.words
    uc = W[2] + SIGINFO_SIZE
    data = mem.read(uc, UCONTEXT_SIZE)
    regs = struct.unpack_from("<32Q", data, UC_MCONTEXT)
    W[PC] = regs[0]
    for i in range(1, 32):
        W[i] = regs[i]
    fregs = struct.unpack_from("<32Q", data, FP_STATE)
    for i in range(32):
        W[F_BASE + i] = fregs[i]
    fcsr = struct.unpack_from("<I", data, FCSR)[0]
    hart.state.fflags = fcsr & 31
    hart.state.frm = (fcsr >> 5) & 7
    return struct.unpack_from("<Q", data, UC_SIGMASK)[0]
