"""One-click scenarios for the optimizer race: each one tells a story that the engine makes true.

A :class:`Scenario` fixes everything a race needs — surface, start, number of steps, gradient
noise σ and its seed, the optimizers with their hyper-parameters, an optional learning-rate
schedule — plus two or three sentences saying what to watch.  ``SCENARIOS`` is the ordered
registry ``key -> Scenario``: the three problems of plain gradient descent in the seed notes
(zig-zag, plateau, local minimum) come first.

Every story is checked numerically against the real engine in
``tests/engine/test_scenarios.py`` (the too-large learning rate really diverges, GD really ends
in the shallow well, AdaGrad's effective learning rate really fades below RMSProp's, …).
Hyper-parameters not listed take the optimizer's default
(``optimizers.OPTIMIZERS[key].defaults``), except the learning rate, which defaults to the
surface's ``suggested_lr``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SCENARIOS", "Scenario", "scenario_hypers"]

Pairs = tuple[tuple[str, float], ...]


class OptimizerLineup:
    """Mixin for frozen records holding ``optimizers``: a tuple of (optimizer key,
    ((hyper-parameter, value), ...)) pairs, hashable so the record can key a cache."""

    optimizers: tuple

    @property
    def optimizer_keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.optimizers)

    def settings_for(self, optimizer_key: str) -> dict[str, float]:
        """The hyper-parameter values given for ``optimizer_key``; KeyError if absent."""
        for key, pairs in self.optimizers:
            if key == optimizer_key:
                return dict(pairs)
        raise KeyError(optimizer_key)


@dataclass(frozen=True)
class Scenario(OptimizerLineup):
    """A complete, reproducible race setup (hashable: overrides are tuples of pairs).

    ``optimizers``: ``((optimizer key, ((hyper name, value), …)), …)`` — the listed
    hyper-parameters override the defaults.  ``schedule``: ``(kind, ((name, value), …))``
    for ``engine.schedules.make(kind, **params)``, or ``None`` for a constant rate.
    """

    key: str
    title: str
    surface: str
    start: tuple[float, float]
    steps: int
    optimizers: tuple[tuple[str, Pairs], ...]
    what_to_watch: str
    noise: float = 0.0
    seed: int = 0
    schedule: tuple[str, Pairs] | None = None

    def overrides(self, optimizer_key: str) -> dict[str, float]:
        """The hyper-parameters this scenario sets for ``optimizer_key`` (may be empty)."""
        return self.settings_for(optimizer_key)


def scenario_hypers(scenario: Scenario, surface) -> list[tuple[str, dict[str, float]]]:
    """Full hyper-parameter dicts per optimizer: defaults < surface's suggested lr < overrides."""
    from engine import optimizers

    out = []
    for key, pairs in scenario.optimizers:
        hyper = dict(optimizers.OPTIMIZERS[key].defaults)
        if key in surface.suggested_lr:
            hyper["lr"] = float(surface.suggested_lr[key])
        hyper.update(dict(pairs))
        out.append((key, hyper))
    return out


def _opts(*items: tuple[str, dict[str, float]]) -> tuple[tuple[str, Pairs], ...]:
    return tuple((key, tuple(sorted(hyper.items()))) for key, hyper in items)


_LIST = [
    Scenario(
        key="zigzag",
        title="Zig-zag in a narrow valley",
        surface="elongated_bowl",
        start=(-1.8, 1.0),
        steps=100,
        optimizers=_opts(("gd", {"lr": 0.09}), ("momentum", {"lr": 0.03, "momentum": 0.7}),
                         ("adam", {"lr": 0.1})),
        what_to_watch=(
            "The bowl is 20 times steeper across (y) than along (x). Gradient descent needs a "
            "learning rate small enough for the steep direction, so it overshoots the valley "
            "floor at every step and bounces from wall to wall while it crawls along x; "
            "momentum's swings die out after a few bounces and it builds speed along the floor. "
            "Adam rescales each direction, so it first steps as far in x as in y: a straight "
            "diagonal with no zig-zag, but not aimed at the centre. It overshoots, circles in "
            "slowly and after 100 steps is the farthest from the bottom of the three."
        ),
    ),
    Scenario(
        key="plateau",
        title="Plateau",
        surface="plateau",
        start=(1.5, 1.5),
        steps=300,
        optimizers=_opts(("gd", {"lr": 0.001}), ("rmsprop", {"lr": 0.1}),
                         ("adam", {"lr": 0.05})),
        what_to_watch=(
            "On the flat shoulder the gradient is almost zero, so gradient descent takes tiny "
            "steps: in 300 steps it covers only 43 % of the way to the minimum and is still "
            "up on the shoulder. RMSProp and Adam divide by the size of recent gradients: a "
            "small gradient still gives a normal-sized step, and they reach the funnel in the "
            "middle. There RMSProp's loss stays 0.089 above the minimum: each of its steps is "
            "about lr = 0.1 long in each coordinate, however small the gradient, so it hops "
            "back and forth across the minimum instead of settling. Adam averages the "
            "gradients first: the hops' flipping signs cancel in that average, so its steps "
            "shrink and it settles at the bottom."
        ),
    ),
    Scenario(
        key="local_minimum",
        title="Local minimum",
        surface="two_wells",
        start=(1.6, 1.4),
        steps=300,
        optimizers=_opts(("gd", {"lr": 0.01}), ("momentum", {"lr": 0.01, "momentum": 0.9})),
        what_to_watch=(
            "Two wells: a shallow one on the right and the deep one on the left. Gradient "
            "descent rolls into the nearest well and stops, because the gradient at its "
            "bottom is zero. Momentum arrives with speed, rolls over the hump between the "
            "wells and settles in the deep one."
        ),
    ),
    Scenario(
        key="lr_too_large",
        title="Too-large learning rate",
        surface="elongated_bowl",
        start=(-1.8, 1.0),
        steps=100,
        optimizers=_opts(("gd", {"lr": 0.12}), ("momentum", {"lr": 0.03, "momentum": 0.7}),
                         ("adam", {"lr": 0.1})),
        what_to_watch=(
            "Across the valley the curvature is 20, so each gradient-descent step multiplies "
            "the distance to the floor by |1 − 0.12·20| = 1.4: the error grows instead of "
            "shrinking, and GD diverges (stable only if lr < 2/20 = 0.1). Momentum with a "
            "smaller rate and Adam, whose steps are bounded by its learning rate, are fine."
        ),
    ),
    Scenario(
        key="lr_too_small",
        title="Too-small learning rate",
        surface="sphere",
        start=(-1.6, 1.2),
        steps=200,
        optimizers=_opts(("gd", {"lr": 0.001}), ("momentum", {"lr": 0.02, "momentum": 0.5}),
                         ("adam", {"lr": 0.05})),
        what_to_watch=(
            "A perfectly round bowl, the easiest surface there is. With lr = 0.001 each "
            "gradient-descent step removes only 0.2 % of the distance to the bottom, so after "
            "200 steps it is still far from it. The others, with sensible rates, arrive."
        ),
    ),
    Scenario(
        key="saddle",
        title="Saddle point",
        surface="saddle",
        start=(-1.4, 0.005),
        steps=120,
        optimizers=_opts(("gd", {"lr": 0.01}), ("momentum", {"lr": 0.01, "momentum": 0.9}),
                         ("adam", {"lr": 0.02})),
        what_to_watch=(
            "f = x² − y² goes up along x and down along y; the start is almost on the ridge "
            "y = 0. Gradient descent slides to the saddle point in the middle and sits "
            "there, where the gradient is nearly zero. Momentum and Adam escape downhill. "
            "Turn on gradient noise: it pushes GD off the ridge too."
        ),
    ),
    Scenario(
        key="rosenbrock",
        title="Curved valley (Rosenbrock)",
        surface="rosenbrock",
        start=(-1.2, 1.0),
        steps=500,
        optimizers=_opts(("gd", {"lr": 0.001}), ("adam", {"lr": 0.1})),
        what_to_watch=(
            "The valley is narrow and curved, and its floor is almost flat. Gradient descent "
            "drops into the valley fast, then creeps along the floor towards the minimum at "
            "(1, 1). Adam keeps its steps large along the floor and gets much closer."
        ),
    ),
    Scenario(
        key="rastrigin",
        title="Many local minima (Rastrigin)",
        surface="rastrigin",
        start=(-4.4, 1.3),
        steps=300,
        optimizers=_opts(("gd", {"lr": 0.001}), ("momentum", {"lr": 0.005, "momentum": 0.95}),
                         ("adam", {"lr": 0.1})),
        what_to_watch=(
            "An egg-crate: a local minimum near every integer point, the global one at (0, 0) "
            "(the gold star). Gradient descent and Adam drop into the dimple nearest the start "
            "and stay. Momentum hops over four ridges to (0, 1), next to the global minimum but "
            "not in it: nobody is guaranteed the global minimum."
        ),
    ),
    Scenario(
        key="adagrad_fades",
        title="AdaGrad fades, RMSProp keeps going",
        surface="rosenbrock",
        start=(-1.2, 1.0),
        steps=1000,
        optimizers=_opts(("adagrad", {"lr": 0.01}), ("rmsprop", {"lr": 0.01})),
        what_to_watch=(
            "AdaGrad divides by the root of the sum of ALL past squared gradients, which only "
            "grows: the steep start makes it large at once, so AdaGrad reaches the curved valley "
            "right beside its start and then hardly moves (about 0.2 in 1000 steps, the loss "
            "still about 4). RMSProp uses a moving average that forgets the steep start, so its "
            "steps stay useful and it travels along the valley floor to within 0.4 of the minimum "
            "at (1, 1). Open “Explain this step” to compare their effective learning rates."
        ),
    ),
]

SCENARIOS: dict[str, Scenario] = {s.key: s for s in _LIST}
