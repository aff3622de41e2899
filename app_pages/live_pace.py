"""The pace of live training: how long a playing browser waits before it asks for the next
tick.

The browser clocks live training (``static/canvas/plot.js``: a payload's ``tick``). It asks
for the next tick a period after the last answer arrived, so it never has more than one
request waiting, however busy the server is. The server chooses the period.

One server process runs Python on one core at a time, shared by every student it serves.
Live training may take a share ``LIVE_SHARE`` of that core; the rest stays free for clicks
and sliders. With n students training, each tick costing c seconds of CPU, ticks every
p seconds take n·c/p of the core, so

    p = clamp(n · c̄ / LIVE_SHARE, MIN_PERIOD, MAX_PERIOD),

with n the sessions that ticked and c̄ their ticks' mean CPU time over the last ``WINDOW``
seconds. A tick trains the epochs owed since the last one, so a longer period means fewer,
larger ticks at the same epochs per second: the fixed cost of a tick (a fragment run, its
messages) is paid less often. c̄ includes the training, which grows with p; iterating
p ← n·c̄(p)/LIVE_SHARE settles where the training and the ticks fit in the share, or at
``MAX_PERIOD`` when they cannot (then the epochs per second fall: the server is full).
"""

from __future__ import annotations

import threading
import time
from collections import deque

MIN_PERIOD = 0.6    # s: one student alone (the browser shows ≈ 16 frames a second)
MAX_PERIOD = 3.0    # s: a full server; the map and counter still move every 3 s
LIVE_SHARE = 0.5    # of one core, for every live training of this process together
WINDOW = 2 * MAX_PERIOD  # s: long enough to see every playing session at least once


class LivePace:
    """Thread-safe record of recent live ticks (every session of one process) and the
    period that keeps them within their share of the core."""

    def __init__(self, share: float = LIVE_SHARE, min_period: float = MIN_PERIOD,
                 max_period: float = MAX_PERIOD, window: float = WINDOW) -> None:
        self.share, self.min_period, self.max_period = share, min_period, max_period
        self.window = window
        self._ticks: deque[tuple[float, str, float]] = deque()  # (time, session, cpu s)
        self._lock = threading.Lock()

    def _forget_before(self, cutoff: float) -> None:
        while self._ticks and self._ticks[0][0] < cutoff:
            self._ticks.popleft()

    def record(self, session: str, cpu_seconds: float, now: float | None = None) -> None:
        """One tick of ``session`` took ``cpu_seconds`` of CPU."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._ticks.append((now, session, max(float(cpu_seconds), 0.0)))
            self._forget_before(now - self.window)

    def load(self, now: float | None = None) -> tuple[int, float]:
        """(sessions that ticked within the window, their ticks' mean CPU seconds)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            self._forget_before(now - self.window)
            if not self._ticks:
                return 0, 0.0
            sessions = {s for _, s, _ in self._ticks}
            mean = sum(c for _, _, c in self._ticks) / len(self._ticks)
        return len(sessions), mean

    def period(self, now: float | None = None) -> float:
        """Seconds between a session's ticks: n · c̄ / share, within the bounds."""
        n, mean_cpu = self.load(now)
        return min(self.max_period, max(self.min_period, n * mean_cpu / self.share))


PACE = LivePace()  # one per server process: the sessions it serves share its core
