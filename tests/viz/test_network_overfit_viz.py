"""viz.network_overfit: the cures' loss curves and the weight-size histograms."""

from __future__ import annotations

import numpy as np
import pytest

from viz import network_overfit as vo
from viz.network_style import log_axis


def lines(k=21):
    e = np.arange(k) * 10.0
    return e, [
        dict(name="none", group="none", color="#D55E00", split="train", y=np.exp(-e / 30)),
        dict(name="none · val", group="none:v", color="#D55E00", split="validation",
             y=0.4 + e / 400),
        dict(name="none", group="none", color="#D55E00", split="test", y=0.35 + e / 300),
        dict(name="L2", group="l2", color="#0072B2", split="train", y=0.3 + 0 * e),
        dict(name="L2", group="l2", color="#0072B2", split="test", y=0.4 + 0 * e),
    ]


def test_train_goes_left_on_a_log_axis_the_others_right_from_zero():
    epochs, ls = lines()
    fig = vo.cures_figure(epochs, ls, titles=("train", "test"))
    axes = [tr.yaxis for tr in fig.data]
    assert axes == ["y", "y2", "y2", "y", "y2"]
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type != "log"
    assert fig.layout.yaxis2.range[0] == 0
    assert fig.layout.yaxis2.range[1] == pytest.approx(1.05 * (0.35 + 200 / 300))
    # one legend entry per group: the cure's colour, and the dotted validation line
    assert [tr.showlegend for tr in fig.data] == [True, True, False, True, False]
    assert [tr.line.dash for tr in fig.data] == ["solid", "dot", "dash", "solid", "dash"]
    np.testing.assert_allclose(fig.data[2].y, ls[2]["y"], rtol=1e-6)


def test_early_stopping_draws_its_stop_line_in_both_panels_and_a_star():
    epochs, ls = lines()
    fig = vo.cures_figure(epochs, ls, early=dict(stopped_at=60, kept_epoch=10,
                                                 kept_loss=0.36, color="#CC79A7",
                                                 stop_label="stops", kept_label="keeps"))
    star = fig.data[-1]
    assert star.marker.symbol == "star" and star.x == (10.0,) and star.y == (0.36,)
    assert star.yaxis == "y2"
    assert sorted(s.xref for s in fig.layout.shapes) == ["x", "x2"]
    assert {s.x0 for s in fig.layout.shapes} == {60.0}


def test_weight_histogram_counts_every_weight_in_its_log_bin():
    w = np.array([0.0, 2e-7, -1.5e-6, 0.005, -0.0123, 0.5, -3.0, 40.0])
    centres, counts = vo.weight_histogram(w, low=1e-6, high=10.0, per_decade=10)
    assert counts.sum() == w.size and len(centres) == 70
    edges = np.linspace(-6, 1, 71)
    expected = np.zeros(70)
    for v in np.abs(w):  # by hand: log10 |w| into its decile of a decade, ends clipped
        i = int(np.floor((np.log10(max(v, 1e-300)) + 6) * 10 + 1e-9))
        expected[min(max(i, 0), 69)] += 1
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_allclose(np.log10(centres), (edges[:-1] + edges[1:]) / 2)


def test_histograms_figure_one_panel_per_network_with_the_threshold_line():
    rng = np.random.default_rng(0)
    weights = {"none": rng.normal(0, 1, 200), "l2": rng.normal(0, 0.05, 200),
               "l1": rng.normal(0, 1e-4, 200)}
    fig = vo.weight_histograms_figure(weights, {k: "#000000" for k in weights},
                                      {k: k for k in weights}, threshold=0.01)
    assert len(fig.data) == 3
    assert [float(np.sum(tr.y)) for tr in fig.data] == [200.0] * 3
    assert {s.x0 for s in fig.layout.shapes} == {0.01} and len(fig.layout.shapes) == 3
    assert all(fig.layout[f"xaxis{i}"].type == "log" for i in ("", "2", "3"))
    assert len(fig.layout.xaxis.tickvals) == 4


def test_log_axis_helper_is_shared():
    """The curves' log axis is the network page's (explicit ticks at every range)."""
    epochs, ls = lines()
    fig = vo.cures_figure(epochs, ls)
    expected = log_axis([ls[0]["y"], ls[3]["y"]])
    assert list(fig.layout.yaxis.tickvals) == pytest.approx(expected["tickvals"])
