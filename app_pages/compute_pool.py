"""Engine work on other cores: a small pool of worker processes.

One Streamlit process runs Python on one core at a time (the GIL): every session's page
runs and the engine's stepping loops (small NumPy arrays, so Python-bound) take turns on
it, and a classroom of students racing fills that one core while the others idle. The
race's engine work (a race, a learning-rate sweep: :mod:`app_pages.race_work`) is a pure
function of a small picklable setting, so it runs in a worker process instead; the page's
thread waits without holding the GIL and the server goes on serving the other sessions.

``DL_WORKERS`` sets the number of workers (default: the cores but one, at least one;
``0`` runs the work in the calling thread). Workers start with the first visit
(:func:`warm`) as fresh interpreters ("spawn": no copy of the server's threads) and live as
long as the server.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import types
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from importlib.machinery import ModuleSpec
from typing import Any, TypeVar

T = TypeVar("T")
# What a spawned worker is told the main module is (see _stand_in_main)
_WORKER_MAIN = types.ModuleType("__main__")
_WORKER_MAIN.__spec__ = ModuleSpec("app_pages.__main__", None)
_pool: ProcessPoolExecutor | None = None
_lock = threading.Lock()


def workers() -> int:
    """Worker processes: ``DL_WORKERS``, else the cores but one (at least one)."""
    value = os.environ.get("DL_WORKERS", "").strip()
    if value:
        return max(0, int(value))
    # the cores this process may use (a container's or taskset's share), not the machine's
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, (cores or 1) - 1)


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=workers(),
                                        mp_context=multiprocessing.get_context("spawn"))
        return _pool


@contextmanager
def _stand_in_main() -> Iterator[None]:
    """While workers may be spawned: a stand-in ``__main__`` module.

    A spawned process first imports its parent's ``__main__``, and under Streamlit that is
    the page script (``app.py``): every worker would run the app. multiprocessing skips
    a main module named like a package's ``__main__``, so the workers import only what
    their work needs. (Held under ``_lock``: the swap is process-wide.)
    """
    saved = sys.modules["__main__"]
    sys.modules["__main__"] = _WORKER_MAIN
    try:
        yield
    finally:
        sys.modules["__main__"] = saved


def _submit(pool: ProcessPoolExecutor, fn: Callable[..., T], *args: Any):
    """``pool.submit``: the call that starts a worker when the pool needs one."""
    with _lock, _stand_in_main():
        return pool.submit(fn, *args)


def warm() -> None:
    """Start the workers now, without waiting for them (a worker takes about a second to
    import the engine: the first student's race should not wait for it)."""
    if workers() and _pool is None:  # once: every page run calls this
        _submit(_executor(), int)


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def call(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a worker process (``fn`` a module-level function, the arguments
    and the result picklable); in this thread when there are no workers.

    A worker that died (the system ended it for memory, say) breaks its pool: the call
    is tried once more in a new pool, and fails only if that one breaks too.
    """
    if workers() == 0:
        return fn(*args)
    pool = _executor()
    try:
        return _submit(pool, fn, *args).result()
    except BrokenProcessPool:
        _discard(pool)
    return _submit(_executor(), fn, *args).result()
