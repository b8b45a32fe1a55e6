"""The main loop: owns I/O file descriptors and fires timers.

It runs in its own thread.  With ``-icount`` the virtual clock has no
relation to host time, so timers are fired by the vCPU loop instead.  Every callback (fd readable, timer expired) is
made with the global device lock held, so device models are
single-threaded code even though vCPU threads access them too (they take
the same lock around MMIO).
"""

import os
import selectors
import threading

MAX_SLEEP_S = 3600.0


class MainLoop:
    def __init__(self, clock, lock=None):
        self.clock = clock
        self.lock = lock or threading.RLock()
        # poll, not epoll: stdin may be a regular file or /dev/null, which epoll refuses
        self._sel = selectors.PollSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._quit = False
        self._bh = []
        clock.notify = self.wake

    def add_reader(self, fd: int, callback) -> None:
        self._sel.register(fd, selectors.EVENT_READ, callback)
        self.wake()

    def remove_reader(self, fd: int) -> None:
        try:
            self._sel.unregister(fd)
        except (KeyError, ValueError):
            pass

    def call_soon(self, callback) -> None:
        """Run ``callback`` in the main-loop thread (QEMU's bottom half)."""
        self._bh.append(callback)
        self.wake()

    def wake(self) -> None:
        try:
            os.write(self._wake_w, b"\0")
        except BlockingIOError:
            pass

    def quit(self) -> None:
        self._quit = True
        self.wake()

    def iterate(self, max_wait_s=None) -> None:
        deadline = self.clock.next_deadline()
        timeout = max_wait_s
        if deadline is not None and self.clock.running and not self.clock.icount:
            # a guest may arm a timer for the end of time (mtimecmp = ~0)
            t = min(MAX_SLEEP_S, max(0.0, (deadline - self.clock.now_ns()) / 1e9))
            timeout = t if timeout is None else min(timeout, t)
        for key, _ in self._sel.select(timeout):
            if key.data is None:
                try:
                    os.read(self._wake_r, 4096)
                except BlockingIOError:
                    pass
                continue
            with self.lock:
                key.data()
        with self.lock:
            while self._bh:
                self._bh.pop(0)()
            if self.clock.running and not self.clock.icount:
                self.clock.run_expired()

    def run(self) -> None:
        while not self._quit:
            self.iterate()

    def start_thread(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name="main-loop", daemon=True)
        t.start()
        return t
