"""The worker pool of the race's engine work (app_pages/compute_pool.py)."""

from __future__ import annotations

import os

import numpy as np
import pool_helpers
import pytest

from app_pages import compute_pool, race_compute, race_work
from app_pages import race_state as rs


@pytest.fixture
def one_worker(monkeypatch):
    monkeypatch.setenv("DL_WORKERS", "1")


def test_the_work_runs_in_another_process(one_worker):
    assert compute_pool.call(os.getpid) != os.getpid()


def test_no_workers_runs_it_here(monkeypatch):
    monkeypatch.setenv("DL_WORKERS", "0")
    assert compute_pool.call(os.getpid) == os.getpid()


def test_default_leaves_a_core_to_the_pages(monkeypatch):
    monkeypatch.delenv("DL_WORKERS", raising=False)
    assert compute_pool.workers() == max(1, len(os.sched_getaffinity(0)) - 1)


def test_a_race_from_a_worker_is_the_race_computed_here(one_worker):
    exp = rs.default_experiment()
    here = race_work.race(exp)
    there = compute_pool.call(race_work.race, exp)
    np.testing.assert_array_equal(there.path, here.path)
    np.testing.assert_array_equal(there.loss, here.loss)
    np.testing.assert_array_equal(there.diverged_at, here.diverged_at)


def test_a_sweep_from_a_worker_is_the_sweep_computed_here(one_worker):
    exp = rs.default_experiment()
    setting = race_compute.sweep_setting(exp, exp.optimizer_keys[0])
    here_id, here = race_work.sweep(setting)
    there_id, there = compute_pool.call(race_work.sweep, setting)
    assert there_id == here_id
    for name in ("offsets", "x", "y", "loss", "diverged_at"):
        np.testing.assert_array_equal(there[name], here[name])


def test_a_worker_that_dies_is_replaced(one_worker, tmp_path):
    flag = tmp_path / "died"
    pid = compute_pool.call(pool_helpers.die_once, str(flag))
    assert flag.exists() and pid != os.getpid()  # answered by a new worker
    assert compute_pool.call(os.getpid) != os.getpid()  # and the pool works on


def test_warm_starts_the_workers_without_waiting(one_worker):
    compute_pool._discard(compute_pool._executor())  # a server that has not started them
    compute_pool.warm()
    pool = compute_pool._pool
    assert pool is not None
    assert compute_pool.call(os.getpid) != os.getpid()
    assert compute_pool._pool is pool  # the same workers serve the calls


def test_workers_do_not_run_the_page_script(one_worker, tmp_path, monkeypatch):
    """Under Streamlit the main module is the page script (app.py); a spawned worker that
    imported it would run the whole app. Here a stand-in script leaves a mark if run."""
    import sys
    import types

    mark = tmp_path / "ran"
    script = tmp_path / "page_script.py"
    script.write_text(f"open({str(mark)!r}, 'w').write('ran')\n")
    page = types.ModuleType("__main__")
    page.__file__ = str(script)
    monkeypatch.setitem(sys.modules, "__main__", page)
    if compute_pool._pool is not None:
        compute_pool._discard(compute_pool._pool)  # new workers, spawned now
    assert compute_pool.call(pool_helpers.main_file) is None
    assert not mark.exists()
    assert sys.modules["__main__"] is page  # the page's main module is back
