"""Functions for tests/app/test_compute_pool.py that worker processes import by name."""

from __future__ import annotations

import os
from pathlib import Path


def die_once(flag: str) -> int:
    """End this worker the first time (as the system ends a process), then answer."""
    path = Path(flag)
    if not path.exists():
        path.write_text("died")
        os._exit(1)
    return os.getpid()


def main_file() -> str | None:
    """The file this worker ran as its main module (None: none)."""
    import sys

    main = sys.modules.get("__mp_main__")
    return getattr(main, "__file__", None) if main is not None else None
