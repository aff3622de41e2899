"""Two-dimensional loss surfaces for optimizer demos.

Every surface is a frozen :class:`Surface` with a vectorized value ``f(xy)`` and an
*analytic* gradient ``grad(xy)``.  Both accept any array of shape ``(..., 2)`` (the last axis
holds ``(x, y)``), never modify it, and return float64 arrays of shape ``(...)`` and
``(..., 2)``.  ``SURFACES`` is the ordered registry ``key -> Surface``.

Every listed critical point (``Surface.minima``) was located with a Newton polish on the
analytic gradient and is re-checked by ``tests/engine/test_surfaces.py`` (stationary, listed
value, kind from the sign of the Hessian).  For the lattice surfaces (Rastrigin, Ackley)
only the minima are listed, not the hundreds of saddles and maxima between them.

Non-smooth points: Ackley and the plateau surface have a cone tip at the origin where the
gradient is undefined; ``grad`` returns 0 there (the point is their minimum), never NaN.
The plateau surface is radial: besides its global minimum it has a ring of local minima
(ρ = √(x² + y²) ≈ 0.663, f ≈ 0.3883) and a ring of maxima (ρ ≈ 0.503, f ≈ 0.4419); rings
are not isolated points, so they are not listed.

Suggested learning rates (``Surface.suggested_lr``) were chosen by simulating the default
race (every optimizer from ``start`` for ``default_steps`` steps, torch update rules):
no run blows up, every run ends lower than it started and, on bounded surfaces, stays near
the domain; the stories ("GD crawls", "momentum escapes the shallow well") hold at these
rates.  ``tests/engine/test_surfaces.py`` re-runs those races.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

__all__ = [
    "CRITICAL_KINDS",
    "OPTIMIZER_KEYS",
    "SURFACES",
    "CriticalPoint",
    "Surface",
    "critical_points",
    "make_elongated_bowl",
    "nearest_minimum",
]

CRITICAL_KINDS = ("global", "local", "saddle", "max")
OPTIMIZER_KEYS = (
    "gd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam",
    "adamax",
)

Array = np.ndarray


class _CriticalPointFields(NamedTuple):
    x: float
    y: float
    f: float
    kind: str


class CriticalPoint(_CriticalPointFields):
    """A point where the gradient vanishes: ``kind`` is global, local, saddle or max.

    A named tuple, so both ``p.x`` and ``x, y, f, kind = p`` work.
    """

    __slots__ = ()

    def __new__(cls, x: float, y: float, f: float, kind: str) -> CriticalPoint:
        if kind not in CRITICAL_KINDS:
            raise ValueError(f"kind must be one of {CRITICAL_KINDS}, got {kind!r}")
        return super().__new__(cls, float(x), float(y), float(f), kind)


@dataclass(frozen=True, eq=False)
class Surface:
    """A 2-D loss surface with everything a page needs to race optimizers on it.

    ``f`` and ``grad`` map ``(..., 2) -> (...)`` and ``(..., 2) -> (..., 2)``.
    ``domain`` is ``((xmin, xmax), (ymin, ymax))``; ``start`` the default start point;
    ``suggested_lr`` a read-only mapping optimizer key -> learning rate for a race of
    ``default_steps`` steps from ``start``; ``log_color`` asks for a log colour scale;
    ``unbounded_below`` marks surfaces (saddles) that fall to -inf outside the box.
    """

    key: str
    title: str
    f: Callable[[Array], Array]
    grad: Callable[[Array], Array]
    domain: tuple[tuple[float, float], tuple[float, float]]
    minima: tuple[CriticalPoint, ...]
    start: tuple[float, float]
    suggested_lr: Mapping[str, float]
    log_color: bool
    story: str
    default_steps: int = 300
    unbounded_below: bool = False
    formula: str = ""
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def global_minima(self) -> tuple[CriticalPoint, ...]:
        """The critical points of kind ``global``."""
        return tuple(p for p in self.minima if p.kind == "global")


# ----------------------------------------------------------------------------- helpers

def _split(xy) -> tuple[Array, Array]:
    """``(..., 2)`` array-like -> float64 views ``x, y`` of shape ``(...)`` (no copy of xy)."""
    arr = np.asarray(xy, dtype=np.float64)
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise ValueError(f"expected an array of shape (..., 2), got shape {arr.shape}")
    return arr[..., 0], arr[..., 1]


def _stack(x: Array, gx, gy) -> Array:
    """Stack gradient components, broadcasting constants to the input shape.

    Written into one preallocated ``(..., 2)`` array: the same float64 values as
    ``np.stack`` of two broadcast copies, several times faster (this runs every step).
    """
    out = np.empty(np.shape(x) + (2,))
    out[..., 0] = gx
    out[..., 1] = gy
    return out


def _lrs(width: float, gd: float, momentum: float | None = None, nag: float | None = None,
         **overrides: float) -> Mapping[str, float]:
    """Read-only learning-rate table for a race on a domain ``width`` wide.

    GD, momentum and NAG rates depend on the curvature, so they are given (momentum and NAG
    default to the GD rate: same lr, so the race shows what the momentum term adds).
    Adaptive methods take steps of roughly ``lr`` whatever the gradient size, so their rates
    scale with the domain: Adam-family lr = width/80 (≈ 160 steps to cross the box),
    RMSProp width/400 (its first step is 10·lr with ρ = 0.99), AdaGrad width/8 (its steps
    shrink like 1/√t), AdaDelta 1.25·width (it starts with tiny √eps-sized steps).
    """
    table = {
        "gd": gd,
        "momentum": gd if momentum is None else momentum,
        "nag": gd if nag is None else nag,
        "adagrad": width / 8.0,
        "rmsprop": width / 400.0,
        "adadelta": 1.25 * width,
        "adam": width / 80.0,
        "adamw": width / 80.0,
        "nadam": width / 80.0,
        "adamax": width / 80.0,
    }
    unknown = set(overrides) - set(table)
    if unknown:
        raise ValueError(f"unknown optimizer keys {sorted(unknown)}")
    table.update(overrides)
    return MappingProxyType({key: float(table[key]) for key in OPTIMIZER_KEYS})


def _points(rows) -> tuple[CriticalPoint, ...]:
    return tuple(CriticalPoint(float(x), float(y), float(v), kind) for x, y, v, kind in rows)


# ----------------------------------------------------------------------------- quadratics

def _sphere_f(xy):
    x, y = _split(xy)
    return x**2 + y**2


def _sphere_grad(xy):
    x, y = _split(xy)
    return _stack(x, 2.0 * x, 2.0 * y)


def make_elongated_bowl(kappa: float = 20.0) -> Surface:
    """Axis-aligned ill-conditioned bowl  f = ½(x² + κ·y²),  Hessian diag(1, κ).

    GD is stable iff 0 < lr·κ < 2; the suggested GD rate lr = 1.8/κ zig-zags across the
    narrow y direction (factor |1 − lr·κ| = 0.8 per step) while crawling along x.
    Momentum (β = 0.9) gets the same lr (heavy ball is stable up to lr·κ < 2(1 + β));
    NAG gets 1.2/κ (its bound is lr·κ < 2(1 + β)/(1 + 2β) ≈ 1.36).
    """
    kappa = float(kappa)
    if not (math.isfinite(kappa) and 1.0 <= kappa <= 1e4):
        raise ValueError(f"kappa must be in [1, 10000], got {kappa}")

    def f(xy):
        x, y = _split(xy)
        return 0.5 * (x**2 + kappa * y**2)

    def grad(xy):
        x, y = _split(xy)
        return _stack(x, x, kappa * y)

    lr = 1.8 / kappa
    return Surface(
        key="elongated_bowl",
        title=f"Elongated bowl (κ = {kappa:g})",
        f=f, grad=grad,
        domain=((-2.0, 2.0), (-2.0, 2.0)),
        minima=_points([(0.0, 0.0, 0.0, "global")]),
        start=(-1.8, 1.0),
        suggested_lr=_lrs(4.0, gd=lr, nag=1.2 / kappa),
        log_color=False,
        story="one steep and one shallow direction: GD zig-zags, momentum and Adam cut across",
        default_steps=200,
        formula="½(x² + κ·y²)",
        params=MappingProxyType({"kappa": kappa}),
    )


# λ = (1, 100) rotated by 45°: eigenvector (1, 1)/√2 has λ₁ = 1, (1, −1)/√2 has λ₂ = 100.
_ROT_L1, _ROT_L2 = 1.0, 100.0
_ROT_A = 0.5 * (_ROT_L1 + _ROT_L2)  # diagonal of the Hessian
_ROT_B = 0.5 * (_ROT_L1 - _ROT_L2)  # off-diagonal of the Hessian


def _rotated_f(xy):
    x, y = _split(xy)
    return 0.5 * (_ROT_A * (x**2 + y**2)) + _ROT_B * x * y


def _rotated_grad(xy):
    x, y = _split(xy)
    return _stack(x, _ROT_A * x + _ROT_B * y, _ROT_B * x + _ROT_A * y)


# ----------------------------------------------------------------------------- saddles

def _saddle_f(xy):
    x, y = _split(xy)
    return x**2 - y**2


def _saddle_grad(xy):
    x, y = _split(xy)
    return _stack(x, 2.0 * x, -2.0 * y)


def _monkey_f(xy):
    x, y = _split(xy)
    return x**3 - 3.0 * x * y**2


def _monkey_grad(xy):
    x, y = _split(xy)
    return _stack(x, 3.0 * x**2 - 3.0 * y**2, -6.0 * x * y)


def _ridge_f(xy):
    x, y = _split(xy)
    return np.sin(x) + y**2


def _ridge_grad(xy):
    x, y = _split(xy)
    return _stack(x, np.cos(x), 2.0 * y)


# ----------------------------------------------------------------------------- teaching

def _two_wells_parts(x, y):
    # Gaussian wells exp(−q/0.2) with q = (x ∓ 1)² + (1.4y)²
    right = np.exp(-((x - 1.0) ** 2 + (1.4 * y) ** 2) / 0.2)
    left = np.exp(-((x + 1.0) ** 2 + (1.4 * y) ** 2) / 0.2)
    return right, left


def _two_wells_f(xy):
    x, y = _split(xy)
    right, left = _two_wells_parts(x, y)
    return -2.0 * right - 6.0 * left + x**2 + y**2


def _two_wells_grad(xy):
    x, y = _split(xy)
    right, left = _two_wells_parts(x, y)
    # d/dx [−A·exp(−q/0.2)] = A·exp(−q/0.2)·(∂q/∂x)/0.2
    gx = 2.0 * right * 2.0 * (x - 1.0) / 0.2 + 6.0 * left * 2.0 * (x + 1.0) / 0.2 + 2.0 * x
    gy = (2.0 * right + 6.0 * left) * 2.0 * 1.96 * y / 0.2 + 2.0 * y
    return _stack(x, gx, gy)


def _plateau_f(xy):
    x, y = _split(xy)
    r = 10.0 * np.hypot(x, y) + 0.01
    return -np.sin(r) / r + 0.01 * r**2


def _plateau_grad(xy):
    x, y = _split(xy)
    rho = np.hypot(x, y)
    r = 10.0 * rho + 0.01
    dfdr = (np.sin(r) - r * np.cos(r)) / r**2 + 0.02 * r
    # ∂r/∂x = 10x/ρ is undefined at the cone tip ρ = 0: the gradient is set to 0 there.
    safe_rho = np.where(rho > 0.0, rho, 1.0)
    scale = np.where(rho > 0.0, 10.0 * dfdr / safe_rho, 0.0)
    return _stack(x, scale * x, scale * y)


# ----------------------------------------------------------------------------- classics

def _rosenbrock_f(xy):
    x, y = _split(xy)
    return (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2


def _rosenbrock_grad(xy):
    x, y = _split(xy)
    return _stack(x, -2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2))


def _beale_terms(x, y):
    return 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale_f(xy):
    x, y = _split(xy)
    t1, t2, t3 = _beale_terms(x, y)
    return t1**2 + t2**2 + t3**2


def _beale_grad(xy):
    x, y = _split(xy)
    t1, t2, t3 = _beale_terms(x, y)
    gx = 2.0 * (t1 * (y - 1.0) + t2 * (y**2 - 1.0) + t3 * (y**3 - 1.0))
    gy = 2.0 * (t1 * x + t2 * 2.0 * x * y + t3 * 3.0 * x * y**2)
    return _stack(x, gx, gy)


def _himmelblau_f(xy):
    x, y = _split(xy)
    return (x**2 + y - 11.0) ** 2 + (x + y**2 - 7.0) ** 2


def _himmelblau_grad(xy):
    x, y = _split(xy)
    a, b = x**2 + y - 11.0, x + y**2 - 7.0
    return _stack(x, 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b)


def _rastrigin_f(xy):
    x, y = _split(xy)
    return 20.0 + x**2 - 10.0 * np.cos(2 * np.pi * x) + y**2 - 10.0 * np.cos(2 * np.pi * y)


def _rastrigin_grad(xy):
    x, y = _split(xy)
    return _stack(x, 2.0 * x + 20.0 * np.pi * np.sin(2 * np.pi * x),
                  2.0 * y + 20.0 * np.pi * np.sin(2 * np.pi * y))


def _ackley_f(xy):
    x, y = _split(xy)
    s = np.sqrt(0.5 * (x**2 + y**2))
    c = 0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y))
    return -20.0 * np.exp(-0.2 * s) - np.exp(c) + np.e + 20.0


def _ackley_grad(xy):
    x, y = _split(xy)
    s = np.sqrt(0.5 * (x**2 + y**2))
    c = 0.5 * (np.cos(2 * np.pi * x) + np.cos(2 * np.pi * y))
    # ∂/∂x [−20·exp(−0.2s)] = 2x·exp(−0.2s)/s: undefined at the origin (cone tip) -> 0 there.
    safe_s = np.where(s > 0.0, s, 1.0)
    cone = np.where(s > 0.0, 2.0 * np.exp(-0.2 * s) / safe_s, 0.0)
    ripple = np.pi * np.exp(c)
    return _stack(x, cone * x + ripple * np.sin(2 * np.pi * x),
                  cone * y + ripple * np.sin(2 * np.pi * y))


def _booth_f(xy):
    x, y = _split(xy)
    return (x + 2.0 * y - 7.0) ** 2 + (2.0 * x + y - 5.0) ** 2


def _booth_grad(xy):
    x, y = _split(xy)
    a, b = x + 2.0 * y - 7.0, 2.0 * x + y - 5.0
    return _stack(x, 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b)


def _matyas_f(xy):
    x, y = _split(xy)
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def _matyas_grad(xy):
    x, y = _split(xy)
    return _stack(x, 0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x)


def _goldstein_price_parts(x, y):
    s = x + y + 1.0
    p = 19.0 - 14.0 * x + 3.0 * x**2 - 14.0 * y + 6.0 * x * y + 3.0 * y**2
    d = 2.0 * x - 3.0 * y
    q = 18.0 - 32.0 * x + 12.0 * x**2 + 48.0 * y - 36.0 * x * y + 27.0 * y**2
    return s, p, d, q


def _goldstein_price_f(xy):
    x, y = _split(xy)
    s, p, d, q = _goldstein_price_parts(x, y)
    return (1.0 + s**2 * p) * (30.0 + d**2 * q)


def _goldstein_price_grad(xy):
    x, y = _split(xy)
    s, p, d, q = _goldstein_price_parts(x, y)
    a, b = 1.0 + s**2 * p, 30.0 + d**2 * q
    dp = -14.0 + 6.0 * x + 6.0 * y  # ∂p/∂x = ∂p/∂y
    a_x = a_y = 2.0 * s * p + s**2 * dp
    b_x = 4.0 * d * q + d**2 * (-32.0 + 24.0 * x - 36.0 * y)
    b_y = -6.0 * d * q + d**2 * (48.0 - 36.0 * x + 54.0 * y)
    return _stack(x, a_x * b + a * b_x, a_y * b + a * b_y)


def _six_hump_f(xy):
    x, y = _split(xy)
    return (4.0 - 2.1 * x**2 + x**4 / 3.0) * x**2 + x * y + (-4.0 + 4.0 * y**2) * y**2


def _six_hump_grad(xy):
    x, y = _split(xy)
    return _stack(x, 8.0 * x - 8.4 * x**3 + 2.0 * x**5 + y, x - 8.0 * y + 16.0 * y**3)


def _three_hump_f(xy):
    x, y = _split(xy)
    return 2.0 * x**2 - 1.05 * x**4 + x**6 / 6.0 + x * y + y**2


def _three_hump_grad(xy):
    x, y = _split(xy)
    return _stack(x, 4.0 * x - 4.2 * x**3 + x**5 + y, x + 2.0 * y)


def _mccormick_f(xy):
    x, y = _split(xy)
    return np.sin(x + y) + (x - y) ** 2 - 1.5 * x + 2.5 * y + 1.0


def _mccormick_grad(xy):
    x, y = _split(xy)
    c = np.cos(x + y)
    return _stack(x, c + 2.0 * (x - y) - 1.5, c - 2.0 * (x - y) + 2.5)


def _styblinski_tang_f(xy):
    x, y = _split(xy)
    return 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x + y**4 - 16.0 * y**2 + 5.0 * y)


def _styblinski_tang_grad(xy):
    x, y = _split(xy)
    return _stack(x, 2.0 * x**3 - 16.0 * x + 2.5, 2.0 * y**3 - 16.0 * y + 2.5)


def _easom_f(xy):
    x, y = _split(xy)
    bump = np.exp(-((x - np.pi) ** 2 + (y - np.pi) ** 2))
    return -np.cos(x) * np.cos(y) * bump


def _easom_grad(xy):
    x, y = _split(xy)
    bump = np.exp(-((x - np.pi) ** 2 + (y - np.pi) ** 2))
    cx, cy = np.cos(x), np.cos(y)
    gx = cy * bump * (np.sin(x) + 2.0 * (x - np.pi) * cx)
    gy = cx * bump * (np.sin(y) + 2.0 * (y - np.pi) * cy)
    return _stack(x, gx, gy)


# ----------------------------------------------------------------------------- lattices

def _hessian_fd(grad: Callable[[Array], Array], p: Array, h: float = 1e-6) -> Array:
    """Symmetrised central-difference Hessian of the analytic gradient, shape (..., 2, 2):
    H[:, j] ≈ (∇f(p + h·e_j) − ∇f(p − h·e_j)) / 2h."""
    columns = []
    for j in range(2):
        e = np.zeros(2)
        e[j] = h
        columns.append((grad(p + e) - grad(p - e)) / (2.0 * h))
    hess = np.stack(columns, axis=-1)
    return 0.5 * (hess + np.swapaxes(hess, -1, -2))


def _newton_polish(grad: Callable[[Array], Array], points: Array, iterations: int = 30,
                   max_step: float = np.inf) -> Array:
    """Newton's method on ∇f(p) = 0:  p ← p − H⁻¹ ∇f(p)  (H from :func:`_hessian_fd`).

    The 2×2 system is solved in closed form; points with a singular Hessian (|det H| tiny)
    stay where they are, and steps longer than ``max_step`` are shortened to it.
    """
    p = np.array(points, dtype=np.float64)
    for _ in range(iterations):
        with np.errstate(all="ignore"):
            g = grad(p)
            hess = _hessian_fd(grad, p)
            a, b, d = hess[..., 0, 0], hess[..., 0, 1], hess[..., 1, 1]
            det = a * d - b * b
            ok = np.isfinite(det) & (np.abs(det) > 1e-300) & np.isfinite(g).all(axis=-1)
            safe = np.where(ok, det, 1.0)
            step = np.stack([(d * g[..., 0] - b * g[..., 1]) / safe,
                             (a * g[..., 1] - b * g[..., 0]) / safe], axis=-1)
            length = np.linalg.norm(step, axis=-1, keepdims=True)
            step = np.where(length > max_step, step * (max_step / length), step)
            ok &= np.isfinite(step).all(axis=-1)
        p = np.where(ok[..., None], p - step, p)
    return p


def critical_points(f: Callable[[Array], Array], grad: Callable[[Array], Array], domain,
                    grid: int = 41, max_points: int = 30) -> tuple[CriticalPoint, ...]:
    """Critical points of f inside ``domain`` found by Newton from a ``grid``×``grid`` of starts.

    A polished point counts when |∇f| ≤ 1e-8·(1 + typical |∇f| on the grid); duplicates
    closer than 1e-6·width merge.  Kind from the Hessian eigenvalues λ₁ ≤ λ₂: minimum if
    λ₁ > 0, max if λ₂ < 0, saddle if λ₁ < 0 < λ₂ (degenerate points are skipped).  The
    lowest minimum is "global" when no grid value lies below it, the others "local".
    At most ``max_points`` are returned, minima first, lowest f first.
    """
    (x0, x1), (y0, y1) = domain
    width = max(x1 - x0, y1 - y0)
    gx, gy = np.meshgrid(np.linspace(x0, x1, grid), np.linspace(y0, y1, grid))
    seeds = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    with np.errstate(all="ignore"):
        grid_values = f(seeds)
        grid_grads = np.linalg.norm(grad(seeds), axis=-1)
        finite_grads = grid_grads[np.isfinite(grid_grads)]
        typical = float(np.median(finite_grads)) if finite_grads.size else 1.0
        polished = _newton_polish(grad, seeds, max_step=0.1 * width)
        residual = np.linalg.norm(grad(polished), axis=-1)
        values = f(polished)
    inside = ((polished[:, 0] >= x0) & (polished[:, 0] <= x1)
              & (polished[:, 1] >= y0) & (polished[:, 1] <= y1))
    found = inside & np.isfinite(values) & (residual <= 1e-8 * (1.0 + typical))
    # Merge duplicates: quantise to 1e-6·width and keep the first point of every cell.
    points = polished[found]
    _, first = np.unique(np.round(points / (1e-6 * width)), axis=0, return_index=True)
    points = points[np.sort(first)]
    # Snap round-off (e.g. 5e-291) to exact zeros for display.
    points = np.where(np.abs(points) < 1e-12 * width, 0.0, points)
    with np.errstate(all="ignore"):
        eig = np.linalg.eigvalsh(_hessian_fd(grad, points)) if len(points) else np.zeros((0, 2))
        point_values = f(points)
    rows = []
    for point, (low, high), value in zip(points, eig, point_values, strict=True):
        if not (np.isfinite(low) and np.isfinite(high)):
            continue
        tol = 1e-6 * max(1.0, abs(low), abs(high))
        if low > tol:
            kind = "local"
        elif high < -tol:
            kind = "max"
        elif low < -tol < tol < high:
            kind = "saddle"
        else:
            continue  # degenerate (flat direction): not an isolated point we can label
        rows.append([float(point[0]), float(point[1]), float(value), kind])
    minima = sorted((r for r in rows if r[3] == "local"), key=lambda r: r[2])
    others = sorted((r for r in rows if r[3] != "local"), key=lambda r: r[2])
    finite_grid = grid_values[np.isfinite(grid_values)]
    if minima:
        lowest = minima[0][2]
        if not finite_grid.size or lowest <= finite_grid.min() + 1e-9 * (1.0 + abs(lowest)):
            for r in minima:
                if r[2] <= lowest + 1e-9 * (1.0 + abs(lowest)):
                    r[3] = "global"
    return _points((minima + others)[:max_points])


def _lattice_minima(f, grad, seeds_1d: Array, skip_origin: bool) -> tuple[CriticalPoint, ...]:
    """Local minima seeded at every lattice point (i, j), i, j in seeds_1d; origin global."""
    gx, gy = np.meshgrid(seeds_1d, seeds_1d, indexing="ij")
    seeds = np.stack([gx.ravel(), gy.ravel()], axis=-1)
    if skip_origin:  # the origin is a cone tip: Newton cannot polish it, it is listed exactly
        seeds = seeds[np.any(seeds != 0.0, axis=-1)]
    polished = _newton_polish(grad, seeds, iterations=30)
    values = f(polished)
    rows = [(0.0, 0.0, 0.0, "global")]  # both lattice surfaces are 0 at the origin
    rounded = np.round(polished, 6)
    order = np.lexsort((rounded[:, 1], rounded[:, 0]))
    for i in order:
        x, y = polished[i]
        if x == 0.0 and y == 0.0:
            continue
        rows.append((x, y, values[i], "local"))
    # Rastrigin's seed at the origin polishes to the origin itself: drop that duplicate.
    rows = [rows[0]] + [r for r in rows[1:] if math.hypot(r[0], r[1]) > 1e-9]
    return _points(rows)


# ----------------------------------------------------------------------------- registry

def _build() -> dict[str, Surface]:
    s: dict[str, Surface] = {}

    def add(key, title, f, grad, domain, minima, start, lr, log_color, story, steps=300,
            unbounded_below=False, formula=""):
        s[key] = Surface(key=key, title=title, f=f, grad=grad, domain=domain,
                         minima=minima if isinstance(minima, tuple) else _points(minima),
                         start=start, suggested_lr=lr, log_color=log_color, story=story,
                         default_steps=steps, unbounded_below=unbounded_below, formula=formula)

    box2 = ((-2.0, 2.0), (-2.0, 2.0))
    add("sphere", "Sphere", _sphere_f, _sphere_grad, box2,
        [(0.0, 0.0, 0.0, "global")], (-1.6, 1.2),
        _lrs(4.0, gd=0.1),
        False, "round bowl: every method finds the bottom, compare their speed", 200,
        formula="x² + y²")
    s["elongated_bowl"] = make_elongated_bowl(20.0)
    add("rotated_quadratic", "Rotated ill-conditioned quadratic", _rotated_f, _rotated_grad,
        box2, [(0.0, 0.0, 0.0, "global")], (-1.6, -0.6),
        _lrs(4.0, gd=0.019, nag=0.012),
        False, "narrow valley along a diagonal: per-coordinate adaptivity loses its edge", 300,
        formula="½·(50.5x² − 99xy + 50.5y²)  (λ = 1, 100 rotated 45°)")
    add("saddle", "Saddle", _saddle_f, _saddle_grad, ((-1.5, 1.5), (-1.5, 1.5)),
        [(0.0, 0.0, 0.0, "saddle")], (-1.4, 0.005),
        _lrs(3.0, gd=0.01, momentum=0.002, nag=0.002, adagrad=0.05, rmsprop=0.002,
             adadelta=0.1, adam=0.01, adamw=0.01, nadam=0.01, adamax=0.01),
        False, "start on the ridge: GD is held hostage, adaptive methods escape", 200,
        unbounded_below=True, formula="x² − y²")
    add("monkey_saddle", "Monkey saddle", _monkey_f, _monkey_grad, ((-1.5, 1.5), (-1.5, 1.5)),
        [(0.0, 0.0, 0.0, "saddle")], (1.0, 0.001),
        _lrs(3.0, gd=0.01, momentum=0.002, nag=0.002, adagrad=0.03, rmsprop=0.002,
             adadelta=0.05, adam=0.01, adamw=0.01, nadam=0.01, adamax=0.01),
        False, "flat degenerate saddle (zero Hessian): GD slows to a crawl near it", 200,
        unbounded_below=True, formula="x³ − 3xy²")
    add("ridge_saddle", "Ridge saddle", _ridge_f, _ridge_grad, ((-2.0, 5.0), (-2.0, 2.0)),
        [(-math.pi / 2, 0.0, -1.0, "global"), (3 * math.pi / 2, 0.0, -1.0, "global"),
         (math.pi / 2, 0.0, 1.0, "saddle")], (1.5, 1.8),
        _lrs(4.0, gd=0.1),
        False, "a ridge at x = π/2: GD lingers on it before rolling off to one side", 300,
        formula="sin x + y²")
    add("two_wells", "Two wells", _two_wells_f, _two_wells_grad, box2,
        [(-0.9675774464554597, 0.0, -5.032339968658434, "global"),
         (0.9053178606008482, 0.0, -1.092732038481015, "local"),
         (0.12025036405942179, 0.0, -0.038564009860312845, "saddle")], (1.6, 1.4),
        _lrs(4.0, gd=0.01),
        False, "a shallow well on the right traps GD; momentum can roll over into the deep one",
        300, formula="x² + y² − 2·exp(−((x−1)² + (1.4y)²)/0.2) − 6·exp(−((x+1)² + (1.4y)²)/0.2)")
    add("plateau", "Plateau", _plateau_f, _plateau_grad, box2,
        [(0.0, 0.0, float(_plateau_f(np.zeros(2))), "global")], (1.5, 1.5),
        _lrs(4.0, gd=0.002),
        False, "a flat ring-shaped shoulder around a narrow funnel: GD stalls on the shoulder, "
        "momentum and Adam carry on into the funnel", 300,
        formula="−sin(r)/r + 0.01·r²,  r = 10·√(x² + y²) + 0.01")
    add("rosenbrock", "Rosenbrock", _rosenbrock_f, _rosenbrock_grad,
        ((-2.0, 2.0), (-1.0, 3.0)), [(1.0, 1.0, 0.0, "global")], (-1.2, 1.0),
        _lrs(4.0, gd=0.001, adadelta=1.0),
        True, "narrow curved valley: GD crawls", 500, formula="(1 − x)² + 100(y − x²)²")
    add("beale", "Beale", _beale_f, _beale_grad, ((-4.5, 4.5), (-4.5, 4.5)),
        [(3.0, 0.5, 0.0, "global"), (0.0, 1.0, 14.203125, "saddle"),
         (0.1005379373241584, -2.6445135850231245, 9.86451228475556, "saddle")], (1.0, 1.5),
        _lrs(9.0, gd=0.001),
        True, "flat plains and sharp ridges: step sizes that suit one region fail in the other",
        500, formula="(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²")
    add("himmelblau", "Himmelblau", _himmelblau_f, _himmelblau_grad,
        ((-5.0, 5.0), (-5.0, 5.0)),
        [(3.0, 2.0, 0.0, "global"),
         (-2.805118086952745, 3.131312518250573, 0.0, "global"),
         (-3.779310253377747, -3.2831859912861696, 0.0, "global"),
         (3.5844283403304917, -1.8481265269644036, 0.0, "global"),
         (-0.2708445906673476, -0.9230385564799815, 181.6165215225827, "max"),
         (3.385154183607021, 0.07385187983774928, 13.311926270405587, "saddle"),
         (0.08667750455539634, 2.884254701174776, 67.71915008752613, "saddle"),
         (-3.0730257507643897, -0.08135304428796751, 104.01516291755811, "saddle"),
         (-0.12796134673068005, -1.9537149802445766, 178.33723920192745, "saddle")],
        (-0.5, -0.5),
        _lrs(10.0, gd=0.01, momentum=0.005),
        False, "four equal minima: which one you reach depends on the start and the method",
        300, formula="(x² + y − 11)² + (x + y² − 7)²")
    rastrigin_seeds = np.arange(-5.0, 6.0)
    add("rastrigin", "Rastrigin", _rastrigin_f, _rastrigin_grad,
        ((-5.12, 5.12), (-5.12, 5.12)),
        _lattice_minima(_rastrigin_f, _rastrigin_grad, rastrigin_seeds, skip_origin=False),
        (3.2, 2.8),
        _lrs(10.24, gd=0.002),
        False, "egg-crate of local minima: most methods stop in the nearest dimple", 300,
        formula="20 + x² − 10cos 2πx + y² − 10cos 2πy")
    add("ackley", "Ackley", _ackley_f, _ackley_grad, ((-5.0, 5.0), (-5.0, 5.0)),
        _lattice_minima(_ackley_f, _ackley_grad, np.arange(-5.0, 6.0), skip_origin=True),
        (3.3, 2.7),
        _lrs(10.0, gd=0.01),
        False, "a funnel under a field of dimples: most methods stop in the nearest dimple", 300,
        formula="−20·exp(−0.2·√(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + e + 20")
    box10 = ((-10.0, 10.0), (-10.0, 10.0))
    add("booth", "Booth", _booth_f, _booth_grad, box10, [(1.0, 3.0, 0.0, "global")],
        (-8.0, -6.0),
        _lrs(20.0, gd=0.05),
        True, "a tilted convex bowl: a gentle warm-up", 300,
        formula="(x + 2y − 7)² + (2x + y − 5)²")
    add("matyas", "Matyas", _matyas_f, _matyas_grad, box10, [(0.0, 0.0, 0.0, "global")],
        (-8.0, 6.0),
        _lrs(20.0, gd=0.5),
        False, "flat valley along x = y: GD slows down once it reaches the valley floor", 300,
        formula="0.26(x² + y²) − 0.48xy")
    add("goldstein_price", "Goldstein–Price", _goldstein_price_f, _goldstein_price_grad, box2,
        [(0.0, -1.0, 3.0, "global"), (-0.6, -0.4, 30.0, "local"), (1.8, 0.2, 84.0, "local"),
         (1.2, 0.8, 840.0, "local"), (-0.4, -0.6, 35.0, "saddle"), (1.2, -0.2, 99.0, "saddle"),
         (1.4, 0.6, 980.0, "saddle"), (0.6, 0.4, 990.0, "saddle"), (0.8, 0.2, 1155.0, "max")],
        (-1.0, -1.8),
        _lrs(4.0, gd=3e-6),
        True, "values span six orders of magnitude: one learning rate cannot fit every region",
        300, formula="[1 + (x+y+1)²(19 − 14x + 3x² − 14y + 6xy + 3y²)]·"
        "[30 + (2x−3y)²(18 − 32x + 12x² + 48y − 36xy + 27y²)]")
    add("six_hump_camel", "Six-hump camel", _six_hump_f, _six_hump_grad,
        ((-3.0, 3.0), (-2.0, 2.0)),
        [(0.08984201310031807, -0.7126564030207396, -1.0316284534898774, "global"),
         (-0.08984201310031807, 0.7126564030207396, -1.0316284534898774, "global"),
         (1.7036067149699805, -0.7960835686726251, -0.21546382438371792, "local"),
         (-1.7036067149699805, 0.7960835686726251, -0.21546382438371792, "local"),
         (1.6071047529201974, 0.5686514548841314, 2.1042503103112598, "local"),
         (-1.6071047529201974, -0.5686514548841314, 2.1042503103112598, "local"),
         (0.0, 0.0, 0.0, "saddle"),
         (1.1092053368047865, -0.7682680925095398, 0.5437186009781851, "saddle"),
         (-1.1092053368047865, 0.7682680925095398, 0.5437186009781851, "saddle"),
         (1.6380679841897785, 0.22867406904439408, 2.2293571975307147, "saddle"),
         (-1.6380679841897785, -0.22867406904439408, 2.2293571975307147, "saddle"),
         (1.2960702671671094, 0.6050843880386585, 2.2294708180298604, "saddle"),
         (-1.2960702671671094, -0.6050843880386585, 2.2294708180298604, "saddle"),
         (1.2302298765166526, 0.16233458445899498, 2.4962953510235764, "max"),
         (-1.2302298765166526, -0.16233458445899498, 2.4962953510235764, "max")],
        (-1.5, -1.5),
        _lrs(6.0, gd=0.01),
        True, "six minima, two of them global, and a saddle in the middle", 300,
        formula="(4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²")
    add("three_hump_camel", "Three-hump camel", _three_hump_f, _three_hump_grad, box2,
        [(0.0, 0.0, 0.0, "global"),
         (1.747552345830289, -0.8737761729151445, 0.29863844223686054, "local"),
         (-1.747552345830289, 0.8737761729151445, 0.29863844223686054, "local"),
         (1.07054229182366, -0.53527114591183, 0.87736155776314, "saddle"),
         (-1.07054229182366, 0.53527114591183, 0.87736155776314, "saddle")],
        (-1.8, -1.5),
        _lrs(4.0, gd=0.05),
        True, "two side basins flank the global one: the start decides", 300,
        formula="2x² − 1.05x⁴ + x⁶/6 + xy + y²")
    # McCormick: ∇f = 0  <=>  cos(x+y) = −½ and x − y = 1 (add / subtract the two equations).
    s_min, s_local, s_saddle = -2 * math.pi / 3, 4 * math.pi / 3, 2 * math.pi / 3
    add("mccormick", "McCormick", _mccormick_f, _mccormick_grad, ((-1.5, 4.0), (-3.0, 4.0)),
        [((s_min + 1) / 2, (s_min - 1) / 2, -1.9132229549810367, "global"),
         ((s_local + 1) / 2, (s_local - 1) / 2, 1.2283696986087569, "local"),
         ((s_saddle + 1) / 2, (s_saddle - 1) / 2, 1.9132229549810362, "saddle")],
        (3.5, -2.0),
        _lrs(7.0, gd=0.1, momentum=0.03, nag=0.03),
        False, "smooth and asymmetric, with a second basin up the slope", 300,
        formula="sin(x + y) + (x − y)² − 1.5x + 2.5y + 1")
    st_lo, st_hi, st_mid = -2.903534027771177, 2.7468027709908367, 0.1567312567803401
    add("styblinski_tang", "Styblinski–Tang", _styblinski_tang_f, _styblinski_tang_grad,
        ((-5.0, 5.0), (-5.0, 5.0)),
        [(st_lo, st_lo, -78.33233140754284, "global"),
         (st_hi, st_lo, -64.19561235905536, "local"),
         (st_lo, st_hi, -64.19561235905536, "local"),
         (st_hi, st_hi, -50.05889331056789, "local"),
         (st_mid, st_lo, -38.97055334471605, "saddle"),
         (st_lo, st_mid, -38.97055334471605, "saddle"),
         (st_hi, st_mid, -24.833834296228588, "saddle"),
         (st_mid, st_hi, -24.833834296228588, "saddle"),
         (st_mid, st_mid, 0.3912247181107161, "max")],
        (4.0, 4.0),
        _lrs(10.0, gd=0.01),
        False, "four basins, one global: the nearest one is not the deepest", 300,
        formula="½(x⁴ − 16x² + 5x + y⁴ − 16y² + 5y)")
    e_lo, e_hi = 1.3049954504376675, 4.978189856741919
    e_side, e_peak = -8.110223891570075e-05, 0.009005678148573854
    add("easom", "Easom", _easom_f, _easom_grad, ((0.0, 6.0), (0.0, 6.0)),
        [(math.pi, math.pi, -1.0, "global"),
         (e_lo, e_lo, e_side, "local"), (e_hi, e_lo, e_side, "local"),
         (e_lo, e_hi, e_side, "local"), (e_hi, e_hi, e_side, "local"),
         (math.pi / 2, math.pi / 2, 0.0, "saddle"), (3 * math.pi / 2, math.pi / 2, 0.0, "saddle"),
         (math.pi / 2, 3 * math.pi / 2, 0.0, "saddle"),
         (3 * math.pi / 2, 3 * math.pi / 2, 0.0, "saddle"),
         (e_hi, math.pi, e_peak, "max"), (math.pi, e_hi, e_peak, "max"),
         (math.pi, e_lo, e_peak, "max"), (e_lo, math.pi, e_peak, "max")],
        (1.6, 1.6),
        _lrs(6.0, gd=0.3),
        False, "a needle in a flat desert: the gradient is almost zero away from the hole", 300,
        formula="−cos x · cos y · exp(−((x − π)² + (y − π)²))")
    return s


SURFACES: dict[str, Surface] = _build()


def nearest_minimum(surface: Surface, xy, kinds: tuple[str, ...] = ("global", "local")
                    ) -> tuple[Array, Array]:
    """Index into ``surface.minima`` of the nearest listed point of the given kinds.

    ``xy`` has shape ``(..., 2)``; returns ``(index, distance)`` of shape ``(...)``
    (int64 and float64), distance = Euclidean ‖xy − (x*, y*)‖.  With no listed point of
    those kinds (e.g. the saddle surfaces), index is −1 and distance +inf.  Non-finite
    points get index −1 and distance +inf as well.
    """
    x, y = _split(xy)
    chosen = [i for i, p in enumerate(surface.minima) if p.kind in kinds]
    shape = np.shape(x)
    if not chosen:
        return np.full(shape, -1, dtype=np.int64), np.full(shape, np.inf)
    centres = np.array([(surface.minima[i].x, surface.minima[i].y) for i in chosen])
    with np.errstate(invalid="ignore", over="ignore"):
        dist = np.hypot(x[..., None] - centres[:, 0], y[..., None] - centres[:, 1])
    finite = np.isfinite(dist).all(axis=-1)
    safe = np.where(finite[..., None], dist, 0.0)
    nearest = np.argmin(safe, axis=-1)
    index = np.where(finite, np.asarray(chosen, dtype=np.int64)[nearest], -1)
    distance = np.where(finite, np.take_along_axis(safe, nearest[..., None], -1)[..., 0], np.inf)
    return index.astype(np.int64), distance
