"""Run optimizers on a 2-D loss surface, every run of every optimizer in one batch.

One call advances B independent trajectories x_t ∈ R² (the batch axis B concatenates the
groups of ``runs``; each group has its own optimizer and its own slice of the batch)::

    g_t      = ∇f(x_t) + σ·ξ_t,          ξ_t ~ N(0, I₂) from default_rng(seed) (see run)
    x_{t+1}, s_{t+1} = opt.step(x_t, g_t, s_t, lr_scale=η(t))      (η = schedule, else 1)

for t = 0 … T−1, and records x_t, f(x_t), g_t, the step x_{t+1} − x_t, the NAG look-ahead
point and (``record="full"``) the optimizer state and per-coordinate effective step size.

A run *diverges* at the first step index t whose iterate x_t is NaN/±inf or runs away
(|x| or |y| > ``1e6 + 1e3·span`` of the surface domain), or whose loss is not finite or
|f| > 1e12, or whose gradient is not finite or any |∂f| > 1e12.  From then on the run is
frozen at its last finite point (rows repeat, steps are 0) and flagged; the other runs go
on.  Nothing non-finite is ever returned, and no floating-point warning escapes.

Sweeps (learning rate × momentum grids, basin-of-attraction maps over start points) are the
same call with a larger batch: :func:`sweep_lr_momentum`, :func:`basin_map`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "MAX_STEPS",
    "MAX_WORK",
    "MAX_FULL_BATCH",
    "MAX_PATH_WORK",
    "MAX_BATCH",
    "LOSS_BOUND",
    "GRAD_BOUND",
    "Run",
    "DescentResult",
    "SweepResult",
    "BasinMap",
    "run",
    "position_bound",
    "valid_rows",
    "sweep_lr_momentum",
    "basin_map",
]

MAX_STEPS = 5000  # steps per call
MAX_WORK = 20_000_000  # B · steps per call: bounds the work one request can cause
MAX_FULL_BATCH = 64  # record="full" keeps the whole optimizer state of every run
MAX_PATH_WORK = 2_000_000  # B · (steps+1) for record="path" (~150 MB of float64 rows)
MAX_BATCH = 1_000_000  # runs per call (a sweep's grid, a basin map's starts), even for 0 steps
LOSS_BOUND = 1e12  # |f| beyond this counts as running away
GRAD_BOUND = 1e12  # |∂f| beyond this counts as running away (keeps squared sums finite)
RECORD_MODES = ("full", "path", "final")
BASIN_KINDS = ("global", "local")  # critical points a basin map colours by


@dataclass(frozen=True)
class Run:
    """One group of trajectories: an optimizer (from ``optimizers.make``) and its start points.

    ``starts`` is one point ``(x, y)`` or an ``(n, 2)`` array.  The optimizer's
    hyper-parameters may be arrays of shape ``(n, 1)`` (one value per run, for sweeps); a
    single start is then repeated n times.

    ``noise_stream`` (only with ``run(..., noise_streams=S)``): the row s ∈ [0, S) of each
    step's noise draw that every run of this group uses; see :func:`run`.
    """

    optimizer: Any
    starts: Any
    label: str = ""
    noise_stream: int | None = None


@dataclass(frozen=True, eq=False)
class DescentResult:
    """Recorded trajectories of a batched descent (T steps, B runs).

    Row index t is the iterate index: ``path[t]`` = x_t, ``loss[t]`` = f(x_t),
    ``grad[t]`` = g_t, the gradient used by step t (including noise; ``grad[T]`` is the
    noise-free gradient at the final point), ``step[t]`` = x_{t+1} − x_t,
    ``lookahead[t]`` = ``opt.lookahead(x_t, s_t, lr_scale=η(t))`` (x_t − η(t)·lr·μ·buf_t
    for NAG, x_t for every other rule; the last row uses η(T−1)).

    ``record="full"``: all of the above with T+1 rows (T for ``step``), plus ``state`` — a
    tuple with one dict per group, field -> array (T+1, n, …), row t = state s_t after step
    t−1 (row 0 = init state) — and ``effective_lr``, a tuple of (T+1, n, 2) arrays: row
    t+1 = ``opt.effective_lr(s_{t+1}, lr_scale=η(t))``, the per-coordinate step size that
    step t applied (schedule included); row 0 is taken from the init state without a
    schedule (non-finite values there are reported as 0).
    ``record="path"``: the same without ``state``/``effective_lr`` (empty tuples).
    ``record="final"``: ``path``, ``grad`` and ``lookahead`` hold only the final row
    (1, B, 2), ``step`` is empty (0, B, 2); ``loss`` keeps every row (T+1, B) because
    :meth:`steps_to_tolerance` needs the loss curve.  Index ``[-1]`` is the final row in
    every mode.

    ``lr_multiplier[t]`` = η(t) used by step t.  ``diverged[b]`` tells whether run b
    diverged, ``diverged_at[b]`` the first iterate index that was invalid (−1 if none);
    rows from there on repeat the last finite values.  ``labels``/``group`` map batch
    columns to the ``runs`` they came from.
    """

    path: np.ndarray
    loss: np.ndarray
    grad: np.ndarray
    step: np.ndarray
    lookahead: np.ndarray
    state: tuple
    effective_lr: tuple
    lr_multiplier: np.ndarray
    diverged: np.ndarray
    diverged_at: np.ndarray
    labels: np.ndarray
    group: np.ndarray
    steps: int
    record: str

    @property
    def final_position(self) -> np.ndarray:
        """(B, 2): the last finite iterate of every run."""
        return self.path[-1]

    @property
    def final_loss(self) -> np.ndarray:
        """(B,): f at :attr:`final_position`."""
        return self.loss[-1]

    @property
    def n_valid(self) -> np.ndarray:
        """(B,): number of valid leading rows (:func:`valid_rows`)."""
        return valid_rows(self.diverged, self.diverged_at, self.steps)

    def steps_to_tolerance(self, tol: float, target_f: float) -> np.ndarray:
        """(B,) int: the first t with f(x_t) ≤ target_f + tol, −1 if never or if diverged."""
        hit = self.loss <= target_f + tol
        first = np.argmax(hit, axis=0)
        reached = hit.any(axis=0) & ~self.diverged
        return np.where(reached, first, -1).astype(np.int64)


def valid_rows(diverged, diverged_at, steps: int) -> np.ndarray:
    """The number of leading rows of a run that hold its own iterates (the rows to draw,
    tabulate or export): T+1, or for a run that diverged the rows before its first
    invalid iterate ``diverged_at`` — but at least 1, because row 0 is the start, always a
    finite point (when f or ∇f is undefined there, its loss and gradient rows hold 0).
    The one definition for the engine, the figures and the pages."""
    diverged_at = np.asarray(diverged_at)
    return np.where(np.asarray(diverged, dtype=bool), np.maximum(diverged_at, 1), steps + 1)


def position_bound(surface) -> float:
    """|x| or |y| beyond ``1e6 + 1e3 · span`` (span = wider side of the domain) is a runaway."""
    (xmin, xmax), (ymin, ymax) = surface.domain
    span = max(float(xmax) - float(xmin), float(ymax) - float(ymin))
    return 1e6 + 1e3 * span


def _group_starts(item: Run) -> np.ndarray:
    """The (n, 2) start array of one group; a single start is repeated to the hyper size."""
    starts = np.asarray(item.starts, dtype=np.float64)
    if starts.ndim == 1:
        starts = starts.reshape(1, -1)
    if starts.ndim != 2 or starts.shape[1] != 2 or starts.shape[0] == 0:
        raise ValueError(
            f"starts of run {item.label!r} must be (x, y) or an (n, 2) array, "
            f"got shape {np.shape(item.starts)}"
        )
    if not np.isfinite(starts).all():
        raise ValueError(f"starts of run {item.label!r} must be finite numbers")
    sizes = {
        int(np.shape(v)[0])
        for v in getattr(item.optimizer, "hyper", {}).values()
        if np.ndim(v) == 2 and np.shape(v)[0] > 1
    }
    if len(sizes) > 1:
        raise ValueError(f"hyper-parameter arrays of run {item.label!r} differ in length: {sizes}")
    if sizes:
        (n,) = sizes
        if starts.shape[0] == 1:
            starts = np.repeat(starts, n, axis=0)
        elif starts.shape[0] != n:
            raise ValueError(
                f"run {item.label!r} has {starts.shape[0]} starts but hyper-parameter "
                f"arrays of length {n}"
            )
    return starts


def _schedule_multipliers(schedule: Callable | None, steps: int) -> np.ndarray:
    """η(t) for t = 0 … T−1 (all ones without a schedule); must be finite and ≥ 0.

    One call on the whole int array ``arange(T)`` when the schedule accepts arrays (as
    ``engine.schedules`` do), else one call per step.
    """
    if schedule is None:
        return np.ones(steps)
    t = np.arange(steps)
    mult = None
    try:
        mult = np.asarray(schedule(t), dtype=np.float64)
    except (TypeError, ValueError):  # a scalar-only callable, e.g. one with an ``if t < …``
        mult = None
    if mult is None or mult.shape != (steps,):
        mult = np.array([float(schedule(int(k))) for k in t], dtype=np.float64)
    if not (np.isfinite(mult).all() and (mult >= 0).all()):
        raise ValueError("the learning-rate schedule must give finite multipliers >= 0")
    return mult


def _clean(values: np.ndarray, bound: float) -> np.ndarray:
    """Finite copy for runs that start invalid: NaN -> 0, ±inf and beyond -> ±bound."""
    return np.clip(np.nan_to_num(values, nan=0.0, posinf=bound, neginf=-bound), -bound, bound)


def run(
    surface,
    runs: Sequence[Run],
    steps: int,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Callable | None = None,
    record: str = "full",
    noise_streams: int | None = None,
) -> DescentResult:
    """Descend ``surface`` with every group of ``runs`` for ``steps`` steps, all batched.

    Per step t (vectorized over the batch, one Python iteration per group):
    g_t = ∇f(x_t) + noise·ξ_t, x_{t+1}, s_{t+1} = opt.step(x_t, g_t, s_t,
    lr_scale=schedule(t)).  See the module docstring for the divergence rule and
    :class:`DescentResult` for the record.

    Noise: ``rng = numpy.random.default_rng(seed)``; every step draws one array Z_t of
    standard normals, for every run, so a run's noise does not depend on the others' fate
    (a frozen run's draws are simply unused):

    * ``noise_streams=None`` (default): Z_t = ``rng.standard_normal((B, 2))`` and batch
      column b uses row b, ξ_t[b] = Z_t[b] — the runs use streams 0 … B−1 in batch order.
      No ``Run`` may name a ``noise_stream``.
    * ``noise_streams=S``: Z_t = ``rng.standard_normal((S, 2))``; every group must name its
      ``noise_stream`` s ∈ [0, S), and every run of that group uses row s, ξ_t = Z_t[s]
      (the runs of a sweep share one noise sequence).

    So a run that uses stream s with ``noise_streams=S`` sees exactly the noise of batch
    column s of a default run with B = S (same seed and steps): a learning-rate sweep
    ``run(surface, [Run(make(key, lr=lrs[:, None]), start, noise_stream=b)], steps,
    noise=σ, seed=seed, noise_streams=B)`` reproduces, at the lr of run b of a B-run race
    ``run(surface, race, steps, noise=σ, seed=seed)``, that run's path exactly.

    Bounds: ``steps`` ≤ 5000, B ≤ 1,000,000, B·steps and S·steps ≤ 20,000,000, record="full" needs
    B ≤ 64 and record="path" B·(steps+1) ≤ 2,000,000; otherwise ``ValueError``.
    """
    if record not in RECORD_MODES:
        raise ValueError(f"record must be one of {RECORD_MODES}, got {record!r}")
    if isinstance(steps, bool) or int(steps) != steps or not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer in [0, {MAX_STEPS}], got {steps!r}")
    steps = int(steps)
    noise = float(noise)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    runs = list(runs)
    if not runs:
        raise ValueError("runs must contain at least one Run")
    starts = [_group_starts(item) for item in runs]
    sizes = [s.shape[0] for s in starts]
    batch = sum(sizes)
    if batch > MAX_BATCH:
        raise ValueError(f"too many runs: {batch:,} > {MAX_BATCH:,}")
    if batch * steps > MAX_WORK:
        raise ValueError(
            f"too much work: {batch} runs x {steps} steps = {batch * steps:,} > {MAX_WORK:,}; "
            "use fewer runs or fewer steps"
        )
    if record == "full" and batch > MAX_FULL_BATCH:
        raise ValueError(
            f'record="full" keeps every optimizer state and allows at most {MAX_FULL_BATCH} '
            f'runs, got {batch}; use record="path" or "final"'
        )
    if record == "path" and batch * (steps + 1) > MAX_PATH_WORK:
        raise ValueError(
            f'record="path" allows runs x (steps+1) <= {MAX_PATH_WORK:,}, got '
            f'{batch * (steps + 1):,}; use record="final" or fewer runs/steps'
        )
    streams = _noise_streams(runs, sizes, noise_streams, steps)
    multipliers = _schedule_multipliers(schedule, steps)
    slices = []
    offset = 0
    for n in sizes:
        slices.append(slice(offset, offset + n))
        offset += n
    labels = np.repeat(np.array([str(item.label) for item in runs], dtype=str), sizes)
    group = np.repeat(np.arange(len(runs)), sizes)
    with np.errstate(all="ignore"):
        return _descend(
            surface, runs, starts, slices, steps, noise, seed, multipliers, record,
            labels, group, streams,
        )


def _noise_streams(runs, sizes, noise_streams, steps) -> tuple[int, np.ndarray] | None:
    """With ``noise_streams=S``: (S, the (B,) row of each run in a step's draw), else None.

    The rule is :func:`run`'s: without ``noise_streams`` no group may name a stream (the
    runs take streams 0 … B−1 in batch order); with it, every group must name one.
    """
    named = [item for item in runs if item.noise_stream is not None]
    if noise_streams is None:
        if named:
            raise ValueError(
                f"run {named[0].label!r} names noise_stream={named[0].noise_stream!r} but "
                "noise_streams is not given; pass noise_streams=S (the rows drawn per step)"
            )
        return None
    if not (_whole(noise_streams) and noise_streams >= 1):
        raise ValueError(f"noise_streams must be an integer >= 1, got {noise_streams!r}")
    noise_streams = int(noise_streams)
    if noise_streams * steps > MAX_WORK:
        raise ValueError(
            f"too much work: {noise_streams} noise streams x {steps} steps = "
            f"{noise_streams * steps:,} > {MAX_WORK:,}; use fewer streams or fewer steps"
        )
    rows = []
    for item in runs:
        s = item.noise_stream
        if not (_whole(s) and 0 <= s < noise_streams):
            raise ValueError(
                f"with noise_streams={noise_streams} every run must name a noise_stream in "
                f"[0, {noise_streams - 1}]; run {item.label!r} has noise_stream={s!r}"
            )
        rows.append(int(s))
    return noise_streams, np.repeat(np.array(rows, dtype=np.intp), sizes)


def _whole(value) -> bool:
    """True for an integer (not a bool) or a float with an integer value."""
    if isinstance(value, bool | np.bool_):
        return False
    if isinstance(value, int | np.integer):
        return True
    return isinstance(value, float | np.floating) and float(value).is_integer()


def _descend(surface, runs, starts, slices, steps, noise, seed, multipliers, record,
             labels, group, streams) -> DescentResult:
    """The stepping loop of :func:`run` (called inside ``np.errstate(all="ignore")``).

    A sweep is a few groups of a few dozen runs on a 2-D surface: each array operation
    touches a few hundred numbers, so the per-step cost is Python and NumPy call overhead,
    not arithmetic.  The loop therefore does per step only what the step needs: optimizers
    step through their unchecked path (``run`` validated everything once), and the
    look-ahead is computed only for the rules that have one.

    A frozen (diverged) run keeps its parameters, loss and gradient, but its optimizer
    state goes on stepping on the held gradient, unseen: every rule updates each run from
    its own row only, and all runs of a group keep one step count, so Adam's bias
    corrections stay one shared Python float and an alive run rounds exactly as it would
    alone (a sweep redraws a race's path).  What is shown — the state record and NAG's
    look-ahead — is the state the run had when it stopped (``shown``), kept only for the
    groups that show it.
    """
    opts = [item.optimizer for item in runs]
    batch = slices[-1].stop
    full = record == "full"
    keep_rows = record in ("full", "path")
    pos_bound = position_bound(surface)
    rng = np.random.default_rng(seed) if noise > 0 else None
    # Python floats: cheaper per-step arithmetic than NumPy scalars, the same values.
    scales = multipliers.tolist()
    look_groups = [g for g, opt in enumerate(opts) if opt.has_lookahead]

    params = np.concatenate(starts, axis=0)
    states = [opt.init(params[sl]) for opt, sl in zip(opts, slices, strict=True)]
    shown = list(states)  # states with frozen runs held: what the record and look-ahead use
    observed = range(len(opts)) if full else look_groups  # the groups whose state is shown
    loss, grad = _evaluate(surface, params)

    # A start can already be invalid (e.g. log(x) at x < 0): it is frozen at step 0.
    alive = (np.abs(loss) <= LOSS_BOUND) & (np.abs(grad) <= GRAD_BOUND).all(axis=1)
    diverged_at = np.where(alive, -1, 0).astype(np.int64)
    if not alive.all():
        loss = _clean(loss, LOSS_BOUND)
        grad = _clean(grad, GRAD_BOUND)
        grad[~alive] = 0.0

    loss_rows = np.empty((steps + 1, batch))
    loss_rows[0] = loss
    if keep_rows:
        path_rows = np.empty((steps + 1, batch, 2))
        grad_rows = np.empty((steps + 1, batch, 2))
        look_rows = np.empty((steps + 1, batch, 2))
        path_rows[0] = params
    if full:
        state_rows = [
            {name: np.empty((steps + 1,) + np.shape(value)) for name, value in _fields(s).items()}
            for s in states
        ]
        elr_rows = [np.empty((steps + 1, sl.stop - sl.start, 2)) for sl in slices]
        _record_state(0, opts, slices, params, shown, state_rows, elr_rows, 1.0)
    if keep_rows:
        _lookahead_into(look_rows[0], look_groups, opts, slices, params, shown,
                        _scale_at(multipliers, 0))

    new_params = np.empty_like(params)
    used_grad = last_used_grad = grad
    dead_idx = np.flatnonzero(~alive)  # frozen runs, kept as indices: few, and cheap to fix up
    dead_by_group = _rows_by_group(dead_idx, slices)
    for t in range(steps):
        if rng is not None:
            if streams is None:
                used_grad = grad + noise * rng.standard_normal((batch, 2))
            else:  # run b takes row stream_rows[b] of this step's draw of S rows
                n_streams, stream_rows = streams
                used_grad = grad + _take_rows(
                    noise * rng.standard_normal((n_streams, 2)), stream_rows)
            # a frozen run keeps repeating the last gradient it used (without noise the
            # held gradient row of grad already is that gradient)
            if dead_idx.size:
                _copy_rows(used_grad, last_used_grad, dead_idx)
            last_used_grad = used_grad
        else:
            used_grad = grad
        if keep_rows:
            grad_rows[t] = used_grad
        scale = scales[t]
        new_states = []
        for opt, sl, s in zip(opts, slices, states, strict=True):
            p, s2 = opt._step_unchecked(params[sl], used_grad[sl], s, scale)
            new_params[sl] = p
            new_states.append(s2)

        # Frozen runs stay put before the surface is evaluated, and so does a run that
        # leaves the finite range now: the surface never sees inf/NaN, and the runaway
        # check copies rows only in the step a run runs away.  (np.count_nonzero: a
        # fraction of the call cost of .all()/.any() on small arrays.)
        if dead_idx.size:
            _copy_rows(new_params, params, dead_idx)
        ok = _rows_within(new_params, pos_bound)
        if np.count_nonzero(ok) != batch:
            _copy_rows(new_params, params, np.flatnonzero(~ok))
        new_loss, new_grad = _evaluate(surface, new_params)
        ok &= np.abs(new_loss) <= LOSS_BOUND  # NaN compares False
        ok &= _rows_within(new_grad, GRAD_BOUND)
        newly = alive & ~ok
        if np.count_nonzero(newly):
            newly_idx = np.flatnonzero(newly)
            diverged_at[newly_idx] = t + 1
            alive[newly_idx] = False
            _copy_rows(new_params, params, newly_idx)
            dead_idx = np.flatnonzero(~alive)
            dead_by_group = _rows_by_group(dead_idx, slices)
        if dead_idx.size:
            # the held loss and gradient (a run frozen at its start holds cleaned ones)
            new_loss[dead_idx] = loss[dead_idx]
            _copy_rows(new_grad, grad, dead_idx)
        params, new_params = new_params, params
        loss, grad, states = new_loss, new_grad, new_states
        for g in observed:
            rows = dead_by_group.get(g)
            shown[g] = states[g] if rows is None else _held(states[g], shown[g], rows)
        loss_rows[t + 1] = loss
        if keep_rows:
            path_rows[t + 1] = params
            if look_groups:  # every other column is the path: copied once, after the loop
                _group_lookaheads_into(look_rows[t + 1], look_groups, opts, slices, params,
                                       shown, _scale_at(multipliers, t + 1))
        if full:
            _record_state(t + 1, opts, slices, params, shown, state_rows, elr_rows, scale)

    if full:
        # A non-finite effective step size can only come from an init state (Adam's bias
        # correction 1 − β₂⁰ = 0), kept by a run frozen before its first step: report 0.
        for elr in elr_rows:
            np.nan_to_num(elr, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    # the gradient row at the final point: noise-free, or the held one for frozen runs
    final_grad = grad.copy()
    final_grad[dead_idx] = used_grad[dead_idx]
    if keep_rows:
        grad_rows[steps] = final_grad
        step_rows = np.diff(path_rows, axis=0)
        # the groups whose look-ahead is x_t itself: copied from the path at once
        if not look_groups:
            look_rows[1:] = path_rows[1:]
        else:
            for g, sl in enumerate(slices):
                if g not in look_groups:
                    look_rows[1:, sl] = path_rows[1:, sl]
    else:
        path_rows = params[None].copy()
        grad_rows = final_grad[None].copy()
        look_rows = np.empty((1, batch, 2))
        _lookahead_into(look_rows[0], look_groups, opts, slices, params, shown,
                        _scale_at(multipliers, steps))
        step_rows = np.empty((0, batch, 2))
    return DescentResult(
        path=path_rows,
        loss=loss_rows,
        grad=grad_rows,
        step=step_rows,
        lookahead=look_rows,
        state=tuple(state_rows) if full else (),
        effective_lr=tuple(elr_rows) if full else (),
        lr_multiplier=multipliers,
        diverged=diverged_at >= 0,
        diverged_at=diverged_at,
        labels=labels,
        group=group,
        steps=steps,
        record=record,
    )


def _evaluate(surface, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """f(xy) (B,) and ∇f(xy) (B, 2) as float64 arrays the loop may write into."""
    batch = xy.shape[0]
    return _writable(surface.f(xy), (batch,), xy), _writable(surface.grad(xy), (batch, 2), xy)


def _writable(values, shape: tuple, xy: np.ndarray) -> np.ndarray:
    """``values`` itself when it is a C-contiguous float64 array of ``shape`` that owns its
    memory (what the registry surfaces return: fresh results), else a copy broadcast to it.

    The loop writes into these arrays (see :func:`_copy_rows`), and a surface may hand back
    a view of its input (∇½‖x‖² = x), its input itself, or a broadcast constant (a typed
    formula like "1").
    """
    if (
        type(values) is np.ndarray
        and values.dtype == np.float64
        and values.shape == shape
        and values.base is None
        and values.flags.c_contiguous
        and values.flags.writeable
        and not np.may_share_memory(values, xy)
    ):
        return values
    return np.array(np.broadcast_to(np.asarray(values, dtype=np.float64), shape), order="C")


def _take_rows(src: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``src[rows]`` of a C-contiguous (N, 2) float64 array (see :func:`_copy_rows`)."""
    return src.view(np.complex128).reshape(-1)[rows].view(np.float64).reshape(-1, 2)


def _copy_rows(dst: np.ndarray, src: np.ndarray, rows: np.ndarray) -> None:
    """``dst[rows] = src[rows]`` for C-contiguous (B, 2) float64 arrays.

    Through (B,) complex128 views of both: the same bytes move, but NumPy's fancy indexing
    of a 1-D array is 2-5x faster than of the rows of a 2-D one.
    """
    dst.view(np.complex128).reshape(-1)[rows] = src.view(np.complex128).reshape(-1)[rows]


def _scale_at(multipliers: np.ndarray, t: int) -> float:
    """η(t) for the look-ahead of row t; the last multiplier for the final row (1 if T=0)."""
    if multipliers.size == 0:
        return 1.0
    return float(multipliers[min(t, multipliers.size - 1)])


def _fields(state) -> dict:
    """Field name -> array of an optimizer state NamedTuple (empty for a stateless rule)."""
    return state._asdict() if hasattr(state, "_asdict") else {}


def _record_state(row, opts, slices, params, states, state_rows, elr_rows, scale) -> None:
    """Copy s_t and opt.effective_lr(s_t) (times the schedule multiplier ``scale``) of every
    group into row ``row`` of the record."""
    for opt, sl, s, fields, elr in zip(opts, slices, states, state_rows, elr_rows, strict=True):
        # fields were built from this state type, in its field order (no _asdict per step)
        for rows, value in zip(fields.values(), s, strict=True):
            rows[row] = value
        elr[row] = opt.effective_lr(s, lr_scale=scale, like=params[sl])  # broadcasts to (n, 2)


def _rows_by_group(dead_idx: np.ndarray, slices) -> dict[int, np.ndarray]:
    """Group index -> row indices within the group, for every group with frozen runs.

    Recomputed only when a run diverges.
    """
    out = {}
    for g, sl in enumerate(slices):
        rows = dead_idx[(dead_idx >= sl.start) & (dead_idx < sl.stop)] - sl.start
        if rows.size:
            out[g] = rows
    return out


def _held(state, shown, rows: np.ndarray):
    """A copy of ``state`` whose ``rows`` (frozen runs of the group) keep their ``shown``
    values: the state they had when they stopped (``state`` itself goes on stepping)."""
    fields = []
    for new, old in zip(state, shown, strict=True):
        new = np.array(new, dtype=np.float64)
        new[rows] = old[rows]
        fields.append(new)
    return type(state)(*fields)


def _rows_within(values: np.ndarray, bound: float) -> np.ndarray:
    """(B,) bool: both coordinates of a (B, 2) array are finite with |·| ≤ bound.

    Two column views instead of ``.all(axis=1)``: a reduction over a length-2 axis is
    ~10× slower in NumPy, and this runs three times per step.
    """
    within = np.abs(values) <= bound  # NaN compares False
    return within[:, 0] & within[:, 1]


def _lookahead_into(out, look_groups, opts, slices, params, states, scale) -> None:
    """Write opt.lookahead(x_t, s_t) per group into ``out``; non-finite rows -> x_t.

    Only the groups in ``look_groups`` (rules with ``has_lookahead``) are asked: every
    other rule's look-ahead is x_t itself, which is finite (the loop never keeps a
    non-finite iterate), so one copy of ``params`` covers them all.
    """
    out[...] = params
    _group_lookaheads_into(out, look_groups, opts, slices, params, states, scale)


def _group_lookaheads_into(out, look_groups, opts, slices, params, states, scale) -> None:
    """The look-ahead columns of the groups in ``look_groups`` only (see above)."""
    for g in look_groups:
        sl = slices[g]
        out[sl] = opts[g].lookahead(params[sl], states[g], lr_scale=scale)
        bad = ~np.isfinite(out[sl]).all(axis=1)
        if bad.any():
            out[sl][bad] = params[sl][bad]


# ---------------------------------------------------------------------------------------
# Sweeps: thin wrappers over run()


@dataclass(frozen=True, eq=False)
class SweepResult:
    """Grids (len(momenta), len(lrs)) of a learning-rate × momentum sweep.

    ``final_loss[i, j]`` = f at the last finite iterate of the run with
    lr = lrs[j] and ``momentum_name`` = momenta[i]; ``diverged[i, j]``; ``steps_to_tol[i, j]``
    = first t with f(x_t) ≤ target_f + tol (−1 if never or diverged).
    """

    final_loss: np.ndarray
    diverged: np.ndarray
    steps_to_tol: np.ndarray
    lrs: np.ndarray
    momenta: np.ndarray
    momentum_name: str
    target_f: float
    tol: float


def _global_min_f(surface) -> float:
    """Lowest f among the surface's minima (global ones preferred); 0 if none are listed."""
    points = list(getattr(surface, "minima", ()) or ())
    best = [p.f for p in points if p.kind == "global"] or [
        p.f for p in points if p.kind == "local"
    ]
    return float(min(best)) if best else 0.0


def _momentum_name(optimizer_key: str) -> str:
    """The hyper-parameter that plays 'momentum': momentum (momentum, nag) or beta1 (Adam…)."""
    from engine import optimizers

    names = [h.name for h in optimizers.OPTIMIZERS[optimizer_key].hyper]
    for name in ("momentum", "beta1"):
        if name in names:
            return name
    raise ValueError(
        f"optimizer {optimizer_key!r} has no momentum-like hyper-parameter "
        "(momentum or beta1); sweep one that has"
    )


def sweep_lr_momentum(
    surface,
    optimizer_key: str,
    lrs,
    momenta,
    start,
    steps: int,
    *,
    tol: float = 1e-3,
    target_f: float | None = None,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Callable | None = None,
    **fixed,
) -> SweepResult:
    """Run every (lr, momentum) pair from one start: one batched :func:`run`.

    Batch index b = i·len(lrs) + j holds lr = lrs[j], momentum = momenta[i] (for the Adam
    family the swept "momentum" is beta1).  ``fixed`` are the other hyper-parameters.
    ``target_f`` defaults to the lowest listed minimum of the surface.
    """
    from engine import optimizers

    lrs = np.asarray(lrs, dtype=np.float64).reshape(-1)
    momenta = np.asarray(momenta, dtype=np.float64).reshape(-1)
    if lrs.size == 0 or momenta.size == 0:
        raise ValueError("lrs and momenta must each hold at least one value")
    if lrs.size * momenta.size > MAX_BATCH:  # checked before the grid is built
        raise ValueError(f"too many runs: {lrs.size:,} learning rates x {momenta.size:,} "
                         f"momenta = {lrs.size * momenta.size:,} > {MAX_BATCH:,}")
    name = _momentum_name(optimizer_key)
    lr_grid, mom_grid = np.meshgrid(lrs, momenta)  # (len(momenta), len(lrs))
    hyper = {**fixed, "lr": lr_grid.reshape(-1, 1), name: mom_grid.reshape(-1, 1)}
    opt = optimizers.make(optimizer_key, **hyper)
    start = np.asarray(start, dtype=np.float64).reshape(1, 2)
    starts = np.repeat(start, lr_grid.size, axis=0)
    result = run(surface, [Run(opt, starts, optimizer_key)], steps, noise=noise, seed=seed,
                 schedule=schedule, record="final")
    target = _global_min_f(surface) if target_f is None else float(target_f)
    shape = lr_grid.shape
    return SweepResult(
        final_loss=result.final_loss.reshape(shape).copy(),
        diverged=result.diverged.reshape(shape),
        steps_to_tol=result.steps_to_tolerance(tol, target).reshape(shape),
        lrs=lrs,
        momenta=momenta,
        momentum_name=name,
        target_f=target,
        tol=float(tol),
    )


@dataclass(frozen=True, eq=False)
class BasinMap:
    """Basin of attraction on a grid of starts: ``index[i, j]`` for start (xs[j], ys[i]).

    ``index`` = position in ``surface.minima`` of the minimum (kind global or local) nearest
    to the final iterate if it lies within ``radius`` of it, else −1: the run diverged, or
    it ended away from every minimum (held on a saddle, too few steps).
    """

    index: np.ndarray
    xs: np.ndarray
    ys: np.ndarray
    final_position: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    radius: float


def basin_map(
    surface,
    optimizer_key: str,
    hyper: dict,
    grid_n: int,
    steps: int,
    *,
    radius: float | None = None,
    noise: float = 0.0,
    seed: int = 0,
    schedule: Callable | None = None,
) -> BasinMap:
    """Descend from every start of a grid_n × grid_n grid over the domain (one batched run).

    Starts: xs = linspace(xmin, xmax, grid_n), ys = linspace(ymin, ymax, grid_n), batch
    index b = i·grid_n + j is (xs[j], ys[i]).  ``radius`` defaults to 5 % of the wider
    side of the domain.
    """
    from engine import optimizers

    if isinstance(grid_n, bool) or int(grid_n) != grid_n or not 2 <= grid_n <= 1000:
        raise ValueError(f"grid_n must be an integer in [2, 1000], got {grid_n!r}")
    grid_n = int(grid_n)
    (xmin, xmax), (ymin, ymax) = surface.domain
    xs = np.linspace(float(xmin), float(xmax), grid_n)
    ys = np.linspace(float(ymin), float(ymax), grid_n)
    gx, gy = np.meshgrid(xs, ys)
    starts = np.stack([gx.reshape(-1), gy.reshape(-1)], axis=1)
    opt = optimizers.make(optimizer_key, **hyper)
    result = run(surface, [Run(opt, starts, optimizer_key)], steps, noise=noise, seed=seed,
                 schedule=schedule, record="final")
    if radius is None:
        radius = 0.05 * max(float(xmax) - float(xmin), float(ymax) - float(ymin))
    final = result.final_position
    chosen = np.array([i for i, p in enumerate(surface.minima) if p.kind in BASIN_KINDS],
                      dtype=np.int64)
    index = np.full(final.shape[0], -1, dtype=np.int64)
    if chosen.size:
        points = np.array([[surface.minima[i].x, surface.minima[i].y] for i in chosen])
        dist = np.linalg.norm(final[:, None, :] - points[None, :, :], axis=2)
        nearest = np.argmin(dist, axis=1)
        close = dist[np.arange(final.shape[0]), nearest] <= radius
        index = np.where(close & ~result.diverged, chosen[nearest], -1)
    shape = (grid_n, grid_n)
    return BasinMap(
        index=index.reshape(shape),
        xs=xs,
        ys=ys,
        final_position=final.reshape(shape + (2,)),
        final_loss=result.final_loss.reshape(shape).copy(),
        diverged=result.diverged.reshape(shape),
        radius=float(radius),
    )
