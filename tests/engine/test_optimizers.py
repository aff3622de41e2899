"""engine.optimizers: formulas, batching, convergence, validation, properties."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine import optimizers
from engine.optimizers import OPTIMIZERS, make

KEYS = list(OPTIMIZERS)

STATE_FIELDS = {
    "gd": (),
    "momentum": ("buf",),
    "nag": ("buf",),
    "adagrad": ("sum",),
    "rmsprop": ("square_avg",),
    "adadelta": ("square_avg", "acc_delta"),
    "adam": ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "t"),
    "adamw": ("exp_avg", "exp_avg_sq", "t"),
    "nadam": ("exp_avg", "exp_avg_sq", "mu_product", "t"),
    "adamax": ("exp_avg", "exp_inf", "t"),
}


# ---------------------------------------------------------------------------------------
# Scalar reference rules: one coordinate, plain Python floats, written from the torch
# documentation's pseudo-code (not from the engine).


def reference(key, p, grads, hp):
    """Run the rule on one coordinate p for the gradients in ``grads`` (a list of
    functions of p, so weight decay sees the current p). Returns the final p."""
    lr, wd = hp["lr"], hp.get("weight_decay", 0.0)
    b = m = v = vmax = u = 0.0
    acc = hp.get("initial_accumulator", 0.0)
    mu_prod = 1.0
    for t, grad_fn in enumerate(grads, start=1):
        g = grad_fn(p)
        if key != "adamw":
            g = g + wd * p
        if key == "gd":
            p = p - lr * g
        elif key in ("momentum", "nag"):
            b = g if t == 1 else hp["momentum"] * b + g
            d = g + hp["momentum"] * b if key == "nag" else b
            p = p - lr * d
        elif key == "adagrad":
            acc = acc + g * g
            p = p - lr * g / (math.sqrt(acc) + hp["eps"])
        elif key == "rmsprop":
            v = hp["rho"] * v + (1 - hp["rho"]) * g * g
            p = p - lr * g / (math.sqrt(v) + hp["eps"])
        elif key == "adadelta":
            rho, eps = hp["rho"], hp["eps"]
            v = rho * v + (1 - rho) * g * g
            delta = math.sqrt(u + eps) / math.sqrt(v + eps) * g
            u = rho * u + (1 - rho) * delta * delta
            p = p - lr * delta
        elif key in ("adam", "adamw"):
            b1, b2 = hp["beta1"], hp["beta2"]
            if key == "adamw":
                p = p * (1 - lr * wd)
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            vmax = max(vmax, v)
            second = vmax if hp.get("amsgrad") else v
            m_hat = m / (1 - b1**t)
            v_hat = second / (1 - b2**t)
            p = p - lr * m_hat / (math.sqrt(v_hat) + hp["eps"])
        elif key == "nadam":
            b1, b2, psi = hp["beta1"], hp["beta2"], hp["momentum_decay"]
            mu_t = b1 * (1 - 0.5 * 0.96 ** (t * psi))
            mu_next = b1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))
            mu_prod_next = mu_prod * mu_t * mu_next
            mu_prod = mu_prod * mu_t
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            v_hat = v / (1 - b2**t)
            direction = (mu_next * m / (1 - mu_prod_next) + (1 - mu_t) * g / (1 - mu_prod))
            p = p - lr * direction / (math.sqrt(v_hat) + hp["eps"])
        elif key == "adamax":
            b1, b2 = hp["beta1"], hp["beta2"]
            m = b1 * m + (1 - b1) * g
            u = max(b2 * u, abs(g) + hp["eps"])
            p = p - lr / (1 - b1**t) * m / u
        else:
            raise AssertionError(key)
    return p


def const(value):
    return lambda p: value


FORMULA_CASES = [
    ("gd", {"lr": 0.1}),
    ("gd", {"lr": 0.1, "weight_decay": 0.5}),
    ("momentum", {"lr": 0.1, "momentum": 0.9}),
    ("momentum", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.2}),
    ("nag", {"lr": 0.1, "momentum": 0.9}),
    ("nag", {"lr": 0.1, "momentum": 0.8, "weight_decay": 0.2}),
    ("adagrad", {"lr": 0.1, "eps": 1e-10}),
    ("adagrad", {"lr": 0.1, "eps": 0.01, "initial_accumulator": 0.3, "weight_decay": 0.1}),
    ("rmsprop", {"lr": 0.01, "rho": 0.99, "eps": 1e-8}),
    ("rmsprop", {"lr": 0.01, "rho": 0.5, "eps": 1e-2, "weight_decay": 0.1}),
    ("adadelta", {"lr": 1.0, "rho": 0.9, "eps": 1e-6}),
    ("adadelta", {"lr": 0.5, "rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}),
    ("adam", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("adam", {"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "amsgrad": True,
              "weight_decay": 0.1}),
    ("adamw", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01}),
    ("adamw", {"lr": 0.1, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.5}),
    ("nadam", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
               "momentum_decay": 0.004}),
    ("nadam", {"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "momentum_decay": 0.1,
               "weight_decay": 0.1}),
    ("adamax", {"lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8}),
    ("adamax", {"lr": 0.01, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "weight_decay": 0.1}),
]

# Three steps whose gradients change sign and size (so max(), sums and decays all matter).
GRADS = [(0.5, -1.5), (-0.25, 2.0), (1.0, 0.1)]
P0 = (1.0, -2.0)


def test_formula_cases_cover_every_key():
    assert {key for key, _ in FORMULA_CASES} == set(KEYS)


@pytest.mark.parametrize(("key", "hp"), FORMULA_CASES,
                         ids=[f"{k}-{i}" for i, (k, _) in enumerate(FORMULA_CASES)])
def test_rule_matches_scalar_reference(key, hp):
    opt = make(key, **hp)
    p = np.array([P0])
    state = opt.init(p)
    for step, g in enumerate(GRADS, start=1):
        p, state = opt.step(p, np.array([g]), state)
        expected = [
            reference(key, P0[d], [const(gs[d]) for gs in GRADS[:step]], hp) for d in range(2)
        ]
        np.testing.assert_allclose(p[0], expected, rtol=1e-13, atol=1e-15)


# A few steps written out as numbers, so a reader can follow them by hand.


def test_gd_one_step_by_hand():
    opt = make("gd", lr=0.1)
    p, _ = opt.step(np.array([[1.0, -2.0]]), np.array([[0.5, -1.5]]), opt.init(np.zeros((1, 2))))
    np.testing.assert_allclose(p, [[0.95, -1.85]], rtol=1e-15)


def test_momentum_two_steps_by_hand():
    # b1 = g1 = 0.5; p1 = 1 - 0.1*0.5 = 0.95; b2 = 0.9*0.5 + 1.0 = 1.45; p2 = 0.95 - 0.145
    opt = make("momentum", lr=0.1, momentum=0.9)
    p = np.array([[1.0]])
    s = opt.init(p)
    p, s = opt.step(p, np.array([[0.5]]), s)
    np.testing.assert_allclose(p, [[0.95]], rtol=1e-15)
    p, s = opt.step(p, np.array([[1.0]]), s)
    np.testing.assert_allclose(s.buf, [[1.45]], rtol=1e-15)
    np.testing.assert_allclose(p, [[0.805]], rtol=1e-15)


def test_nag_two_steps_by_hand():
    # b1 = 0.5; p1 = 1 - 0.1*(0.5 + 0.9*0.5) = 0.905
    # b2 = 0.45 + 1 = 1.45; p2 = 0.905 - 0.1*(1 + 0.9*1.45) = 0.905 - 0.2305 = 0.6745
    opt = make("nag", lr=0.1, momentum=0.9)
    p = np.array([[1.0]])
    s = opt.init(p)
    p, s = opt.step(p, np.array([[0.5]]), s)
    np.testing.assert_allclose(p, [[0.905]], rtol=1e-15)
    p, s = opt.step(p, np.array([[1.0]]), s)
    np.testing.assert_allclose(p, [[0.6745]], rtol=1e-14)


def test_adagrad_two_steps_by_hand():
    # G1 = 9, p1 = 1 - 0.1*3/3 = 0.9; G2 = 9 + 16 = 25, p2 = 0.9 - 0.1*4/5 = 0.82
    opt = make("adagrad", lr=0.1, eps=1e-300)
    p = np.array([[1.0]])
    s = opt.init(p)
    p, s = opt.step(p, np.array([[3.0]]), s)
    np.testing.assert_allclose(p, [[0.9]], rtol=1e-15)
    p, s = opt.step(p, np.array([[4.0]]), s)
    np.testing.assert_allclose(s.sum, [[25.0]])
    np.testing.assert_allclose(p, [[0.82]], rtol=1e-15)


def test_rmsprop_one_step_by_hand():
    # v1 = 0.1 * 4 = 0.4, p1 = 1 - 0.01 * 2 / sqrt(0.4)
    opt = make("rmsprop", lr=0.01, rho=0.9, eps=1e-300)
    p, s = opt.step(np.array([[1.0]]), np.array([[2.0]]), opt.init(np.zeros((1, 1))))
    np.testing.assert_allclose(s.square_avg, [[0.4]], rtol=1e-15)
    np.testing.assert_allclose(p, [[1.0 - 0.02 / math.sqrt(0.4)]], rtol=1e-15)


def test_adadelta_one_step_by_hand():
    # v1 = 0.1*4 = 0.4; delta = sqrt(0 + 1e-6)/sqrt(0.4 + 1e-6) * 2; u1 = 0.1 delta^2
    opt = make("adadelta", lr=1.0, rho=0.9, eps=1e-6)
    p, s = opt.step(np.array([[1.0]]), np.array([[2.0]]), opt.init(np.zeros((1, 1))))
    delta = 1e-3 / math.sqrt(0.400001) * 2.0
    np.testing.assert_allclose(p, [[1.0 - delta]], rtol=1e-14)
    np.testing.assert_allclose(s.acc_delta, [[0.1 * delta**2]], rtol=1e-14)


def test_adam_first_step_is_lr_times_sign():
    # After bias correction m_hat = g and v_hat = g^2: the first step is lr*g/(|g| + eps).
    opt = make("adam", lr=0.01, eps=1e-8)
    g = np.array([[3.0, -0.002, 0.0]])
    p, s = opt.step(np.zeros((1, 3)), g, opt.init(np.zeros((1, 3))))
    np.testing.assert_allclose(p, -0.01 * g / (np.abs(g) + 1e-8), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(s.t, [[1.0]])


def test_adamax_first_step_by_hand():
    # m1 = 0.1*g, u1 = |g| + eps, p1 = -lr/(1 - 0.9) * m1/u1 = -lr * g/(|g| + eps)
    opt = make("adamax", lr=0.002, eps=1e-8)
    p, s = opt.step(np.zeros((1, 1)), np.array([[-4.0]]), opt.init(np.zeros((1, 1))))
    np.testing.assert_allclose(p, [[0.002 * 4.0 / (4.0 + 1e-8)]], rtol=1e-12)
    np.testing.assert_allclose(s.exp_inf, [[4.0 + 1e-8]], rtol=1e-15)


def test_adamw_decay_is_decoupled_from_the_gradient():
    # With a zero gradient Adam's moments stay 0; only the decay moves the parameters.
    opt = make("adamw", lr=0.1, weight_decay=0.5)
    p, _ = opt.step(np.array([[2.0]]), np.array([[0.0]]), opt.init(np.zeros((1, 1))))
    np.testing.assert_allclose(p, [[2.0 * (1 - 0.05)]], rtol=1e-15)


def test_nadam_first_step_by_hand():
    b1, psi, lr = 0.9, 0.004, 0.002
    mu1 = b1 * (1 - 0.5 * 0.96**psi)
    mu2 = b1 * (1 - 0.5 * 0.96 ** (2 * psi))
    # m1 = 0.1 g, v_hat = g^2 (bias-corrected), g = 2
    expected = -lr * ((1 - mu1) / (1 - mu1) * 2.0 + mu2 / (1 - mu1 * mu2) * 0.2) / (2.0 + 1e-8)
    opt = make("nadam", lr=lr)
    p, s = opt.step(np.zeros((1, 1)), np.array([[2.0]]), opt.init(np.zeros((1, 1))))
    np.testing.assert_allclose(p, [[expected]], rtol=1e-13)
    np.testing.assert_allclose(s.mu_product, [[mu1]], rtol=1e-15)


# ---------------------------------------------------------------------------------------
# Batched == a loop of single runs, with per-run hyper-parameters.


def smooth_grad(p):
    c = np.arange(1, p.shape[1] + 1, dtype=np.float64)
    return c * p + 0.9 * np.cos(3.0 * p)


def random_hyper(key, rng, n):
    """(n, 1) arrays drawn inside each slider range (log-uniform for log sliders)."""
    out = {}
    for h in OPTIMIZERS[key].hyper:
        if h.kind == "bool":
            out[h.name] = rng.integers(0, 2, size=(n, 1)).astype(bool)
        elif h.log_scale:
            out[h.name] = np.exp(rng.uniform(math.log(h.slider_min), math.log(h.slider_max),
                                             size=(n, 1)))
        else:
            out[h.name] = rng.uniform(h.slider_min, min(h.slider_max, 0.99), size=(n, 1))
    return out


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("scheduled", [False, True])
def test_batched_equals_loop_over_runs(key, scheduled):
    rng = np.random.default_rng(11)
    n, d, steps = 6, 3, 15
    hyper = random_hyper(key, rng, n)
    if "lr" in hyper:
        hyper["lr"] = hyper["lr"] * 0.1  # keep every run finite
    p0 = rng.normal(size=(n, d))
    scales = rng.uniform(0.1, 1.0, size=(steps, n, 1)) if scheduled else np.ones((steps, n, 1))

    batched = make(key, **hyper)
    p, state = p0, batched.init(p0)
    for i in range(steps):
        p, state = batched.step(p, smooth_grad(p), state, lr_scale=scales[i])

    for run in range(n):
        single = make(key, **{k: v[run, 0].item() for k, v in hyper.items()})
        q, s = p0[run:run + 1], single.init(p0[run:run + 1])
        for i in range(steps):
            q, s = single.step(q, smooth_grad(q), s, lr_scale=float(scales[i, run, 0]))
        np.testing.assert_allclose(p[run:run + 1], q, rtol=1e-12, atol=1e-14)
        for field in s._fields:
            np.testing.assert_allclose(getattr(state, field)[run:run + 1], getattr(s, field),
                                       rtol=1e-12, atol=1e-14, err_msg=field)


def test_one_dimensional_hyper_array_is_a_column():
    opt = make("gd", lr=[0.1, 0.2])
    assert opt.hyper["lr"].shape == (2, 1)
    p, _ = opt.step(np.ones((2, 3)), np.ones((2, 3)), opt.init(np.ones((2, 3))))
    np.testing.assert_allclose(p, [[0.9] * 3, [0.8] * 3])


def test_hyper_batch_must_match_params():
    opt = make("adam", lr=np.full((3, 1), 0.1))
    with pytest.raises(ValueError, match="B=3"):
        opt.init(np.zeros((4, 2)))


def test_grads_shape_must_match_params():
    opt = make("gd")
    with pytest.raises(ValueError, match="grads shape"):
        opt.step(np.zeros((2, 2)), np.zeros((2, 3)), opt.init(np.zeros((2, 2))))


def test_mixed_amsgrad_per_run():
    p0 = np.array([[1.0, -1.0], [1.0, -1.0]])
    both = make("adam", lr=0.1, amsgrad=[[False], [True]])
    plain, ams = make("adam", lr=0.1), make("adam", lr=0.1, amsgrad=True)
    runs = [(p0, both.init(p0)), (p0[:1], plain.init(p0[:1])), (p0[1:], ams.init(p0[1:]))]
    grads = [np.array([[5.0, -5.0]]), np.array([[0.1, 0.1]]), np.array([[0.2, -0.3]])]
    for g in grads:
        runs = [(opt.step(p, np.repeat(g, len(p), axis=0), s))
                for opt, (p, s) in zip((both, plain, ams), runs, strict=True)]
    np.testing.assert_allclose(runs[0][0], np.vstack([runs[1][0], runs[2][0]]), rtol=1e-14)
    assert not np.allclose(runs[1][0], runs[2][0])  # amsgrad does change the result here


# ---------------------------------------------------------------------------------------
# Convergence.

QUAD_C = np.array([1.0, 10.0])

QUAD_SETTINGS = {
    "gd": ({"lr": 0.09}, 300),
    "momentum": ({"lr": 0.02, "momentum": 0.8}, 300),
    "nag": ({"lr": 0.02, "momentum": 0.8}, 300),
    "adagrad": ({"lr": 0.5}, 1500),
    "rmsprop": ({"lr": 0.01}, 1500),
    "adadelta": ({"lr": 0.1, "rho": 0.9, "eps": 1e-4}, 3000),
    "adam": ({"lr": 0.05}, 1500),
    "adamw": ({"lr": 0.05, "weight_decay": 0.0}, 1500),
    "nadam": ({"lr": 0.05}, 1500),
    "adamax": ({"lr": 0.05}, 1500),
}


@pytest.mark.parametrize("key", KEYS)
def test_converges_on_a_quadratic(key):
    """f(x, y) = (x^2 + 10 y^2) / 2 from several starts: every run ends near 0."""
    hp, steps = QUAD_SETTINGS[key]
    opt = make(key, **hp)
    p = np.array([[3.0, -2.0], [-1.0, 1.5], [0.5, 0.5]])
    state = opt.init(p)
    for _ in range(steps):
        p, state = opt.step(p, QUAD_C * p, state)
    assert np.all(np.abs(p) < 1e-2), p


def rosenbrock(p, a=1.0, b=100.0):
    x, y = p[:, 0], p[:, 1]
    return (a - x) ** 2 + b * (y - x * x) ** 2


def rosenbrock_grad(p, a=1.0, b=100.0):
    x, y = p[:, 0], p[:, 1]
    return np.stack([-2.0 * (a - x) - 4.0 * b * x * (y - x * x), 2.0 * b * (y - x * x)], axis=1)


def test_rosenbrock_gradient_matches_central_differences():
    p = np.array([[-1.2, 1.0], [0.3, -0.7], [1.5, 2.0]])
    h = 1e-6
    numeric = np.stack([
        (rosenbrock(p + h * e) - rosenbrock(p - h * e)) / (2 * h) for e in np.eye(2)
    ], axis=1)
    np.testing.assert_allclose(rosenbrock_grad(p), numeric, rtol=1e-6)


ROSEN_SETTINGS = {
    "gd": ({"lr": 1e-3}, 20000),
    "momentum": ({"lr": 1e-3, "momentum": 0.9}, 5000),
    "nag": ({"lr": 1e-3, "momentum": 0.9}, 5000),
    "adagrad": ({"lr": 0.3}, 10000),
    "rmsprop": ({"lr": 1e-3}, 10000),
    "adadelta": ({"lr": 0.03, "eps": 1e-7}, 20000),
    "adam": ({"lr": 0.02}, 5000),
    "adamw": ({"lr": 0.02, "weight_decay": 0.0}, 5000),
    "nadam": ({"lr": 0.02}, 5000),
    "adamax": ({"lr": 0.02}, 5000),
}


@pytest.mark.parametrize("key", KEYS)
def test_reaches_the_rosenbrock_minimum(key):
    """From the classic start (-1.2, 1) along the curved valley to (1, 1)."""
    hp, steps = ROSEN_SETTINGS[key]
    opt = make(key, **hp)
    p = np.array([[-1.2, 1.0]])
    state = opt.init(p)
    for _ in range(steps):
        p, state = opt.step(p, rosenbrock_grad(p), state)
    assert rosenbrock(p)[0] < 1e-3, (p, rosenbrock(p))
    np.testing.assert_allclose(p, [[1.0, 1.0]], atol=0.07)


# ---------------------------------------------------------------------------------------
# Validation.


def test_error_message_names_parameter_and_range():
    with pytest.raises(ValueError, match=r"^adam: beta1 must be in \[0, 1\), got 1.2$"):
        make("adam", beta1=1.2)


BAD_VALUES = [
    ("gd", "lr", 0.0), ("gd", "lr", -0.1), ("gd", "lr", math.nan), ("gd", "lr", math.inf),
    ("momentum", "momentum", 1.0), ("momentum", "momentum", -0.1),
    ("nag", "momentum", 1.5), ("rmsprop", "rho", 1.0), ("adadelta", "rho", -0.5),
    ("adam", "beta2", 1.0), ("adamw", "beta1", -1e-9), ("adam", "eps", 0.0),
    ("adagrad", "eps", -1e-8), ("adagrad", "initial_accumulator", -1.0),
    ("rmsprop", "weight_decay", -0.01), ("adamw", "weight_decay", -1.0),
    ("nadam", "momentum_decay", -0.1), ("adamax", "beta2", 2.0),
]


@pytest.mark.parametrize(("key", "name", "value"), BAD_VALUES)
def test_out_of_range_raises(key, name, value):
    spec = OPTIMIZERS[key].hyper_spec(name)
    with pytest.raises(ValueError) as info:
        make(key, **{name: value})
    message = str(info.value)
    assert message.startswith(f"{key}: {name} must be ")
    assert spec.range_text() in message


def test_bad_element_in_an_array_is_reported():
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\), got 1.5"):
        make("momentum", momentum=np.array([[0.5], [0.9], [1.5]]))


@pytest.mark.parametrize("key", KEYS)
def test_boundaries_that_are_allowed(key):
    lows = {h.name: h.min for h in OPTIMIZERS[key].hyper if h.min_inclusive}
    make(key, **lows)  # 0 momentum, 0 beta, 0 weight decay: all valid


def test_unknown_key_and_unknown_parameter():
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'.*gd, momentum"):
        make("sgd")
    with pytest.raises(ValueError, match="adam: unknown hyper-parameter 'momentum'"):
        make("adam", momentum=0.9)


def test_non_numbers_and_bad_shapes():
    with pytest.raises(ValueError, match="lr must be a number"):
        make("gd", lr="fast")
    with pytest.raises(ValueError, match="amsgrad must be True or False"):
        make("adam", amsgrad=2)
    with pytest.raises(ValueError, match=r"shape \(B,\) or \(B, 1\)"):
        make("gd", lr=np.full((2, 2), 0.1))
    with pytest.raises(ValueError, match="disagree on B"):
        make("adam", lr=[0.1, 0.2], beta1=[0.9, 0.8, 0.7])


def test_hyper_holds_validated_float_arrays():
    opt = make("adam", lr=0.5, amsgrad=True)
    assert opt.key == "adam"
    assert set(opt.hyper) == {h.name for h in OPTIMIZERS["adam"].hyper}
    for value in opt.hyper.values():
        assert isinstance(value, np.ndarray) and value.dtype == np.float64
    assert float(opt.hyper["lr"]) == 0.5 and float(opt.hyper["amsgrad"]) == 1.0
    assert float(opt.hyper["beta2"]) == 0.999  # default filled in


# ---------------------------------------------------------------------------------------
# Registry, state layout, look-ahead and effective learning rate.


def test_registry_order_and_state_fields():
    assert KEYS == ["gd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam",
                    "adamw", "nadam", "adamax"]
    p = np.zeros((4, 3))
    for key in KEYS:
        state = make(key).init(p)
        assert state._fields == STATE_FIELDS[key]
        for field in state._fields:
            arr = getattr(state, field)
            assert arr.dtype == np.float64
            assert arr.shape == ((4, 1) if field == "t" else (4, 3))


@pytest.mark.parametrize("key", KEYS)
def test_registry_metadata_is_consistent(key):
    spec = OPTIMIZERS[key]
    assert spec.key == key and spec.title and spec.summary and spec.latex
    assert spec.latex.count("{") == spec.latex.count("}")
    names = [h.name for h in spec.hyper]
    assert names[0] == "lr" and "weight_decay" in names
    for h in spec.hyper:
        assert h.kind in ("float", "bool") and h.symbol and h.help
        make(key, **{h.name: h.default})
        make(key, **{h.name: h.slider_min})
        make(key, **{h.name: h.slider_max})
        assert h.slider_min < h.slider_max
        if h.log_scale:
            assert h.slider_min > 0
    for h in spec.hyper:
        if h.name in ("momentum", "beta1", "beta2", "rho"):
            assert h.slider_max >= 0.999  # sliders reach 0.9, 0.99, 0.999


def test_notes_differences_are_documented():
    assert OPTIMIZERS["gd"].notes_diff == ""
    assert "v_t = -\\gamma b_t" in OPTIMIZERS["momentum"].notes_diff
    assert "typo" in OPTIMIZERS["adadelta"].notes_diff
    assert "inside the square root" in OPTIMIZERS["adam"].notes_diff
    assert "inside the square root" in OPTIMIZERS["adagrad"].notes_diff
    assert "look-ahead" in OPTIMIZERS["nag"].notes_diff


def test_nag_lookahead_and_others_unchanged():
    p0 = np.array([[1.0, 2.0]])
    opt = make("nag", lr=0.1, momentum=0.9)
    p, s = opt.step(p0, np.array([[1.0, -2.0]]), opt.init(p0))
    np.testing.assert_allclose(opt.lookahead(p, s), p - 0.1 * 0.9 * s.buf, rtol=1e-15)
    np.testing.assert_allclose(opt.lookahead(p, s, lr_scale=0.5), p - 0.05 * 0.9 * s.buf)
    for key in ("gd", "momentum", "adam"):
        other = make(key)
        np.testing.assert_array_equal(other.lookahead(p, other.init(p)), p)


@pytest.mark.parametrize("key", KEYS)
def test_has_lookahead_says_whether_lookahead_is_overridden(key):
    """engine.descent asks only rules with has_lookahead; every other rule must return the
    parameters unchanged, whatever the state and schedule."""
    opt = make(key)
    overridden = type(opt).lookahead is not optimizers.Optimizer.lookahead
    assert opt.has_lookahead == overridden == (key == "nag")
    p0 = np.array([[1.0, 2.0], [-0.5, 0.3]])
    p, s = opt.step(p0, np.array([[1.0, -2.0], [0.5, 4.0]]), opt.init(p0))
    if not opt.has_lookahead:
        np.testing.assert_array_equal(opt.lookahead(p, s, lr_scale=0.3), p)


@pytest.mark.parametrize("key", KEYS)
def test_unchecked_step_is_step(key):
    """The descent loop's unchecked path gives exactly what the public step gives."""
    opt = make(key, lr=np.array([[0.01], [0.2]]), weight_decay=0.01)
    p0 = np.array([[1.0, 2.0], [-0.5, 0.3]])
    g = np.array([[1.0, -2.0], [0.5, 4.0]])
    state = opt.init(p0)
    for scale in (1.0, 0.5):
        p1, s1 = opt.step(p0, g, state, lr_scale=scale)
        p2, s2 = opt._step_unchecked(p0, g, state, scale)
        np.testing.assert_array_equal(p1, p2)
        for a, b in zip(s1, s2, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("key", KEYS)
def test_a_run_rounds_the_same_alone_and_as_a_row_of_a_sweep(key):
    """lr as a scalar or as one row of a (B, 1) array (a sweep, some rates absurdly large
    or small): the same floating-point operations, so the same bits, step after step."""
    lr = 0.03
    lrs = np.array([[1e-250], [1e-3], [lr], [0.7], [1e150]])
    rng = np.random.default_rng(5)
    single, sweep = make(key, lr=lr), make(key, lr=lrs)
    p1 = rng.normal(size=(1, 2))
    pb = np.repeat(p1, len(lrs), axis=0)
    s1, sb = single.init(p1), sweep.init(pb)
    with np.errstate(all="ignore"):  # the absurd rows overflow; they are not compared
        for t in range(300):
            g = rng.normal(size=(1, 2)) * 10.0 ** rng.uniform(-2.0, 2.0)
            scale = 1.0 if t < 150 else 0.5
            p1, s1 = single.step(p1, g, s1, lr_scale=scale)
            pb, sb = sweep.step(pb, np.repeat(g, len(lrs), axis=0), sb, lr_scale=scale)
            np.testing.assert_array_equal(pb[2], p1[0])
            for a, b in zip(sb, s1, strict=True):
                np.testing.assert_array_equal(a[2], b[0])


def first_steps(key, **hp):
    opt = make(key, **hp)
    p0 = np.array([[1.0, -2.0, 0.5]])
    s = opt.init(p0)
    p1, s = opt.step(p0, np.array([[0.3, -1.0, 2.0]]), s)
    p2, s = opt.step(p1, np.array([[-0.2, 0.5, 1.0]]), s)
    return opt, p1, p2, s


@pytest.mark.parametrize("key", ["gd", "adagrad", "rmsprop"])
def test_effective_lr_times_gradient_is_the_step(key):
    opt, p1, p2, s = first_steps(key, lr=0.05)
    np.testing.assert_allclose(p1 - p2, opt.effective_lr(s, like=p1) * [[-0.2, 0.5, 1.0]],
                               rtol=1e-12)


def test_effective_lr_of_momentum_multiplies_the_buffer():
    opt, p1, p2, s = first_steps("momentum", lr=0.05)
    np.testing.assert_allclose(p1 - p2, opt.effective_lr(s) * s.buf, rtol=1e-12)


@pytest.mark.parametrize("key", ["adam", "adamax"])
def test_effective_lr_of_adam_family_multiplies_corrected_momentum(key):
    opt, p1, p2, s = first_steps(key, lr=0.05)
    m_hat = s.exp_avg / (1 - 0.9**2)
    np.testing.assert_allclose(p1 - p2, opt.effective_lr(s) * m_hat, rtol=1e-12)


def test_effective_lr_of_adadelta_and_nadam_written_out():
    opt, _, _, s = first_steps("adadelta", lr=0.5, eps=1e-6)
    expected = 0.5 * np.sqrt(s.acc_delta + 1e-6) / np.sqrt(s.square_avg + 1e-6)
    np.testing.assert_allclose(opt.effective_lr(s), expected, rtol=1e-12)
    opt, _, _, s = first_steps("nadam", lr=0.5)
    expected = 0.5 / (np.sqrt(s.exp_avg_sq / (1 - 0.999**2)) + 1e-8)
    np.testing.assert_allclose(opt.effective_lr(s), expected, rtol=1e-12)
    assert np.all(np.isfinite(make("adam").effective_lr(make("adam").init(np.zeros((2, 2))))))


def test_lr_scale_per_run_column():
    opt = make("gd", lr=0.1)
    p, _ = opt.step(np.zeros((2, 2)), np.ones((2, 2)), opt.init(np.zeros((2, 2))),
                    lr_scale=np.array([[1.0], [0.5]]))
    np.testing.assert_allclose(p, [[-0.1, -0.1], [-0.05, -0.05]])


def test_repr_names_the_key():
    assert repr(make("adam", lr=0.5)).startswith("optimizers.make('adam', lr=0.5")
    assert "array" in repr(make("gd", lr=[0.1, 0.2]))


# ---------------------------------------------------------------------------------------
# Properties over the slider ranges.


@st.composite
def slider_setting(draw, key):
    hp = {}
    for h in OPTIMIZERS[key].hyper:
        if h.kind == "bool":
            hp[h.name] = draw(st.booleans())
        elif h.log_scale:
            exponent = draw(st.floats(math.log10(h.slider_min), math.log10(h.slider_max)))
            hp[h.name] = 10.0**exponent
        else:
            hp[h.name] = draw(st.floats(h.slider_min, h.slider_max))
    return hp


finite = st.floats(-10.0, 10.0, allow_nan=False)


@pytest.mark.parametrize("key", KEYS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_slider_ranges_give_finite_steps_and_leave_inputs_alone(key, data):
    hp = data.draw(slider_setting(key))
    opt = make(key, **hp)
    p = np.array(data.draw(st.lists(st.lists(finite, min_size=2, max_size=2),
                                    min_size=1, max_size=3)))
    grads = [np.array(data.draw(st.lists(st.lists(finite, min_size=2, max_size=2),
                                         min_size=len(p), max_size=len(p))))
             for _ in range(3)]
    state = opt.init(p)
    for g in grads:
        p_copy, g_copy = p.copy(), g.copy()
        state_copy = [a.copy() for a in state]
        new_p, new_state = opt.step(p, g, state, lr_scale=data.draw(st.floats(0.0, 1.0)))
        np.testing.assert_array_equal(p, p_copy)
        np.testing.assert_array_equal(g, g_copy)
        for old, kept in zip(state, state_copy, strict=True):
            np.testing.assert_array_equal(old, kept)
        assert np.all(np.isfinite(new_p))
        assert all(np.all(np.isfinite(a)) for a in new_state)
        assert np.all(np.isfinite(opt.effective_lr(new_state, like=new_p)))
        assert np.all(np.isfinite(opt.lookahead(new_p, new_state)))
        p, state = new_p, new_state


def test_module_exports():
    assert set(optimizers.__all__) == {"OPTIMIZERS", "ExplainLine", "HyperSpec", "Optimizer",
                                       "OptimizerSpec", "make"}


# ---------------------------------------------------------------------------------------
# explain: the numbers of one step, named (what "Explain this step" shows)

EXPLAIN_SETTINGS = [
    {}, {"weight_decay": 0.1}, {"lr": np.array([0.3, 0.03, 0.003])},
]


def explain_settings(key):
    extra = []
    if key == "adam":
        extra = [{"amsgrad": True}, {"amsgrad": np.array([0.0, 1.0, 1.0])}]
    return EXPLAIN_SETTINGS + extra


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("scale", [1.0, 0.4])
def test_explain_reproduces_the_step(key, scale):
    """explain's new point is step's (to rounding: the step folds constants), and its
    state fields are the new state exactly, for every setting and over several steps."""
    rng = np.random.default_rng(11)
    for hp in explain_settings(key):
        opt = make(key, **hp)
        p = rng.normal(size=(3, 2))
        state = opt.init(p)
        for _ in range(6):
            g = rng.normal(size=p.shape) * 3.0
            q = opt.explain(p, g, state, lr_scale=scale)
            new_p, new_state = opt.step(p, g, state, lr_scale=scale)
            np.testing.assert_allclose(q["new"], new_p, rtol=1e-13, atol=1e-300)
            np.testing.assert_allclose(q["step"], new_p - p, rtol=1e-9, atol=1e-15)
            for name, value in zip(new_state._fields, new_state, strict=True):
                np.testing.assert_array_equal(np.broadcast_to(q[name], value.shape), value,
                                              err_msg=f"{key} {hp} {name}")
                np.testing.assert_array_equal(q[f"{name}_prev"], getattr(state, name))
            assert q["lr_t"] == pytest.approx(np.asarray(opt.hyper["lr"]) * scale)
            assert float(q["scheduled"]) == (scale != 1.0)
            p, state = new_p, new_state


def test_explain_intermediate_quantities_follow_the_written_out_rules():
    """The quantities the page prints, against the rules written out here (not the engine)."""
    rng = np.random.default_rng(5)
    p, g1, g2 = rng.normal(size=(3, 1, 2))
    # Adam, step 2: m̂ = m/(1 − β1²), v̂ = v/(1 − β2²)
    b1, b2, lr, eps = 0.8, 0.99, 0.05, 1e-8
    opt = make("adam", lr=lr, beta1=b1, beta2=b2, eps=eps)
    _, s1 = opt.step(p, g1, opt.init(p))
    q = opt.explain(p, g2, s1)
    m = (1 - b1) * (b1 * g1 + g2)
    v = (1 - b2) * (b2 * g1**2 + g2**2)
    np.testing.assert_allclose(q["m_hat"], m / (1 - b1**2), rtol=1e-12)
    np.testing.assert_allclose(q["v_hat"], v / (1 - b2**2), rtol=1e-12)
    np.testing.assert_allclose(q["new"], p - lr * q["m_hat"] / (np.sqrt(q["v_hat"]) + eps),
                               rtol=1e-12)
    # NAdam, step 1: μ_1 = β1(1 − ½·0.96^ψ), μ_2 = β1(1 − ½·0.96^{2ψ})
    psi = 4e-3
    q = make("nadam", beta1=0.9, momentum_decay=psi).explain(p, g1, make("nadam").init(p))
    assert q["mu"].item() == pytest.approx(0.9 * (1 - 0.5 * 0.96**psi), rel=1e-14)
    assert q["mu_next"].item() == pytest.approx(0.9 * (1 - 0.5 * 0.96 ** (2 * psi)), rel=1e-14)
    # AdaDelta, step 1: Δx = √(0 + ε)/√((1 − ρ)g² + ε)·g
    rho, eps = 0.9, 1e-6
    q = make("adadelta", rho=rho, eps=eps).explain(p, g1, make("adadelta").init(p))
    np.testing.assert_allclose(q["delta"], np.sqrt(eps) / np.sqrt((1 - rho) * g1**2 + eps) * g1,
                               rtol=1e-12)
    # coupled weight decay: g = ∇f + λθ
    q = make("momentum", weight_decay=0.3).explain(p, g1, make("momentum").init(p))
    np.testing.assert_allclose(q["g"], g1 + 0.3 * p, rtol=1e-15)
    np.testing.assert_array_equal(q["grad"], g1)


@pytest.mark.parametrize("key", KEYS)
def test_explain_lines_name_only_quantities_the_engine_reports(key):
    """Every «name» of the registry's explain lines is a quantity or a hyper-parameter, with
    and without weight decay and a schedule (amsgrad too for Adam)."""
    import re

    spec = OPTIMIZERS[key]
    assert spec.explain, f"{key} has no explain lines"
    for hp in explain_settings(key)[:2] + ([{"amsgrad": True}] if key == "adam" else []):
        opt = make(key, **hp)
        p = np.array([[0.5, -1.0]])
        q = opt.explain(p, np.array([[1.0, 2.0]]), opt.init(p), lr_scale=0.5)
        known = set(q) | {h.name for h in spec.hyper}
        for line in spec.explain:
            names = set(re.findall("«([A-Za-z_0-9]+)»", line.latex))
            assert names <= known, (key, names - known)
            assert line.when.lstrip("!") in known | {""}, (key, line.when)
        for field in opt.State._fields:
            assert spec.state_symbol(field) != rf"\texttt{{{field}}}", (key, field)


def test_notes_comparison_of_adam_names_the_right_threshold():
    """√(v̂+ε) and √v̂ + ε agree once v̂ ≫ ε and differ while v̂ ≲ ε, i.e. |g| ≲ √ε: the
    text says so (not "as small as ε²", where they differ by a factor of ~10⁴)."""
    eps = OPTIMIZERS["adam"].defaults["eps"]

    def relative_gap(v_hat):
        inside, outside = np.sqrt(v_hat + eps), np.sqrt(v_hat) + eps
        return abs(inside - outside) / outside

    assert relative_gap(100 * eps) < 0.01       # agree well above ε
    assert relative_gap(eps) > 0.3              # differ at v̂ = ε ...
    assert relative_gap(eps**2) > 1e3           # ... and hugely at ε², not "only" there
    threshold = math.sqrt(eps)                  # |g| with g² = ε
    assert threshold == pytest.approx(1e-4)
    text = OPTIMIZERS["adam"].notes_diff
    assert r"\hat v_t \lesssim \epsilon" in text and "10^{-4}" in text
    assert r"\epsilon^2" not in text
    for key in ("adagrad", "rmsprop"):
        assert r"G_t \lesssim \epsilon" in OPTIMIZERS[key].notes_diff
