"""The round-robin vCPU loop: all harts on one thread, as QEMU's
tcg-accel-ops-rr.c.

Each hart runs a slice of instructions in turn.  A hart that executed
``wfi`` with nothing pending is skipped until one of its interrupt lines
changes; when every hart is waiting the thread sleeps on the shared wake
event (set by interrupt lines, which the main-loop thread raises from
timers and I/O) instead of spinning.
"""

import threading

SLICE = 20000          # instructions per hart per turn
IDLE_WAIT_S = 0.05     # upper bound on a sleep, so stop requests are seen


class RoundRobin:
    def __init__(self, engines):
        self.engines = engines
        self.wake = threading.Event()
        for e in engines:
            e.hart.wake = self.wake
        self._stop = threading.Event()
        self._running = threading.Event()
        self.executed = 0

    def stop(self):
        """Ask the loop to return (from any thread)."""
        self._stop.set()
        self._running.set()
        self.wake.set()

    def pause(self):
        self._running.clear()

    def resume(self):
        self._running.set()
        self.wake.set()

    def run(self, running=True):
        if running:
            self._running.set()
        stop = self._stop
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
                self.executed += engine.run(SLICE)
                if not hart.waiting:
                    idle = False
                if stop.is_set():
                    return
            if idle:
                self.wake.wait(IDLE_WAIT_S)
