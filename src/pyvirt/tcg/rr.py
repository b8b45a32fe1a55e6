"""The round-robin vCPU loop: all harts on one thread, as QEMU's
tcg-accel-ops-rr.c.

Each hart runs a slice of instructions in turn.  A hart that executed
``wfi`` with nothing pending is skipped until one of its interrupt lines
changes; when every hart is waiting the thread sleeps on the shared wake
event (set by interrupt lines, which the main-loop thread raises from I/O)
instead of spinning.

With an instruction-counting clock (``-icount``) this loop is also the
clock's source of time: slices end at the next timer deadline, expired
timers fire here, and idle time is either slept in host time
(``sleep=on``, QEMU's default) or skipped (``sleep=off``).
"""

import threading
import time

SLICE = 20000          # instructions per hart per turn
IDLE_WAIT_S = 0.05     # upper bound on a sleep, so stop requests are seen


class RoundRobin:
    def __init__(self, engines, clock, lock, *, icount_sleep=True):
        self.engines = engines
        self.clock = clock
        self.lock = lock
        self.icount_sleep = icount_sleep
        self.wake = threading.Event()
        for e in engines:
            e.hart.wake = self.wake
        self._stop = threading.Event()
        self._running = threading.Event()
        self.executed = 0
        self._current = None          # (hart, minstret at slice start)
        if clock.icount:
            clock.icount_source = self._instructions

    def _instructions(self):
        """Instructions retired so far, including the running slice."""
        if self._current is None:
            return self.executed
        hart, start = self._current
        return self.executed + max(0, hart.state.minstret - start)

    def stop(self):
        """Ask the loop to return (from any thread)."""
        self._stop.set()
        self._running.set()
        for e in self.engines:
            e.hart.exit_request = True
        self.wake.set()

    def pause(self):
        self._running.clear()

    def resume(self):
        self._running.set()
        self.wake.set()

    def _budget(self):
        if not self.clock.icount:
            return SLICE
        deadline = self.clock.next_deadline()
        if deadline is None:
            return SLICE
        ahead = (deadline - self.clock.now_ns()) >> self.clock.icount_shift
        return max(1, min(SLICE, ahead))

    def _idle(self):
        clock = self.clock
        if not clock.icount:
            self.wake.wait(IDLE_WAIT_S)
            return
        deadline = clock.next_deadline()
        wait = IDLE_WAIT_S
        if deadline is not None:
            ahead = deadline - clock.now_ns()
            if not self.icount_sleep:
                clock.add_idle(ahead)
                return
            wait = min(wait, max(0, ahead) / 1e9)
        started = time.monotonic_ns()
        self.wake.wait(wait)
        clock.add_idle(time.monotonic_ns() - started)

    def run(self, running=True):
        if running:
            self._running.set()
        stop = self._stop
        icount = self.clock.icount
        while not stop.is_set():
            if not self._running.is_set():
                self._running.wait()
                continue
            self.wake.clear()
            idle = True
            for engine in self.engines:
                hart = engine.hart
                if hart.waiting:
                    st = hart.state
                    if not st.mip & st.mie:
                        continue
                    hart.waiting = False
                self._current = (hart, hart.state.minstret)
                done = engine.run(self._budget())
                self._current = None
                self.executed += done
                if not hart.waiting:
                    idle = False
                if icount:
                    with self.lock:
                        self.clock.run_expired()
                if stop.is_set():
                    return
            if idle:
                self._idle()
                if icount:
                    with self.lock:
                        self.clock.run_expired()
