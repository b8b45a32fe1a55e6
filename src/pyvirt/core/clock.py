"""The guest's virtual clock and timers scheduled on it.

Devices never sleep: they arm a ``Timer`` with an absolute deadline on the
virtual clock (nanoseconds) and get a callback when it passes.  The main
loop fires expired timers and sleeps until the next deadline.

Two ways to keep time, as QEMU's QEMU_CLOCK_VIRTUAL:

- host time (``icount_shift=None``): follows host monotonic time while the
  machine runs, stands still while it is stopped;
- instruction counting (``-icount shift=N``): 2**N ns per guest
  instruction retired, counted by the vCPU loop (``icount_source``), plus
  the time the vCPUs spent idle (``add_idle``).  An emulator far slower
  than hardware needs this: on host time a Linux guest at a few MIPS
  spends every cycle in its timer tick and never boots.  Timers then fire
  from the vCPU loop, which also ends its slices at the next deadline.
"""

import heapq
import itertools
import threading
import time

NS_PER_SEC = 1_000_000_000


class Timer:
    __slots__ = ("clock", "callback", "deadline", "_seq")

    def __init__(self, clock, callback):
        self.clock = clock
        self.callback = callback
        self.deadline = None
        self._seq = None

    def arm(self, deadline_ns: int) -> None:
        """Fire ``callback()`` once the clock reaches ``deadline_ns``."""
        self.clock._arm(self, deadline_ns)

    def cancel(self) -> None:
        self.deadline = None
        self._seq = None

    @property
    def pending(self) -> bool:
        return self.deadline is not None


class VirtualClock:
    def __init__(self, icount_shift=None):
        self.icount_shift = icount_shift
        #: With icount: a callable giving the instructions retired so far.
        self.icount_source = lambda: 0
        self._idle_ns = 0
        self._base = time.monotonic_ns()
        self._stopped_at = None
        self._heap = []
        self._counter = itertools.count()
        self._lock = threading.Lock()
        #: Called (from any thread) when a timer is armed earlier than the
        #: current earliest deadline, so a sleeping main loop can re-plan.
        self.notify = None

    def now_ns(self) -> int:
        if self.icount_shift is not None:
            return (self.icount_source() << self.icount_shift) + self._idle_ns
        if self._stopped_at is not None:
            return self._stopped_at
        return time.monotonic_ns() - self._base

    @property
    def icount(self) -> bool:
        return self.icount_shift is not None

    def add_idle(self, ns: int) -> None:
        """icount: the vCPUs slept ``ns`` (or skipped ahead to a deadline)."""
        self._idle_ns += max(0, ns)

    def stop(self) -> None:
        if self._stopped_at is None:
            self._stopped_at = self.now_ns()

    def start(self) -> None:
        if self._stopped_at is not None:
            self._base = time.monotonic_ns() - self._stopped_at
            self._stopped_at = None

    @property
    def running(self) -> bool:
        return self._stopped_at is None

    def timer(self, callback) -> Timer:
        return Timer(self, callback)

    def _arm(self, timer, deadline):
        with self._lock:
            seq = next(self._counter)
            timer.deadline = deadline
            timer._seq = seq
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (deadline, seq, timer))
        if self.notify is not None and (earliest is None or deadline < earliest):
            self.notify()

    def next_deadline(self):
        """The earliest armed deadline, or None."""
        with self._lock:
            heap = self._heap
            while heap and heap[0][2]._seq != heap[0][1]:
                heapq.heappop(heap)
            return heap[0][0] if heap else None

    def run_expired(self) -> None:
        """Call the callbacks of all timers whose deadline has passed."""
        while True:
            with self._lock:
                heap = self._heap
                while heap and heap[0][2]._seq != heap[0][1]:
                    heapq.heappop(heap)
                if not heap or heap[0][0] > self.now_ns():
                    return
                _, _, timer = heapq.heappop(heap)
                timer.deadline = None
                timer._seq = None
            timer.callback()
