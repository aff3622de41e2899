"""Surfaces: analytic gradients against central differences, listed critical points, contract."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.surfaces import (
    CRITICAL_KINDS,
    OPTIMIZER_KEYS,
    SURFACES,
    CriticalPoint,
    critical_points,
    make_elongated_bowl,
    nearest_minimum,
)

KEYS = list(SURFACES)
REQUIRED = {
    "sphere", "elongated_bowl", "rotated_quadratic", "saddle", "monkey_saddle", "ridge_saddle",
    "two_wells", "plateau", "rosenbrock", "beale", "himmelblau", "rastrigin", "ackley", "booth",
    "matyas", "goldstein_price", "six_hump_camel", "three_hump_camel", "mccormick",
    "styblinski_tang", "easom",
}
# Cone tips where the gradient is undefined and set to 0 by convention.
KINKS = {("ackley", 0.0, 0.0), ("plateau", 0.0, 0.0)}


def random_points(surface, n, seed):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.domain
    return np.stack([rng.uniform(x0, x1, n), rng.uniform(y0, y1, n)], axis=-1)


def central_gradient(f, xy, h):
    """(f(p + h e_j) − f(p − h e_j)) / 2h for j = x, y; h per point."""
    cols = []
    for j in range(2):
        e = np.zeros(xy.shape)
        e[..., j] = h
        cols.append((f(xy + e) - f(xy - e)) / (2.0 * h))
    return np.stack(cols, axis=-1)


def hessian_fd(grad, p, h=1e-5):
    cols = []
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        cols.append((grad(p + e) - grad(p - e)) / (2.0 * h))
    hess = np.stack(cols, axis=-1)
    return 0.5 * (hess + hess.T)


def test_registry_has_every_required_surface():
    assert set(SURFACES) >= REQUIRED
    for key, surface in SURFACES.items():
        assert surface.key == key


@pytest.mark.parametrize("key", KEYS)
def test_contract(key):
    s = SURFACES[key]
    (x0, x1), (y0, y1) = s.domain
    assert x0 < x1 and y0 < y1
    assert x0 <= s.start[0] <= x1 and y0 <= s.start[1] <= y1
    assert set(s.suggested_lr) == set(OPTIMIZER_KEYS)
    assert all(math.isfinite(v) and v > 0 for v in s.suggested_lr.values())
    assert 200 <= s.default_steps <= 500
    assert s.title and s.story and "\n" not in s.story
    assert all(isinstance(p, CriticalPoint) and p.kind in CRITICAL_KINDS for p in s.minima)
    assert s.unbounded_below == (not s.global_minima)
    for p in s.minima:
        assert x0 <= p.x <= x1 and y0 <= p.y <= y1, p


@pytest.mark.parametrize("key", KEYS)
def test_shapes_dtype_and_input_untouched(key):
    s = SURFACES[key]
    xy = random_points(s, 24, 1).reshape(2, 3, 4, 2)
    before = xy.copy()
    value, grad = s.f(xy), s.grad(xy)
    assert value.shape == (2, 3, 4) and value.dtype == np.float64
    assert grad.shape == (2, 3, 4, 2) and grad.dtype == np.float64
    np.testing.assert_array_equal(xy, before)
    # A single point and a plain list work too, and agree with the batched call.
    one = xy[1, 2, 3]
    assert np.shape(s.f(list(one))) == () and s.grad(tuple(one)).shape == (2,)
    np.testing.assert_allclose(s.f(one), value[1, 2, 3], rtol=1e-15, atol=0)
    np.testing.assert_allclose(s.grad(one), grad[1, 2, 3], rtol=1e-15, atol=0)
    # Integer input is promoted, not truncated.
    np.testing.assert_allclose(s.f(np.array([1, 1])), s.f(np.array([1.0, 1.0])))


@pytest.mark.parametrize("key", KEYS)
def test_gradient_matches_central_differences(key):
    s = SURFACES[key]
    xy = random_points(s, 400, seed=hash(key) % 2**32)
    h = 1e-6 * np.maximum(1.0, np.abs(xy).max(axis=-1))
    fd = central_gradient(s.f, xy, h)
    g = s.grad(xy)
    # Rounding error of the difference quotient is ~ eps·|f|/h; truncation ~ h²·|f'''|.
    noise = 1e-16 * np.abs(s.f(xy)) / h * 50.0
    err = np.linalg.norm(fd - g, axis=-1)
    tol = 1e-5 * np.linalg.norm(g, axis=-1) + noise + 1e-9
    worst = np.argmax(err / tol)
    assert np.all(err <= tol), (key, xy[worst], g[worst], fd[worst])


@pytest.mark.parametrize("key", KEYS)
def test_listed_points_are_stationary_with_listed_values(key):
    s = SURFACES[key]
    for p in s.minima:
        point = np.array([p.x, p.y])
        value = float(s.f(point))
        assert value == pytest.approx(p.f, rel=1e-9, abs=1e-12), p
        g = s.grad(point)
        scale = max(1.0, float(np.abs(s.grad(point + 1e-3)).max()))
        assert np.linalg.norm(g) <= 1e-8 * scale, (p, g)


@pytest.mark.parametrize("key", KEYS)
def test_kinds_match_hessian_sign(key):
    s = SURFACES[key]
    for p in s.minima:
        point = np.array([p.x, p.y])
        if (key, p.x, p.y) in KINKS:
            # Cone tip: f rises in every direction.
            angles = np.linspace(0, 2 * np.pi, 16, endpoint=False)
            ring = point + 1e-4 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
            assert np.all(s.f(ring) > p.f)
            continue
        eig = np.linalg.eigvalsh(hessian_fd(s.grad, point))
        tol = 1e-7 * max(1.0, np.abs(eig).max())
        if abs(eig).min() <= tol:
            # Degenerate (monkey saddle): decide from f on a small circle.
            angles = np.linspace(0, 2 * np.pi, 36, endpoint=False)
            ring = point + 1e-2 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
            diff = s.f(ring) - p.f
            assert p.kind == "saddle" and diff.min() < 0 < diff.max(), p
        elif p.kind in ("global", "local"):
            assert eig.min() > tol, (p, eig)
        elif p.kind == "max":
            assert eig.max() < -tol, (p, eig)
        else:
            assert eig.min() < -tol < tol < eig.max(), (p, eig)


@pytest.mark.parametrize("key", KEYS)
def test_global_minimum_is_below_a_dense_grid(key):
    s = SURFACES[key]
    (x0, x1), (y0, y1) = s.domain
    gx, gy = np.meshgrid(np.linspace(x0, x1, 601), np.linspace(y0, y1, 601))
    values = s.f(np.stack([gx, gy], axis=-1))
    if s.unbounded_below:
        assert not s.global_minima
        return
    best = min(p.f for p in s.global_minima)
    assert all(p.f == pytest.approx(best, abs=1e-9) for p in s.global_minima)
    assert best <= values.min() + 1e-9
    for p in s.minima:
        if p.kind == "local":
            assert p.f > best + 1e-9


@pytest.mark.parametrize("key", KEYS)
def test_no_nan_on_the_domain_and_at_listed_points(key):
    s = SURFACES[key]
    pts = np.concatenate([random_points(s, 200, 7), [[p.x, p.y] for p in s.minima],
                          [list(s.start)], np.zeros((1, 2))])
    assert np.isfinite(s.f(pts)).all() and np.isfinite(s.grad(pts)).all()


def test_known_published_values():
    # Values from the reference table (independent of our Newton polish).
    expect = {
        "rosenbrock": (1.0, 1.0, 0.0), "beale": (3.0, 0.5, 0.0), "booth": (1.0, 3.0, 0.0),
        "goldstein_price": (0.0, -1.0, 3.0), "easom": (math.pi, math.pi, -1.0),
        "six_hump_camel": (0.089842, -0.712656, -1.031628),
        "mccormick": (-0.54719, -1.54719, -1.9133),
        "styblinski_tang": (-2.903534, -2.903534, -78.332),
        "two_wells": (-0.968, 0.0, -5.032),
    }
    for key, (x, y, v) in expect.items():
        s = SURFACES[key]
        assert any(abs(p.x - x) < 1e-3 and abs(p.y - y) < 1e-3 and abs(p.f - v) < 1e-3
                   and p.kind == "global" for p in s.minima), key
    hb = SURFACES["himmelblau"]
    assert len(hb.global_minima) == 4
    assert any(p.kind == "max" and abs(p.f - 181.617) < 1e-3 for p in hb.minima)
    # Rastrigin: 11 × 11 lattice of minima on [−5.12, 5.12]², one global.
    assert len(SURFACES["rastrigin"].minima) == 121
    assert len(SURFACES["rastrigin"].global_minima) == 1


def test_ackley_gradient_at_origin_is_zero_not_nan():
    s = SURFACES["ackley"]
    g = s.grad(np.zeros((3, 2)))
    np.testing.assert_array_equal(g, 0.0)
    assert s.f(np.zeros(2)) == pytest.approx(0.0, abs=1e-14)


@pytest.mark.parametrize("kappa", [1.0, 10.0, 100.0])
def test_elongated_bowl_kappa(kappa):
    s = make_elongated_bowl(kappa)
    xy = np.array([[0.3, -0.7], [1.0, 2.0]])
    np.testing.assert_allclose(s.f(xy), 0.5 * (xy[:, 0] ** 2 + kappa * xy[:, 1] ** 2))
    np.testing.assert_allclose(s.grad(xy), np.stack([xy[:, 0], kappa * xy[:, 1]], -1))
    # Suggested GD rate lies inside the stability range 0 < lr·κ < 2.
    assert 0 < s.suggested_lr["gd"] * kappa < 2
    assert s.params["kappa"] == kappa
    with pytest.raises(ValueError, match="kappa"):
        make_elongated_bowl(0.5)


def test_rotated_quadratic_eigenvalues_are_1_and_100():
    s = SURFACES["rotated_quadratic"]
    eig = np.sort(np.linalg.eigvalsh(hessian_fd(s.grad, np.array([0.2, -0.4]))))
    np.testing.assert_allclose(eig, [1.0, 100.0], rtol=1e-6)
    # Slow direction along the diagonal x = y.
    d = np.array([1.0, 1.0]) / math.sqrt(2)
    assert s.f(d) == pytest.approx(0.5)


def test_gd_stability_of_suggested_rates_on_quadratics():
    # GD on ½vᵀAv is stable iff lr·λ_max < 2 (NAG with β = 0.9: lr·λ_max < 2(1+β)/(1+2β)).
    for key, lam_max in [("sphere", 2.0), ("elongated_bowl", 20.0),
                         ("rotated_quadratic", 100.0), ("booth", 18.0), ("matyas", 1.0)]:
        lr = SURFACES[key].suggested_lr
        assert lr["gd"] * lam_max < 2.0, key
        assert lr["nag"] * lam_max < 2 * 1.9 / 2.8, key


def test_nearest_minimum():
    s = SURFACES["himmelblau"]
    pts = np.array([[3.1, 2.1], [-2.7, 3.0], [-3.7, -3.2], [3.5, -1.9], [np.nan, 0.0]])
    index, dist = nearest_minimum(s, pts)
    assert index.shape == (5,) and dist.shape == (5,)
    for i in range(4):
        p = s.minima[index[i]]
        assert p.kind == "global"
        direct = [math.hypot(pts[i, 0] - q.x, pts[i, 1] - q.y) for q in s.global_minima]
        assert dist[i] == pytest.approx(min(direct))
    assert index[4] == -1 and dist[4] == np.inf
    # Batched shape (..., 2) -> (...).
    idx2, d2 = nearest_minimum(s, pts[:4].reshape(2, 2, 2))
    np.testing.assert_array_equal(idx2.ravel(), index[:4])
    # Surfaces without minima answer -1 / inf; other kinds can be asked for.
    idx3, d3 = nearest_minimum(SURFACES["saddle"], np.zeros((2, 2)))
    assert (idx3 == -1).all() and np.isinf(d3).all()
    idx4, d4 = nearest_minimum(SURFACES["saddle"], np.array([0.1, 0.0]), kinds=("saddle",))
    assert idx4 == 0 and d4 == pytest.approx(0.1)


def test_surface_is_frozen():
    s = SURFACES["sphere"]
    with pytest.raises(AttributeError):
        s.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.suggested_lr["gd"] = 1.0  # type: ignore[index]
    with pytest.raises(ValueError):
        CriticalPoint(0.0, 0.0, 0.0, "minimum")


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match=r"\(\.\.\., 2\)"):
        SURFACES["sphere"].f(np.zeros(3))


@pytest.mark.parametrize("key", KEYS)
def test_default_race_with_suggested_rates_is_not_a_blow_up(key):
    """Every optimizer at its suggested lr, from the default start, for default_steps steps:
    finite, ends lower than it started and (on bounded surfaces) stays near the domain."""
    optimizers = pytest.importorskip("engine.optimizers")
    s = SURFACES[key]
    (x0, x1), (y0, y1) = s.domain
    margin = 0.25 * max(x1 - x0, y1 - y0)
    for name in OPTIMIZER_KEYS:
        opt = optimizers.make(name, lr=s.suggested_lr[name])
        params = np.array([s.start], dtype=np.float64)
        state = opt.init(params)
        path = [params]
        for _ in range(s.default_steps):
            params, state = opt.step(params, s.grad(params), state)
            path.append(params)
        path = np.concatenate(path)
        assert np.isfinite(path).all() and np.abs(path).max() < 1e5, (key, name)
        assert s.f(path[-1]) < s.f(np.array(s.start)), (key, name)
        if not s.unbounded_below:
            assert (path[:, 0] >= x0 - margin).all() and (path[:, 0] <= x1 + margin).all()
            assert (path[:, 1] >= y0 - margin).all() and (path[:, 1] <= y1 + margin).all()


def test_teaching_stories_hold_with_suggested_rates():
    """The one-line stories are true at the defaults (plain GD / heavy-ball loops)."""

    def gd(s, lr, steps, momentum=0.0):
        p, buf = np.array(s.start), np.zeros(2)
        for t in range(steps):
            g = s.grad(p)
            buf = g if t == 0 else momentum * buf + g  # torch SGD momentum buffer
            p = p - lr * buf
        return p

    wells = SURFACES["two_wells"]
    lr = wells.suggested_lr["gd"]
    assert nearest_minimum(wells, gd(wells, lr, 300))[0] == 1  # GD: shallow right well
    assert nearest_minimum(wells, gd(wells, lr, 300, momentum=0.9))[0] == 0  # momentum: deep
    rosen = SURFACES["rosenbrock"]
    assert rosen.f(gd(rosen, rosen.suggested_lr["gd"], 500)) > 1.0  # GD crawls
    assert rosen.f(gd(rosen, rosen.suggested_lr["momentum"], 500, momentum=0.9)) < 0.01
    sad = SURFACES["saddle"]
    end = gd(sad, sad.suggested_lr["gd"], sad.default_steps)
    assert abs(end[0]) < 0.05 and abs(end[1]) < 0.5  # still held near the saddle point
    easom = SURFACES["easom"]
    end = gd(easom, easom.suggested_lr["gd"], 300)
    assert np.linalg.norm(end - np.array(easom.start)) < 0.2  # GD barely moves in the desert


# Surfaces whose critical points in the domain are finitely many and non-degenerate.
# (Excluded: monkey saddle — zero Hessian; plateau — rings; Rastrigin, Ackley — only their
# lattice minima are listed, not the saddles and maxima between them.)
COMPLETE = [k for k in KEYS if k not in {"monkey_saddle", "plateau", "rastrigin", "ackley"}]


@pytest.mark.parametrize("key", COMPLETE)
def test_listed_critical_points_are_all_there_are(key):
    """An independent multi-start Newton search finds exactly the listed points and kinds."""
    s = SURFACES[key]
    found = critical_points(s.f, s.grad, s.domain, grid=41, max_points=100)
    as_set = {(round(p.x, 5) + 0.0, round(p.y, 5) + 0.0, p.kind) for p in found}
    listed = {(round(p.x, 5) + 0.0, round(p.y, 5) + 0.0, p.kind) for p in s.minima}
    assert as_set == listed


def test_lattice_minima_sit_next_to_integer_points():
    for key, offset in [("rastrigin", 0.03), ("ackley", 0.05)]:
        s = SURFACES[key]
        pts = np.array([[p.x, p.y] for p in s.minima])
        assert len(pts) == 121
        assert np.abs(pts - np.round(pts)).max() < offset
        assert len({(round(x), round(y)) for x, y in pts}) == 121


def test_critical_points_of_a_hand_made_function():
    # f = (x² − 1)² + y²: minima (±1, 0) f = 0, saddle (0, 0) f = 1; ∇f = (4x(x² − 1), 2y).
    def f(xy):
        return (xy[..., 0] ** 2 - 1) ** 2 + xy[..., 1] ** 2

    def grad(xy):
        x, y = xy[..., 0], xy[..., 1]
        return np.stack([4 * x * (x**2 - 1), 2 * y], axis=-1)

    found = critical_points(f, grad, ((-2, 2), (-2, 2)))
    summary = sorted((round(p.x, 9) + 0.0, round(p.y, 9) + 0.0, round(p.f, 9), p.kind)
                     for p in found)
    assert summary == [(-1.0, 0.0, 0.0, "global"), (0.0, 0.0, 1.0, "saddle"),
                       (1.0, 0.0, 0.0, "global")]
    # Restricted to x ≥ 0.5 the saddle is outside; the minimum stays global.
    assert [(p.kind, round(p.x, 6)) for p in critical_points(f, grad, ((0.5, 2), (-1, 1)))] == [
        ("global", 1.0)]
    # h = x² + y² − y³: minimum (0, 0) h = 0, saddle (0, 2/3) h = 4/27, but h(0, 2) = −4:
    # the minimum is not the lowest point of the box, so it is "local", not "global".
    def h(xy):
        return xy[..., 0] ** 2 + xy[..., 1] ** 2 - xy[..., 1] ** 3

    def h_grad(xy):
        x, y = xy[..., 0], xy[..., 1]
        return np.stack([2 * x, 2 * y - 3 * y**2], axis=-1)

    summary = sorted((round(p.x, 9) + 0.0, round(p.y, 9) + 0.0, p.kind)
                     for p in critical_points(h, h_grad, ((-2, 2), (-2, 2))))
    assert summary == [(0.0, 0.0, "local"), (0.0, round(2 / 3, 9), "saddle")]


def test_critical_point_is_a_named_tuple():
    x, y, value, kind = SURFACES["rosenbrock"].minima[0]
    assert (x, y, value, kind) == (1.0, 1.0, 0.0, "global")
    assert SURFACES["rosenbrock"].minima[0].kind == "global"


def test_plateau_rings_described_in_the_docstring():
    """Radial profile g(ρ) = f(ρ, 0): stationary rings at ρ ≈ 0.503 (max) and 0.663 (min)."""
    s = SURFACES["plateau"]

    def slope(rho):
        return s.grad(np.array([rho, 0.0]))[0]

    for lo, hi, value, kind in [(0.45, 0.55, 0.4419, "max"), (0.6, 0.7, 0.3883, "min")]:
        a, b = lo, hi
        assert slope(a) * slope(b) < 0
        for _ in range(60):  # bisection on the radial slope
            mid = 0.5 * (a + b)
            a, b = (mid, b) if slope(a) * slope(mid) > 0 else (a, mid)
        ring = np.array([[a * math.cos(t), a * math.sin(t)] for t in np.linspace(0, 6, 7)])
        np.testing.assert_allclose(s.f(ring), value, atol=1e-4)
        assert np.abs(s.grad(ring)).max() < 1e-8
        outward = s.f(np.array([a + 1e-3, 0.0])) - s.f(np.array([a, 0.0]))
        assert (outward > 0) == (kind == "min")
