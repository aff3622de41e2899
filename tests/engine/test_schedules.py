"""engine.schedules against torch.optim.lr_scheduler's formulas, written out here.

The references below are torch's *recursive* update rules (what ``scheduler.step()`` does
to the current learning rate), run step by step in plain Python; the engine uses closed
forms, so agreement checks both.
"""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import optimizers, schedules
from engine.schedules import SCHEDULES, make


def torch_steplr(n, step_size, gamma):
    lrs, lr = [], 1.0
    for epoch in range(n):
        if epoch != 0 and epoch % step_size == 0:
            lr *= gamma
        lrs.append(lr)
    return lrs


def torch_exponential(n, gamma):
    lrs, lr = [], 1.0
    for epoch in range(n):
        if epoch != 0:
            lr *= gamma
        lrs.append(lr)
    return lrs


def torch_cosine(n, t_max, eta_min):
    """CosineAnnealingLR.get_lr (the recursive, chainable form), base lr 1."""
    lrs, lr = [], 1.0
    for epoch in range(n):
        if epoch == 0:
            lr = 1.0
        elif (epoch - 1 - t_max) % (2 * t_max) == 0:
            lr = lr + (1.0 - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        else:
            lr = ((1 + math.cos(math.pi * epoch / t_max))
                  / (1 + math.cos(math.pi * (epoch - 1) / t_max)) * (lr - eta_min) + eta_min)
        lrs.append(lr)
    return lrs


def test_constant():
    np.testing.assert_array_equal(make("constant")(np.arange(50)), np.ones(50))
    assert make("constant")(7) == 1.0


@pytest.mark.parametrize(("step_size", "gamma"), [(1, 0.5), (3, 0.1), (10, 0.9)])
def test_step_matches_torch_steplr(step_size, gamma):
    ours = make("step", step_size=step_size, gamma=gamma)(np.arange(40))
    np.testing.assert_allclose(ours, torch_steplr(40, step_size, gamma), rtol=1e-12)


def test_step_by_hand():
    s = make("step", step_size=2, gamma=0.1)
    np.testing.assert_allclose(s(np.arange(6)), [1, 1, 0.1, 0.1, 0.01, 0.01], rtol=1e-15)


@pytest.mark.parametrize("gamma", [0.5, 0.95, 1.0])
def test_exponential_matches_torch(gamma):
    ours = make("exponential", gamma=gamma)(np.arange(60))
    np.testing.assert_allclose(ours, torch_exponential(60, gamma), rtol=1e-12)


def test_inverse_time_by_hand():
    s = make("inverse_time", decay=0.5)
    np.testing.assert_allclose(s(np.array([0, 1, 2, 6])), [1, 1 / 1.5, 0.5, 0.25], rtol=1e-15)


@pytest.mark.parametrize(("t_max", "ratio"), [(10, 0.0), (7, 0.1), (50, 0.5)])
def test_cosine_matches_torch_recursion_including_after_t_max(t_max, ratio):
    n = 3 * t_max + 5
    ours = make("cosine", t_max=t_max, eta_min_ratio=ratio)(np.arange(n))
    np.testing.assert_allclose(ours, torch_cosine(n, t_max, ratio), rtol=1e-9, atol=1e-12)


def test_cosine_end_points():
    s = make("cosine", t_max=100, eta_min_ratio=0.2)
    assert s(0) == 1.0
    assert s(50) == pytest.approx(0.6, rel=1e-12)
    assert s(100) == pytest.approx(0.2, rel=1e-12)


def test_warmup_ramps_then_starts_the_decay():
    s = make("exponential", gamma=0.5, warmup=4)
    np.testing.assert_allclose(s(np.arange(7)), [0.25, 0.5, 0.75, 1.0, 1.0, 0.5, 0.25])
    c = make("cosine", t_max=10, warmup=5)
    np.testing.assert_allclose(c(np.arange(5)), [0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(c(np.arange(5, 16)), make("cosine", t_max=10)(np.arange(11)))


def test_scalar_in_scalar_out_and_array_shape_kept():
    s = make("step", step_size=2, gamma=0.5)
    assert isinstance(s(3), float)
    assert s(np.arange(6).reshape(2, 3)).shape == (2, 3)
    assert s.kind == "step" and s.hyper == {"step_size": 2, "gamma": 0.5, "warmup": 0}


def test_multiplier_drives_an_optimizer_sweep():
    """A (B, 1) multiplier gives each run its own learning rate."""
    s = make("exponential", gamma=0.5)
    opt = optimizers.make("gd", lr=1.0)
    p = np.zeros((2, 1))
    state = opt.init(p)
    for t in range(3):
        p, state = opt.step(p, np.ones((2, 1)), state, lr_scale=s(np.array([[t], [0]])))
    np.testing.assert_allclose(p, [[-1.75], [-3.0]])


@pytest.mark.parametrize(("kind", "kw", "message"), [
    ("linear", {}, "unknown schedule 'linear'"),
    ("step", {"step_size": 0}, r"step: step_size must be >= 1, got 0"),
    ("step", {"step_size": 2.5}, "step_size must be a whole number"),
    ("step", {"gamma": 0.0}, r"step: gamma must be in \(0, 1\], got 0"),
    ("exponential", {"gamma": 1.5}, r"gamma must be in \(0, 1\]"),
    ("inverse_time", {"decay": -1.0}, r"decay must be >= 0"),
    ("cosine", {"t_max": 0}, r"t_max must be >= 1"),
    ("cosine", {"eta_min_ratio": 1.5}, r"eta_min_ratio must be in \[0, 1\]"),
    ("cosine", {"warmup": -1}, r"warmup must be >= 0"),
    ("cosine", {"eta_min_ratio": math.nan}, "eta_min_ratio must be"),
    ("cosine", {"lr": 0.1}, "cosine: unknown parameter 'lr'"),
    ("step", {"gamma": "0.5"}, "gamma must be a number"),
])
def test_invalid_arguments(kind, kw, message):
    with pytest.raises(ValueError, match=message):
        make(kind, **kw)


@pytest.mark.parametrize("t", [-1, 1.5, np.array([0, -2]), math.nan])
def test_invalid_step_index(t):
    with pytest.raises(ValueError, match="schedule: t must be"):
        make("constant")(t)


@pytest.mark.parametrize("kind", list(SCHEDULES))
def test_registry_metadata(kind):
    spec = SCHEDULES[kind]
    assert spec.key == kind and spec.title and spec.latex and spec.summary
    assert spec.hyper[-1].name == "warmup"
    for p in spec.hyper:
        assert p.kind in ("int", "float") and p.symbol and p.help
        assert p.slider_min < p.slider_max
        make(kind, **{p.name: p.default})
        make(kind, **{p.name: p.slider_min})
        make(kind, **{p.name: p.slider_max})
    assert schedules.make(kind, **spec.defaults)(0) > 0


@st.composite
def schedule_setting(draw):
    kind = draw(st.sampled_from(list(SCHEDULES)))
    kw = {}
    for p in SCHEDULES[kind].hyper:
        if p.kind == "int":
            kw[p.name] = draw(st.integers(int(p.slider_min), int(p.slider_max)))
        elif p.log_scale:
            kw[p.name] = 10 ** draw(st.floats(math.log10(p.slider_min),
                                              math.log10(p.slider_max)))
        else:
            kw[p.name] = draw(st.floats(p.slider_min, p.slider_max))
    return kind, kw


@given(setting=schedule_setting(), steps=st.integers(1, 3000))
def test_multipliers_are_finite_and_in_0_1(setting, steps):
    kind, kw = setting
    m = make(kind, **kw)(np.arange(steps))
    assert m.shape == (steps,)
    assert np.all(np.isfinite(m))
    assert np.all((m >= 0) & (m <= 1.0 + 1e-15))
