"""One style per optimizer: told apart by colour, and without colour too."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from engine import optimizers
from viz import style

# Machado, Oliveira & Fernandes (2009): simulation matrices in linear RGB, severity 1.0
CVD = {
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968],
                              [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "protanopia": np.array([[0.152286, 1.052583, -0.204868],
                            [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779],
                            [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}


def linear(hex_color: str) -> np.ndarray:
    srgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def seen(hex_color: str, matrix: np.ndarray) -> np.ndarray:
    """The colour as a viewer with that deficiency sees it (sRGB 0..1)."""
    lin = np.clip(matrix @ linear(hex_color), 0.0, 1.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * lin ** (1 / 2.4) - 0.055)


def test_every_optimizer_has_a_style():
    assert set(style.OPTIMIZER_STYLES) == set(optimizers.OPTIMIZERS)


def test_no_two_optimizers_share_colour_and_dash_or_marker():
    pairs = [(s.color, s.dash) for s in style.OPTIMIZER_STYLES.values()]
    assert len(set(pairs)) == len(pairs)
    assert len({s.symbol for s in style.OPTIMIZER_STYLES.values()}) == len(pairs)
    assert len({s.glyph for s in style.OPTIMIZER_STYLES.values()}) == len(pairs)
    assert len({s.color for s in style.OPTIMIZER_STYLES.values()}) == len(pairs)


@pytest.mark.parametrize("deficiency", list(CVD))
def test_colours_that_merge_under_a_colour_vision_deficiency_differ_in_dash(deficiency):
    """Curves (which have no markers) stay apart: where two colours look alike to a viewer
    with the deficiency (distance < 0.2 in simulated sRGB), their dashes differ."""
    merged = 0
    for (a, sa), (b, sb) in itertools.combinations(style.OPTIMIZER_STYLES.items(), 2):
        distance = np.linalg.norm(seen(sa.color, CVD[deficiency]) - seen(sb.color,
                                                                          CVD[deficiency]))
        if distance < 0.2:
            merged += 1
            assert sa.dash != sb.dash, (a, b, deficiency)
    # the simulation finds the pairs the issue reported (GD / AdaDelta olive, …)
    if deficiency == "deuteranopia":
        assert merged >= 2


def test_number_formats():
    assert style.num(1.23456e-5) == "1.235e-05"
    assert style.num(0.001) == "0.001"
    assert style.tex_num(1.5e-7) == r"1.5\cdot 10^{-7}"
    assert style.tex_num(float("inf")) == r"\infty"
    assert style.fonts(True).tick > style.fonts(False).tick >= 14


@pytest.mark.parametrize(("lo", "hi"), [(0.5, 0.9), (1.499, 1.645), (1.2, 1.25), (2e-4, 9e-4),
                                        (0.08, 0.4), (3.0, 40.0), (7.0, 7.0)])
def test_log_axis_ticks_label_every_short_range(lo, hi):
    """Ticks inside [lo, hi], at least two unless the values are one, each a round number
    (at most 3 significant digits), evenly spaced under a decade, 1-2-5 over one to two."""
    axis = style.log_axis_ticks([lo, hi])
    ticks = np.asarray(axis["tickvals"], dtype=float)
    assert ((ticks >= lo * (1 - 1e-9)) & (ticks <= hi * (1 + 1e-9))).all()
    assert len(ticks) >= (1 if lo == hi else 2)
    assert axis["ticktext"] == [f"{v:.3g}" for v in ticks]
    assert all(float(f"{v:.3g}") == pytest.approx(v) for v in ticks)
    if hi / lo < 10 and len(ticks) > 2:
        np.testing.assert_allclose(np.diff(ticks), np.diff(ticks)[0])
    elif hi / lo >= 10:
        assert {f"{v:.0e}"[0] for v in ticks} <= {"1", "2", "5"}


def test_log_axis_ticks_leave_wide_ranges_to_decades():
    assert style.log_axis_ticks([1e-12, 10.0]) == {"tickvals": None, "ticktext": None,
                                                   "dtick": 2}
    assert style.log_axis_ticks([1e-3, 10.0])["dtick"] == 1
    assert style.log_axis_ticks([0.0, -1.0, float("nan")]) == {}
