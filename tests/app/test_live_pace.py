"""The pace of live training (app_pages/live_pace.py): the period keeps every live session
of a process within its share of the core, n · c̄ / p ≤ share."""

from __future__ import annotations

import threading

import pytest

from app_pages.live_pace import LivePace


def test_alone_the_period_is_the_shortest():
    pace = LivePace(share=0.5, min_period=0.6, max_period=3.0, window=6.0)
    assert pace.period(now=0.0) == 0.6  # nobody trains
    pace.record("a", 0.02, now=0.0)
    assert pace.period(now=0.1) == 0.6  # 1 · 0.02 / 0.5 = 0.04 s: below the floor


@pytest.mark.parametrize("n, cpu", [(30, 0.02), (40, 0.03), (25, 0.04)])
def test_many_sessions_share_the_core(n, cpu):
    pace = LivePace(share=0.5, min_period=0.6, max_period=3.0, window=6.0)
    for i in range(n):
        pace.record(f"s{i}", cpu, now=0.01 * i)
    period = pace.period(now=1.0)
    assert period == pytest.approx(n * cpu / 0.5)  # written out: n · c̄ / share
    assert n * cpu / period == pytest.approx(0.5)  # so together they use the share


def test_the_period_has_a_ceiling_and_sessions_that_stopped_are_forgotten():
    pace = LivePace(share=0.5, min_period=0.6, max_period=3.0, window=6.0)
    for i in range(100):
        pace.record(f"s{i}", 0.05, now=0.0)
    assert pace.period(now=1.0) == 3.0  # 100 · 0.05 / 0.5 = 10 s: capped
    assert pace.load(now=1.0) == (100, pytest.approx(0.05))
    pace.record("last", 0.01, now=10.0)  # the others stopped more than a window ago
    assert pace.load(now=10.0) == (1, pytest.approx(0.01))
    assert pace.period(now=10.0) == 0.6


def test_mean_cost_counts_every_tick_of_a_session():
    pace = LivePace(share=0.5, min_period=0.1, max_period=3.0, window=6.0)
    pace.record("a", 0.01, now=0.0)
    pace.record("a", 0.03, now=0.5)
    pace.record("b", 0.05, now=0.7)
    assert pace.load(now=1.0) == (2, pytest.approx(0.03))
    assert pace.period(now=1.0) == pytest.approx(2 * 0.03 / 0.5)


def test_records_from_many_threads_are_all_kept():
    pace = LivePace(window=1e9)

    def work(k: int) -> None:
        for j in range(500):
            pace.record(f"t{k}", 0.001, now=float(j))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    n, mean = pace.load(now=500.0)
    assert n == 8 and mean == pytest.approx(0.001)
    assert len(pace._ticks) == 8 * 500
