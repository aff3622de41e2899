"""engine.descent gives bit-identical results to the engine before its loop was tuned.

The golden digests in tests/engine/data/descent_golden.npz were written by
``descent_golden.py`` run against main's engine before any speed work (see that module for
how to regenerate them and which cases are portable across machines).  The cases in
descent_golden_row_exact.npz were changed on purpose (Adam, AdamW and NAdam now round a
run of a sweep as they round it alone) and compare with the digests written then.
"""

from __future__ import annotations

import numpy as np
import pytest
from descent_golden import (
    ADAM_FAMILY,
    CASES,
    DATA,
    ROW_EXACT,
    digest,
    fingerprint,
    result_arrays,
)

GOLDEN = np.load(DATA)
MAIN_DIGESTS = dict(zip(GOLDEN["names"].tolist(), GOLDEN["digests"], strict=True))
_ROW_EXACT = np.load(ROW_EXACT)
ROW_EXACT_DIGESTS = dict(zip(_ROW_EXACT["names"].tolist(), _ROW_EXACT["digests"], strict=True))
ROW_EXACT_CASES = {name.split("::")[0] for name in ROW_EXACT_DIGESTS}
GOLDEN_DIGESTS = {**MAIN_DIGESTS, **ROW_EXACT_DIGESTS}
PORTABLE = set(GOLDEN["portable"].tolist())
FINGERPRINT_DIFFERS = sorted(
    name for name, values in fingerprint().items()
    if not np.array_equal(digest(values), GOLDEN[f"fingerprint::{name}"])
)


def test_every_case_has_golden_digests():
    stored_cases = {name.split("::")[0] for name in MAIN_DIGESTS}
    assert stored_cases == set(CASES)
    assert ROW_EXACT_CASES <= set(CASES)
    assert set(ROW_EXACT_DIGESTS) <= set(MAIN_DIGESTS)
    assert PORTABLE == {name for name, (portable, _) in CASES.items() if portable}
    assert len(PORTABLE) >= 10


@pytest.mark.parametrize("case", list(CASES))
def test_results_are_bit_identical_to_the_golden_run(case):
    portable, compute = CASES[case]
    if FINGERPRINT_DIFFERS and not portable:
        pytest.skip(f"this machine's {', '.join(FINGERPRINT_DIFFERS)} differ in the last bits "
                    "from the machine that wrote the golden file; only portable cases compare")
    arrays = result_arrays(compute())
    expected = {name.split("::", 1)[1] for name in GOLDEN_DIGESTS if name.startswith(case + "::")}
    assert set(arrays) == expected
    differ = [name for name, array in arrays.items()
              if not np.array_equal(digest(array), GOLDEN_DIGESTS[f"{case}::{name}"])]
    for name in differ:
        stored = f"array::{case}::{name}"
        if stored in GOLDEN:  # small case: say where it differs
            np.testing.assert_array_equal(arrays[name], GOLDEN[stored], err_msg=f"{case}: {name}")
    assert not differ, f"{case}: arrays differ from the golden run: {differ}"


@pytest.mark.parametrize("case", sorted(ROW_EXACT_CASES))
def test_only_adam_family_runs_changed_on_purpose(case):
    """The row-exact change moved only runs of the Adam family: in every case it changed,
    the path, loss, gradient and look-ahead of every other rule's runs are still main's
    (the test above compares the current results with these row-exact digests)."""
    names = [n for n in ROW_EXACT_DIGESTS if n.startswith(case + "::")]
    if not any("[not adam family]" in n for n in names):  # a SweepResult or BasinMap
        assert "adam" in case
        return
    labels = set(CASES[case][1]().labels.tolist())
    assert labels & set(ADAM_FAMILY), f"{case} changed but has no Adam-family run"
    for name in names:
        if "[not adam family]" in name:
            assert np.array_equal(ROW_EXACT_DIGESTS[name], MAIN_DIGESTS[name]), name


def test_a_changed_result_is_caught():
    """The check itself can fail: one ulp in one entry changes the digest."""
    _, compute = CASES["race_portable/rosenbrock"]
    path = result_arrays(compute())["path"].copy()
    assert np.array_equal(digest(path), GOLDEN_DIGESTS["race_portable/rosenbrock::path"])
    path[7, 3, 1] = np.nextafter(path[7, 3, 1], np.inf)
    assert not np.array_equal(digest(path), GOLDEN_DIGESTS["race_portable/rosenbrock::path"])
