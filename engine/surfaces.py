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
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

__all__ = [
    "CRITICAL_KINDS",
    "OPTIMIZER_KEYS",
    "SURFACES",
    "CriticalPoint",
    "Surface",
    "make_elongated_bowl",
    "nearest_minimum",
]

CRITICAL_KINDS = ("global", "local", "saddle", "max")
OPTIMIZER_KEYS = (
    "gd", "momentum", "nag", "adagrad", "rmsprop", "adadelta", "adam", "adamw", "nadam",
    "adamax",
)

Array = np.ndarray


@dataclass(frozen=True)
class CriticalPoint:
    """A point where the gradient vanishes: ``kind`` is global, local, saddle or max."""

    x: float
    y: float
    f: float
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in CRITICAL_KINDS:
            raise ValueError(f"kind must be one of {CRITICAL_KINDS}, got {self.kind!r}")


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
    params: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

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


def _value(x: Array, shape_of: Array, value) -> Array:
    """Broadcast ``value`` to the shape of ``shape_of`` as a fresh float64 array."""
    return np.array(np.broadcast_to(value, np.shape(shape_of)), dtype=np.float64)


def _stack(x: Array, gx, gy) -> Array:
    """Stack gradient components, broadcasting constants to the input shape."""
    return np.stack([_value(x, x, gx), _value(x, x, gy)], axis=-1)


def _lrs(gd: float, momentum: float, nag: float, adagrad: float, rmsprop: float,
         adadelta: float, adam: float, adamw: float | None = None, nadam: float | None = None,
         adamax: float | None = None) -> Mapping[str, float]:
    """Read-only learning-rate table; adamw, nadam, adamax default to the Adam value."""
    table = {
        "gd": gd, "momentum": momentum, "nag": nag, "adagrad": adagrad, "rmsprop": rmsprop,
        "adadelta": adadelta, "adam": adam,
        "adamw": adam if adamw is None else adamw,
        "nadam": adam if nadam is None else nadam,
        "adamax": adam if adamax is None else adamax,
    }
    return MappingProxyType(table)


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
        suggested_lr=_lrs(gd=lr, momentum=lr / 4, nag=lr / 4, adagrad=0.5, rmsprop=0.01,
                          adadelta=1.0, adam=0.05),
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
