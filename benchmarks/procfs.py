"""CPU time and resident memory of a server process and its workers (Linux /proc).

The app runs its engine work in worker processes (app_pages/compute_pool.py): what a server
costs is its whole process tree.
"""

from __future__ import annotations

import os


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                parent = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _sum(pids: list[int], measure) -> float:
    total = 0.0
    for root in pids:
        for p in tree(root):
            try:
                total += measure(p)
            except (OSError, ValueError, IndexError):
                pass  # a worker that ended meanwhile
    return total


def tree_cpu_seconds(pids: list[int]) -> float:
    """CPU seconds of the processes ``pids`` and all their descendants."""
    return _sum(pids, cpu_seconds)


def tree_rss_mb(pids: list[int]) -> float:
    """Resident memory (MB) of the processes ``pids`` and all their descendants."""
    return _sum(pids, rss_mb)
