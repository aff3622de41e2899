"""Parity with torch.optim in every test run, without torch: the engine against trajectories
torch produced (tests/engine/golden/, made by tests/engine/make_torch_golden.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine import optimizers
from tests.engine.make_torch_golden import GOLDEN, SHAPE, STEPS, start_point
from tests.engine.torch_reference import CASES, gradient, lr_scale_at

ROOT = Path(__file__).resolve().parents[2]
DATA = json.loads(GOLDEN.read_text(encoding="utf-8"))
RTOL, ATOL = 1e-9, 1e-12


def test_golden_file_covers_every_rule_and_the_variants():
    cases = DATA["cases"]
    assert {c["key"] for c in cases} == set(optimizers.OPTIMIZERS)
    assert len(cases) == 2 * len(CASES)  # every case, constant and scheduled
    assert any(c["hyper"].get("weight_decay") for c in cases)
    assert any(c["hyper"].get("amsgrad") for c in cases if c["key"] == "adam")
    assert any(c["key"] == "nag" for c in cases) and any(c["scheduled"] for c in cases)
    assert DATA["steps"] == STEPS
    np.testing.assert_array_equal(DATA["start"], start_point())


@pytest.mark.parametrize("case", DATA["cases"],
                         ids=[f"{c['key']}-{i}" for i, c in enumerate(DATA["cases"])])
def test_engine_follows_the_torch_trajectory(case):
    opt = optimizers.make(case["key"], **case["hyper"])
    params = start_point()
    state = opt.init(params)
    for step in range(STEPS):
        scale = lr_scale_at(step) if case["scheduled"] else 1.0
        params, state = opt.step(params, gradient(params), state, lr_scale=scale)
        np.testing.assert_allclose(params, case["params"][step], rtol=RTOL, atol=ATOL,
                                   err_msg=f"{case['key']} {case['hyper']} step {step}")
    compared = 0
    for field, theirs in case["state"].items():
        if field not in state._fields or (case["key"] == "adam" and field == "max_exp_avg_sq"
                                          and not case["hyper"].get("amsgrad")):
            continue  # torch counts steps for rules that need no count; no max without amsgrad
        compared += 1
        ours = np.broadcast_to(getattr(state, field), SHAPE)
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=ATOL, err_msg=field)
    assert compared == len([f for f in state._fields if f != "max_exp_avg_sq"
                            or case["hyper"].get("amsgrad")])


def test_regenerating_without_torch_skips_cleanly():
    """The generator says torch is missing, exits 0 and leaves the golden file alone."""
    before = GOLDEN.read_bytes()
    code = ("import sys, runpy; sys.modules['torch'] = None; "
            "runpy.run_module('tests.engine.make_torch_golden', run_name='__main__')")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert "torch is not installed" in done.stdout
    assert GOLDEN.read_bytes() == before
