"""A guest process: its threads, the CPU loop, and the calls that need the process model.

Each guest thread is a host thread running a ``UserHart`` and an engine
over the shared ``GuestMemory``; its tid is the host thread's, so futexes,
tgkill and gettid are the host's.  The loop runs the engine in slices and
handles what stopped it: an ecall is a system call, a fault or an illegal
instruction a synchronous signal, and between slices pending signals are
delivered with the riscv64 frame (``signals``).

fork is a fork of the emulator; execve starts the emulator again on the
new program (a RISC-V ELF, or a script whose interpreter is one) with the
same options, and runs anything else on the host, as qemu-user's execve
does.
"""

import ctypes
import os
import resource
import signal
import struct
import sys
import threading
import time

from ..target.riscv.cpu_bits import (EXC_BREAKPOINT, EXC_ECALL_U, EXC_ILLEGAL_INSN,
                                     EXC_INSN_MISALIGNED, EXC_LOAD_MISALIGNED,
                                     EXC_STORE_MISALIGNED, PAGE_FAULT)
from ..target.riscv.hart import CodePages
from ..target.riscv.state import PC
from . import signals as S
from . import strace, syscalls
from .cpu import UserHart
from .elfload import host_path
from .memory import MAP_ANONYMOUS, MAP_PRIVATE, PROT_EXEC, PROT_READ, PROT_WRITE
from .syscalls import E, s32

#: Instructions per engine slice: bounds how late a signal is noticed.
SLICE = 20000
#: ``-engine auto``: a thread starts interpreted and compiles blocks once it
#: has run this many instructions (a shell's short-lived children never do;
#: compiling costs more than it saves there).  PYVIRT_TIER_UP sets it.
TIER_UP_AFTER = int(os.environ.get("PYVIRT_TIER_UP", 4_000_000))
CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_SIGHAND = 0x100, 0x200, 0x400, 0x800
CLONE_VFORK, CLONE_THREAD, CLONE_SETTLS = 0x4000, 0x10000, 0x80000
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID = 0x100000, 0x200000, 0x1000000
SIG_BLOCK, SIG_UNBLOCK, SIG_SETMASK = 0, 1, 2
ALL_SIGNALS = (1 << 64) - 1
FUTEX_WAKE = 1
#: Calls -strace shows before they run (they do not come back).
NO_RETURN = frozenset({93, 94, 221})
#: Calls a signal handler interrupts for good, SA_RESTART or not (Linux's
#: ERESTARTNOHAND): epoll_pwait, pselect6, ppoll, nanosleep, clock_nanosleep,
#: rt_sigsuspend, rt_sigtimedwait.
NEVER_RESTARTED = frozenset({22, 72, 73, 101, 115, 133, 137})
RISCV_MAGIC = b"\x7fELF\x02\x01"
EM_RISCV = 243


class ThreadExit(Exception):
    """The guest thread ended (exit)."""


class Process:
    def __init__(self, mem, *, engine_cls, exe, prefix=None, log=None, strace_on=False,
                 reexec_args=(), tier_up=None):
        self.mem = mem
        self.engine_cls = engine_cls
        #: The engine a thread moves to once it has run TIER_UP_AFTER
        #: instructions (``-engine auto``), or None.
        self.tier_up = tier_up
        self.exe = exe
        self.prefix = prefix
        self.log = log
        self.strace = strace_on
        #: Emulator options a re-exec for the guest's execve keeps (-L, -d, -strace ...).
        self.reexec_args = list(reexec_args)
        self.code_pages = CodePages()
        self.atomic_lock = threading.Lock()
        self.mm_lock = threading.RLock()
        # re-entered by the Python signal handler, which runs on the main thread
        self.lock = threading.RLock()
        self.actions = [S.Action() for _ in range(S.NSIG + 1)]
        self.pending = []           # process-directed (signal, siginfo bytes)
        self.threads = {}
        mem.on_change.append(self._memory_changed)
        self.trampoline = mem.map(0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS)
        mem.write(self.trampoline, S.TRAMPOLINE)
        self._inherit_dispositions()

    # ---- memory changes drop stale translations ------------------------------------------
    def _memory_changed(self, addr, length, remapped):
        pages = self.code_pages
        first, last = addr >> 12, (addr + length - 1) >> 12
        if last - first < 64:
            for ppn in range(first, last + 1):
                if ppn in pages.pages:
                    pages.written(ppn << 12, 1)
        else:
            for ppn in [p for p in pages.pages if first <= p <= last]:
                pages.written(ppn << 12, 1)
        if remapped:
            # Other threads drop their TLBs themselves, between two slices:
            # their engines' caches are not safe to clear under them.
            me = threading.get_native_id()
            for t in list(self.threads.values()):
                if t.tid == me:
                    t.hart.flush_tlb()
                else:
                    t.tlb_stale = True
                    t.hart.exit_request = True

    # ---- signal dispositions --------------------------------------------------------
    def _inherit_dispositions(self):
        """The guest starts with the host's dispositions: what was ignored stays ignored."""
        # Python ignores SIGPIPE and catches SIGINT for itself; a program starts
        # with the defaults.
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
        for sig in range(1, S.NSIG + 1):
            try:
                if signal.getsignal(sig) == signal.SIG_IGN:
                    self.actions[sig].handler = S.SIG_IGN
            except ValueError:
                pass

    def set_action(self, sig, action):
        self.actions[sig] = action
        if sig in S.SYNCHRONOUS:
            return
        if action.handler == S.SIG_DFL:
            host = signal.SIG_DFL
        elif action.handler == S.SIG_IGN:
            host = signal.SIG_IGN
        else:
            host = self._on_host_signal
        try:
            signal.signal(sig, host)
        except (ValueError, OSError):
            pass

    def _on_host_signal(self, sig, frame):
        self.post(sig, S.siginfo(sig))

    def post(self, sig, info, thread=None):
        """Queue a signal for the guest (one thread, or the process)."""
        with self.lock:
            (thread.pending if thread else self.pending).append((sig, info))
        for t in ([thread] if thread else list(self.threads.values())):
            t.hart.exit_request = True

    # ---- running --------------------------------------------------------------------
    def start(self, entry, sp):
        t = GuestThread(self, threading.get_native_id())
        t.hart.words[PC] = entry
        t.hart.words[2] = sp
        t.sigmask = S.mask_of(signal.pthread_sigmask(signal.SIG_BLOCK, []))
        self.threads[t.tid] = t
        t.loop()
        # The main thread exited before the others: the last one to end
        # ends the process; this host thread stays to run signal handlers.
        while True:
            signal.pause()

    def exit_group(self, status):
        if os.environ.get("PYVIRT_STATS"):
            # as the system emulator's stats line (bench/ reads it)
            n = sum(t.hart.state.minstret for t in list(self.threads.values()))
            cpu = time.process_time()
            sys.stderr.write(f"pyvirt-stats: instructions={n} seconds={cpu:.3f} "
                             f"mips={n / max(cpu, 1e-9) / 1e6:.2f}\n")
            sys.stderr.flush()
        if self.log:
            self.log.close()
        sys.stdout.flush()
        os._exit(status & 0xFF)


class GuestThread:
    def __init__(self, proc, tid, parent=None):
        self.proc = proc
        self.mem = proc.mem
        self.tid = tid
        self.hart = UserHart(tid, proc.mem, proc.code_pages, proc.atomic_lock, log=proc.log)
        self.engine = proc.engine_cls(self.hart, proc.log)
        self.sigmask = parent.sigmask if parent else 0
        self.altstack = (0, S.SS_DISABLE, 0)
        self.clear_tid = 0
        self.tlb_stale = False
        self.pending = []
        #: The mask to restore after a signal taken in rt_sigsuspend.
        self.suspend_mask = None
        if parent:
            self.hart.words[:] = parent.hart.words
            self.hart.state.priv = parent.hart.state.priv

    def host_ptr(self, addr, length, need):
        """Host address for a guest buffer the host kernel will access (EFAULT if unmapped)."""
        if not addr:
            return 0
        if not self.mem.ok(addr, max(1, min(length, 1 << 30)), need):
            raise syscalls.Fault
        return self.mem.host(addr)

    # ---- the CPU loop ---------------------------------------------------------------
    def loop(self):
        hart = self.hart
        proc = self.proc
        tier_up = proc.tier_up
        until_tier_up = TIER_UP_AFTER
        try:
            while True:
                if self.tlb_stale:
                    self.tlb_stale = False
                    hart.flush_tlb()
                retired = self.engine.run(SLICE)
                if tier_up is not None:
                    until_tier_up -= retired
                    if until_tier_up <= 0:
                        self.switch_engine(tier_up)
                        tier_up = None
                trap = hart.pending
                if trap is not None:
                    hart.pending = None
                    self.trap(*trap)
                if self.pending or proc.pending:
                    self.deliver()
        except ThreadExit:
            return

    def switch_engine(self, engine_cls):
        self.drop_engine()
        self.engine = engine_cls(self.hart, self.proc.log)

    def drop_engine(self):
        """Unhook this thread's engine from the shared code-page tracking."""
        pages = self.proc.code_pages
        mine = (self.engine, getattr(self.engine, "cold", None))
        pages.listeners[:] = [fn for fn in pages.listeners
                              if getattr(fn, "__self__", None) not in mine]
        self.hart.tlb_flush_listeners.clear()
        getattr(self.hart, "tlb_w_flush_listeners", []).clear()

    def trap(self, cause, tval, pc):
        if cause == EXC_ECALL_U:
            self.syscall(pc)
        elif cause in PAGE_FAULT.values():
            code = S.SEGV_ACCERR if self.hart.mapped(tval) else S.SEGV_MAPERR
            self.fault(S.SIGSEGV, code, tval, pc)
        elif cause == EXC_ILLEGAL_INSN:
            self.fault(S.SIGILL, S.ILL_ILLOPC, pc, pc)
        elif cause == EXC_BREAKPOINT:
            self.fault(S.SIGTRAP, S.TRAP_BRKPT, pc, pc)
        elif cause == EXC_INSN_MISALIGNED:
            self.fault(S.SIGBUS, S.BUS_ADRALN, tval, pc)
        elif cause in (EXC_LOAD_MISALIGNED, EXC_STORE_MISALIGNED):     # atomics only
            self.fault(S.SIGBUS, S.BUS_ADRALN, tval, pc)
        else:       # access faults: nothing else a user hart raises
            self.fault(S.SIGSEGV, S.SEGV_ACCERR, tval, pc)

    def syscall(self, pc):
        W = self.hart.words
        nr = W[17]
        args = [W[10], W[11], W[12], W[13], W[14], W[15]]
        W[PC] = pc + 4
        proc = self.proc
        entry = syscalls.TABLE.get(nr)
        call = None
        if proc.strace:
            call = strace.format_call(self, entry, args) if entry else \
                f"{self.tid} Unknown syscall {nr}"
            if nr in NO_RETURN:
                proc.log.write(call)
        r = syscalls.dispatch(self, nr, args)
        if r == -E.EINTR and nr not in NEVER_RESTARTED and self._restart():
            W[PC] = pc
            if call:
                proc.log.write(call + " = ? ERESTARTSYS (restarted)")
            return
        if call and entry and nr not in NO_RETURN:
            proc.log.write(call + strace.format_result(entry, r))
        if r is not None:
            W[10] = r & syscalls.M64

    def _restart(self):
        """After EINTR: restart the call (SA_RESTART or no guest handler to run)?"""
        with self.proc.lock:
            queued = self.pending + self.proc.pending
        for sig, _ in queued:
            action = self.proc.actions[sig]
            if action.handler not in (S.SIG_DFL, S.SIG_IGN) and not self.sigmask & S.sigbit(sig):
                return bool(action.flags & S.SA_RESTART)
        return not queued and self.suspend_mask is None

    # ---- signals ----------------------------------------------------------------------
    def fault(self, sig, code, addr, pc):
        """A synchronous signal from the instruction at ``pc``."""
        action = self.proc.actions[sig]
        W = self.hart.words
        W[PC] = pc
        if action.handler in (S.SIG_DFL, S.SIG_IGN) or self.sigmask & S.sigbit(sig):
            self.die(sig)
        self.run_handler(sig, action, S.siginfo(sig, code, addr=addr))

    def die(self, sig):
        """Terminate the process with ``sig``, as the kernel would.

        As QEMU does, the emulator kills itself with the signal, with core
        dumps off: a core of the emulator is no core of the guest (QEMU
        writes a guest core first when the limit allows, and says so;
        pyvirt writes none).
        """
        if self.proc.log:
            self.proc.log.close()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
        os._exit(128 + sig)

    def deliver(self):
        proc = self.proc
        mask = self.sigmask
        with proc.lock:
            for queue in (self.pending, proc.pending):
                for i, (sig, info) in enumerate(queue):
                    if not mask & S.sigbit(sig):
                        del queue[i]
                        break
                else:
                    continue
                break
            else:
                return
        action = proc.actions[sig]
        if action.handler == S.SIG_IGN:
            return
        if action.handler == S.SIG_DFL:
            if sig not in S.DEFAULT_IGNORE and sig != S.SIGCONT:
                self.die(sig)
            return
        self.run_handler(sig, action, info)

    def run_handler(self, sig, action, info):
        old_mask = self.sigmask if self.suspend_mask is None else self.suspend_mask
        self.suspend_mask = None
        S.setup_frame(self.mem, self.hart, sig, action, info, old_mask, self.altstack,
                      self.hart.words[PC], self.proc.trampoline)
        new_mask = old_mask | action.mask
        if not action.flags & S.SA_NODEFER:
            new_mask |= S.sigbit(sig)
        self.set_mask(new_mask)
        if action.flags & S.SA_RESETHAND:
            self.proc.set_action(sig, S.Action())

    def set_mask(self, mask):
        mask &= ~(S.sigbit(S.SIGKILL) | S.sigbit(S.SIGSTOP))
        self.sigmask = mask
        # Only the main host thread takes host signals (Python runs handlers
        # there, and a blocking call there must be interrupted); the other
        # threads block them all and follow the guest mask here only.
        if threading.current_thread() is threading.main_thread():
            signal.pthread_sigmask(signal.SIG_SETMASK, S.host_set(mask))

    # ---- thread exit --------------------------------------------------------------------
    def exit_thread(self, status):
        """exit: this thread ends; the process when it was the last one."""
        proc = self.proc
        if self.clear_tid and self.mem.ok(self.clear_tid, 4, PROT_WRITE):
            self.mem.write(self.clear_tid, bytes(4))
            syscalls.host("futex", 98, self.mem.host(self.clear_tid), FUTEX_WAKE, 1, 0, 0, 0)
        with proc.lock:
            proc.threads.pop(self.tid, None)
            last = not proc.threads
        if last:
            proc.exit_group(status)
        proc.code_pages.harts.remove(self.hart)
        self.drop_engine()
        raise ThreadExit


# ---- system calls that need the process model -------------------------------------------
def sys_exit(t, a):
    t.exit_thread(a[0])


def sys_exit_group(t, a):
    t.proc.exit_group(a[0])


def sys_set_tid_address(t, a):
    t.clear_tid = a[0]
    return t.tid


def sys_clone(t, a):
    flags, newsp, ptid, tls, ctid = a[0], a[1], a[2], a[3], a[4]
    if flags & CLONE_THREAD:
        return _clone_thread(t, flags, newsp, ptid, tls, ctid)
    pid = os.fork()
    if pid:
        if flags & CLONE_PARENT_SETTID:
            t.mem.write(ptid, struct.pack("<i", pid))
        return pid
    # the child: only this thread goes on
    proc = t.proc
    t.tid = os.getpid()
    proc.threads = {t.tid: t}
    if newsp:
        t.hart.words[2] = newsp
    if flags & CLONE_SETTLS:
        t.hart.words[4] = tls
    if flags & CLONE_CHILD_SETTID:
        t.mem.write(ctid, struct.pack("<i", t.tid))
    if flags & CLONE_CHILD_CLEARTID:
        t.clear_tid = ctid
    t.set_mask(t.sigmask)       # this thread is the child's main thread now
    return 0


def _clone_thread(t, flags, newsp, ptid, tls, ctid):
    proc = t.proc
    started = threading.Event()
    box = {}

    def body():
        child = GuestThread(proc, threading.get_native_id(), parent=t)
        W = child.hart.words
        W[10] = 0
        W[PC] = t.hart.words[PC]
        if newsp:
            W[2] = newsp
        if flags & CLONE_SETTLS:
            W[4] = tls
        if flags & CLONE_CHILD_CLEARTID:
            child.clear_tid = ctid
        if flags & CLONE_CHILD_SETTID:
            t.mem.write(ctid, struct.pack("<i", child.tid))
        if flags & CLONE_PARENT_SETTID:
            t.mem.write(ptid, struct.pack("<i", child.tid))
        with proc.lock:
            proc.threads[child.tid] = child
        signal.pthread_sigmask(signal.SIG_SETMASK, S.host_set(ALL_SIGNALS))
        box["tid"] = child.tid
        started.set()
        child.loop()

    threading.Thread(target=body, daemon=True).start()
    started.wait()
    return box["tid"]


def _read_strings(t, addr):
    out = []
    while addr:
        if not t.mem.ok(addr, 8, PROT_READ):
            raise syscalls.Fault
        p = t.mem.read_u64(addr)
        if not p:
            break
        s = t.mem.cstring(p)
        if s is None:
            raise syscalls.Fault
        out.append(s)
        addr += 8
    return out


def riscv_program(path):
    """Is ``path`` a RISC-V ELF (or unreadable)?"""
    try:
        with open(path, "rb") as f:
            head = f.read(20)
    except OSError:
        return False
    return head.startswith(RISCV_MAGIC) and int.from_bytes(head[18:20], "little") == EM_RISCV


def sys_execve(t, a):
    proc = t.proc
    path = syscalls.guest_path(t, a[0])
    argv = _read_strings(t, a[1])
    envp = _read_strings(t, a[2])
    if not os.path.exists(path):
        return -E.ENOENT
    if not os.access(path, os.X_OK) or os.path.isdir(path):
        return -E.EACCES
    with open(path, "rb") as f:
        head = f.read(256)
    program, args = path, argv[1:]
    if head.startswith(b"#!"):
        words = head[2:].split(b"\n")[0].strip().split(None, 1)
        if not words:
            return -E.ENOEXEC
        interp = host_path(os.fsdecode(words[0]), proc.prefix)
        if riscv_program(interp):
            program = interp
            args = words[1:] + [os.fsencode(path)] + argv[1:]
            argv = [words[0]] + args
    if riscv_program(program):
        cmd = [sys.executable, "-I", "-m", "pyvirt.cli.user_riscv64", *proc.reexec_args,
               "-0", os.fsdecode(argv[0]) if argv else program, program,
               *(os.fsdecode(x) for x in args)]
        target, exec_argv = sys.executable, cmd
    else:
        target, exec_argv = path, argv
    env = dict(x.split(b"=", 1) for x in envp if b"=" in x)
    try:
        os.execve(target, exec_argv, env)
    except OSError as err:
        return -err.errno


def sys_rt_sigaction(t, a):
    sig, act, old = s32(a[0]), a[1], a[2]
    if sig < 1 or sig > S.NSIG or (act and sig in S.UNCATCHABLE):
        return -E.EINVAL
    proc = t.proc
    if old:
        t.mem.write(old, proc.actions[sig].pack())
    if act:
        proc.set_action(sig, S.Action.unpack(t.mem.read(act, S.Action.ACTION.size)))
    return 0


def sys_rt_sigprocmask(t, a):
    how, new, old = a[0], a[1], a[2]
    if old:
        t.mem.write_u64(old, t.sigmask)
    if new:
        m = t.mem.read_u64(new)
        if how == SIG_BLOCK:
            m |= t.sigmask
        elif how == SIG_UNBLOCK:
            m = t.sigmask & ~m
        elif how != SIG_SETMASK:
            return -E.EINVAL
        t.set_mask(m)
    return 0


def sys_rt_sigreturn(t, a):
    mask = S.restore_frame(t.mem, t.hart)
    t.set_mask(mask)
    return None


def sys_rt_sigsuspend(t, a):
    temp = t.mem.read_u64(a[0])
    t.suspend_mask = t.sigmask
    t.sigmask = temp & ~(S.sigbit(S.SIGKILL) | S.sigbit(S.SIGSTOP))
    host_mask = struct.pack("<Q", S.mask_of(S.host_set(temp)))
    buf = ctypes.create_string_buffer(host_mask)
    while not (t.pending or t.proc.pending):
        syscalls.host("rt_sigsuspend", 133, ctypes.addressof(buf), 8)
    t.deliver()
    if t.suspend_mask is not None:       # nothing was delivered after all
        t.set_mask(t.suspend_mask)
        t.suspend_mask = None
    return -E.EINTR


def sys_rt_sigpending(t, a):
    with t.proc.lock:
        queued = S.mask_of(sig for sig, _ in t.pending + t.proc.pending)
    host = S.mask_of(signal.sigpending())
    t.mem.write_u64(a[0], (queued | host) & t.sigmask)
    return 0


def sys_sigaltstack(t, a):
    new, old = a[0], a[1]
    if old:
        ss_sp, flags, size = t.altstack
        on = ss_sp <= t.hart.words[2] < ss_sp + size
        t.mem.write(old, struct.pack("<Qi4xQ", ss_sp, flags | (S.SS_ONSTACK if on else 0), size))
    if new:
        ss_sp, flags, size = struct.unpack("<Qi4xQ", t.mem.read(new, 24))
        t.altstack = (ss_sp, flags & S.SS_DISABLE, size)
    return 0


def _signal_self(t, sig, thread=None):
    """A signal sent to this process: queued here when the guest handles it."""
    action = t.proc.actions[sig]
    if action.handler in (S.SIG_DFL, S.SIG_IGN):
        return None
    t.proc.post(sig, S.siginfo(sig, S.SI_TKILL if thread else S.SI_USER, os.getpid(),
                               os.getuid()), thread)
    return 0


def sys_kill(t, a):
    pid, sig = s32(a[0]), s32(a[1])
    if pid == os.getpid() and 0 < sig <= S.NSIG:
        r = _signal_self(t, sig)
        if r is not None:
            return r
    return syscalls.host("kill", 129, pid, sig)


def sys_tgkill(t, a):
    tgid, tid, sig = s32(a[0]), s32(a[1]), s32(a[2])
    target = t.proc.threads.get(tid)
    if tgid == os.getpid() and target and 0 < sig <= S.NSIG:
        r = _signal_self(t, sig, target)
        if r is not None:
            return r
    return syscalls.host("tgkill", 131, tgid, tid, sig)


def sys_tkill(t, a):
    return sys_tgkill(t, [os.getpid(), a[0], a[1]])


syscalls.register_process_calls({
    93: ("exit", "d", sys_exit),
    94: ("exit_group", "d", sys_exit_group),
    96: ("set_tid_address", "p", sys_set_tid_address),
    129: ("kill", "dS", sys_kill),
    130: ("tkill", "dS", sys_tkill),
    131: ("tgkill", "ddS", sys_tgkill),
    132: ("sigaltstack", "pp", sys_sigaltstack),
    133: ("rt_sigsuspend", "pu", sys_rt_sigsuspend),
    134: ("rt_sigaction", "Sppu", sys_rt_sigaction),
    136: ("rt_sigpending", "pu", sys_rt_sigpending),
    135: ("rt_sigprocmask", "dppu", sys_rt_sigprocmask),
    139: ("rt_sigreturn", "", sys_rt_sigreturn),
    220: ("clone", "xpppp", sys_clone),
    221: ("execve", "spp", sys_execve),
})
