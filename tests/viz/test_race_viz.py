"""viz.race: the race map, its animation, curves, tables and the explain-a-step numbers.

Figures are checked through their JSON (what the browser receives), typed arrays decoded.
Expected values come from written-out formulas (GD on f = x² + y² contracts by 1 − 2γ per
step), not from the code under test.
"""

from __future__ import annotations

import base64
import io
import json
import math
import zlib

import numpy as np
import pandas as pd
import pytest

from engine import descent, optimizers, surfaces
from engine.surfaces import Surface
from viz import race_curves as rcur
from viz import race_explain as rexplain
from viz import race_export as rexport
from viz import race_figure as rfig
from viz import race_map as rmap
from viz import style

SPHERE = surfaces.SURFACES["sphere"]
ROSENBROCK = surfaces.SURFACES["rosenbrock"]
DEFAULT_KEYS = ("gd", "momentum", "rmsprop", "adam")


# ----------------------------------------------------------------------------- helpers

def decode(value):
    """A Plotly typed array {"dtype", "bdata", "shape"} -> numpy array."""
    arr = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
    if "shape" in value:
        arr = arr.reshape([int(s) for s in str(value["shape"]).split(",")])
    return arr


def numbers_in(obj, where="fig"):
    """Yield (where, array) for every numeric value of a JSON-decoded figure."""
    if isinstance(obj, dict):
        if "bdata" in obj and "dtype" in obj:
            yield where, decode(obj).astype(np.float64)
            return
        for key, value in obj.items():
            yield from numbers_in(value, f"{where}.{key}")
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from numbers_in(value, f"{where}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield where, np.array([float(obj)])


def png_pixels(uri: str) -> np.ndarray:
    """Decode the map picture (8-bit RGB PNG with filter 0 rows, as viz.race writes it)."""
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(raw):
        length = int.from_bytes(raw[pos:pos + 4], "big")
        tag, body = raw[pos + 4:pos + 8], raw[pos + 8:pos + 8 + length]
        if tag == b"IHDR":
            width, height = int.from_bytes(body[:4], "big"), int.from_bytes(body[4:8], "big")
        elif tag == b"IDAT":
            idat += body
        pos += 12 + length
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(height, 1 + 3 * width)
    assert (rows[:, 0] == 0).all()
    return rows[:, 1:].reshape(height, width, 3)


def pixel_at(fig, x, y) -> np.ndarray:
    """The map picture's pixel under data point (x, y)."""
    image = fig.layout.images[0]
    pixels = png_pixels(image.source)
    h, w, _ = pixels.shape
    col = int(round((x - image.x) / image.sizex * (w - 1)))
    row = int(round((image.y - y) / image.sizey * (h - 1)))
    return pixels[row, col].astype(int)


def as_json(fig) -> dict:
    return json.loads(fig.to_json())  # json accepts NaN/Infinity tokens: we look for them


def assert_all_finite(fig):
    checked = 0
    for where, arr in numbers_in(as_json(fig)):
        assert np.isfinite(arr).all(), f"non-finite number at {where}"
        checked += arr.size
    assert checked > 1000  # the walk really went through the arrays


def race_result(surface, keys=DEFAULT_KEYS, steps=500, lrs=None, start=None):
    lrs = lrs or {}
    start = surface.start if start is None else start
    runs = [descent.Run(optimizers.make(k, lr=lrs.get(k, surface.suggested_lr[k])), start, k)
            for k in keys]
    return descent.run(surface, runs, steps)


def build(surface, result, keys=DEFAULT_KEYS, **kw):
    grid = rmap.surface_grid(surface, kw.pop("n", 150))
    colors = [style.OPTIMIZER_COLORS[k] for k in keys]
    return rfig.race_figure(surface, grid, result, list(keys), colors, **kw)


def gd_sphere_divergence_step(start, lr, surface=SPHERE) -> int:
    """Independent: first t with x_t outside the engine's runaway bounds, x_{t+1} = (1−2γ)x_t."""
    (xmin, xmax), (ymin, ymax) = surface.domain
    bound = 1e6 + 1e3 * max(xmax - xmin, ymax - ymin)
    x = np.array(start, dtype=float)
    for step in range(1, 100):
        x = (1 - 2 * lr) * x
        if np.abs(x).max() > bound or (x**2).sum() > 1e12 or np.abs(2 * x).max() > 1e12:
            return step
    raise AssertionError("no divergence")


@pytest.fixture(scope="module")
def default_race():
    result = race_result(ROSENBROCK)
    return result, build(ROSENBROCK, result, start=ROSENBROCK.start)


@pytest.fixture(scope="module")
def diverging_race():
    keys = ("gd", "adam")
    result = race_result(SPHERE, keys, steps=60, lrs={"gd": 2.0, "adam": 0.05})
    return result, build(SPHERE, result, keys)


# ----------------------------------------------------------------------------- surface grid

def test_surface_grid_samples_f_row_major():
    xs, ys, Z = rmap.surface_grid(ROSENBROCK, 31)
    assert xs[0] == -2 and xs[-1] == 2 and ys[0] == -1 and ys[-1] == 3
    i, j = 7, 20
    x, y = xs[j], ys[i]
    assert Z[i, j] == pytest.approx((1 - x) ** 2 + 100 * (y - x**2) ** 2)


def test_surface_grid_replaces_non_finite_values():
    def f(xy):
        x = np.asarray(xy)[..., 0]
        with np.errstate(all="ignore"):
            return np.where(x > 0.5, np.inf, np.log(x))  # NaN for x<0, -inf at 0, +inf right

    def grad(xy):
        return np.zeros_like(np.asarray(xy, dtype=float))

    weird = Surface("weird", "log", f, grad, ((-1.0, 1.0), (-1.0, 1.0)), (), (0.2, 0.2), {},
                    False, "")
    xs, ys, Z = rmap.surface_grid(weird, 21)  # xs hits 0 exactly
    assert np.isfinite(Z).all()
    finite = np.log(xs[(xs > 0) & (xs <= 0.5)])
    assert Z.min() == pytest.approx(finite.min()) and Z.max() == pytest.approx(finite.max())


# ----------------------------------------------------------------------------- race figure

def test_default_race_is_finite_small_and_complete(default_race):
    result, fig = default_race
    assert_all_finite(fig)
    size = len(fig.to_json())
    assert size <= 1_000_000, f"{size:,} bytes"
    idx = rfig.race_trace_indices(4)
    assert len(fig.data) == idx["total"] == 6 + 2 * 4 + 2
    assert [fig.data[i].name for i in idx["paths"]] == list(DEFAULT_KEYS)
    # Plotly's redraw=False animation deletes non-scatter traces (contour, heatmap) on the
    # first frame, so the 2-D map is a picture under the axes and every trace is a scatter.
    assert {tr.type for tr in fig.data} == {"scatter"}
    image = fig.layout.images[0]
    assert image.layer == "below" and image.source.startswith("data:image/png;base64,")
    assert (image.x, image.sizex) == (-2, 4) and (image.y, image.sizey) == (3, 4)
    assert fig.layout.yaxis.scaleanchor == "x"
    assert fig.layout.font.size >= 14


def test_base_figure_shows_full_paths_and_frame_zero_the_start(default_race):
    result, fig = default_race
    idx = rfig.race_trace_indices(4)
    data = as_json(fig)
    for b, (p, m) in enumerate(zip(idx["paths"], idx["markers"], strict=True)):
        px, py = decode(data["data"][p]["x"]), decode(data["data"][p]["y"])
        final = result.path[-1, b]
        assert (px[-1], py[-1]) == pytest.approx(tuple(final), rel=1e-6, abs=1e-6)
        assert (px[0], py[0]) == pytest.approx(ROSENBROCK.start, rel=1e-6)
        steps_shown = decode(data["data"][p]["customdata"])[:, 0]
        assert steps_shown[0] == 0 and steps_shown[-1] == 500 and np.all(np.diff(steps_shown) > 0)
        mx = decode(data["data"][m]["x"])
        assert mx[0] == pytest.approx(final[0], rel=1e-6, abs=1e-6)
    first = data["frames"][0]
    assert first["name"] == "0"
    for k in range(4):
        assert decode(first["data"][k]["x"]).size == 1  # the path is just the start point
    # the slider starts at the end, matching the full paths of the base figure
    slider = data["layout"]["sliders"][0]
    assert slider["active"] == len(slider["steps"]) - 1


@pytest.mark.parametrize("max_frames", [200, 50, 7])
def test_frames_are_few_include_the_last_step_and_touch_only_paths(default_race, max_frames):
    result, _ = default_race
    fig = build(ROSENBROCK, result, n=40, max_frames=max_frames)
    data = as_json(fig)
    frames = data["frames"]
    assert 2 <= len(frames) <= max_frames
    names = [int(f["name"]) for f in frames]
    assert names[0] == 0 and names[-1] == 500 and names == sorted(set(names))
    idx = rfig.race_trace_indices(4)
    touched = sorted(idx["paths"] + idx["markers"])
    for frame in frames:
        assert frame["traces"] == idx["paths"] + idx["markers"]
        assert sorted(frame["traces"]) == touched
        assert all(set(d) <= {"type", "x", "y"} and d["type"] == "scatter"
                   for d in frame["data"])
    slider_labels = [int(s["label"]) for s in data["layout"]["sliders"][0]["steps"]]
    assert slider_labels == names
    # the marker of the last frame sits on each run's final point
    last = frames[-1]["data"]
    for b in range(4):
        assert decode(last[4 + b]["x"])[0] == pytest.approx(result.path[-1, b, 0], abs=1e-6)


def test_animation_is_client_side_with_speeds(default_race):
    _, fig = default_race
    menu = fig.layout.updatemenus[0]
    animate = [b for b in menu.buttons if b.method == "animate"]
    assert len(animate) == 5  # play, pause, slow, normal, fast
    durations = sorted(b.args[1]["frame"]["duration"] for b in animate if b.args[0] is None)
    assert durations == [15, 50, 50, 120]
    assert all(b.args[1]["frame"]["redraw"] is False for b in animate)


def test_long_oscillating_runs_stay_under_one_megabyte():
    # GD on the elongated bowl with γκ = 1.999 flips y every step and never settles:
    # every iterate is kept, the worst case for the frame budget.
    bowl = surfaces.SURFACES["elongated_bowl"]
    kappa = bowl.params["kappa"]
    lrs = {k: 1.999 / kappa for k in ("gd",)}
    runs = [descent.Run(optimizers.make("gd", lr=lrs["gd"]), (-1.8 + 0.1 * i, 1.0 - 0.2 * i),
                        f"gd{i}") for i in range(4)]
    result = descent.run(bowl, runs, 500)
    fig = rfig.race_figure(bowl, rmap.surface_grid(bowl, 150), result,
                           [f"gd{i}" for i in range(4)], ["#000"] * 4)
    assert len(fig.to_json()) <= 1_000_000
    frames = fig.frames
    assert frames[-1].name == "500" and 2 <= len(frames) <= 200


def test_click_grid_is_clickable_and_reports_points(default_race):
    _, fig = default_race
    grid = fig.data[rfig.race_trace_indices(4)["click_grid"]]
    assert grid is fig.data[-1]  # top trace
    assert grid.visible is not False and 0 < grid.marker.opacity < 0.05
    x, y, custom = np.asarray(grid.x), np.asarray(grid.y), np.asarray(grid.customdata)
    assert x.size == 40 * 40
    np.testing.assert_allclose(custom[:, 0], x)
    np.testing.assert_allclose(custom[:, 1], y)
    np.testing.assert_allclose(custom[:, 2], ROSENBROCK.f(np.stack([x, y], -1)), rtol=1e-4,
                               atol=1e-4)  # x, y are float32
    # clicks select points: paths must not dim when that happens
    path = fig.data[rfig.race_trace_indices(4)["paths"][0]]
    assert path.unselected.marker.opacity == 1
    assert path.hovertemplate and "customdata[0]" in path.hovertemplate


def test_critical_points_marked_by_kind():
    two_wells = surfaces.SURFACES["two_wells"]
    result = race_result(two_wells, ("gd",), steps=20)
    fig = build(two_wells, result, ("gd",), n=30)
    idx = rfig.race_trace_indices(1)
    by_name = {fig.data[i].name: fig.data[i] for i in idx["critical"]}
    glob = by_name["global minimum"]
    assert len(glob.x) == 1 and glob.marker.symbol == "star"
    assert by_name["saddle point"].marker.symbol == "hourglass"
    point = [p for p in two_wells.minima if p.kind == "global"][0]
    assert glob.x[0] == pytest.approx(point.x, abs=1e-6)
    assert f"{point.f:.4g}" in glob.hovertext[0]
    assert by_name["maximum"].showlegend is False and len(by_name["maximum"].x) == 0


def test_divergence_is_marked_with_its_step(diverging_race):
    result, fig = diverging_race
    expected = gd_sphere_divergence_step(SPHERE.start, 2.0)
    assert result.diverged.tolist() == [True, False]
    assert result.diverged_at[0] == expected
    assert_all_finite(fig)
    cross = fig.data[rfig.race_trace_indices(2)["diverged"]]
    assert cross.marker.symbol == "x" and len(cross.x) == 1
    assert f"<b>gd</b> diverged at step {expected}" in cross.hovertext[0]
    # it left the map at step 1 ((1−2γ)·start = 3·start is outside ±2): pinned to the edge
    assert "left the map at step 1" in cross.hovertext[0]
    xr, yr = fig.layout.xaxis.range, fig.layout.yaxis.range
    assert xr[0] <= cross.x[0] <= xr[1] and yr[0] <= cross.y[0] <= yr[1]
    assert min(abs(cross.x[0] - xr[0]), abs(cross.x[0] - xr[1]),
               abs(cross.y[0] - yr[0]), abs(cross.y[0] - yr[1])) < 1e-5
    # the path stops at the last finite point; no frame carries anything past it
    last_finite = result.path[expected - 1, 0]
    path = fig.data[rfig.race_trace_indices(2)["paths"][0]]
    assert path.x[-1] == pytest.approx(last_finite[0], rel=1e-6)


def test_no_divergence_marker_without_divergence(default_race):
    _, fig = default_race
    cross = fig.data[rfig.race_trace_indices(4)["diverged"]]
    assert len(cross.x) == 0 and cross.showlegend is False


@pytest.mark.parametrize("key", ["rosenbrock", "goldstein_price"])
def test_log_colour_surfaces(key):
    surface = surfaces.SURFACES[key]
    assert surface.log_color
    result = race_result(surface, ("gd", "adam"), steps=100)
    fig = build(surface, result, ("gd", "adam"), n=60)
    assert_all_finite(fig)
    xs, ys, Z = rmap.surface_grid(surface, 60)
    f_min = min(Z.min(), min(p.f for p in surface.minima if p.kind in ("global", "local")))
    carrier = fig.data[0].marker
    assert carrier.cmin == pytest.approx(np.log10(Z.min() - f_min + 1), abs=1e-9)
    assert carrier.cmax == pytest.approx(np.log10(Z.max() - f_min + 1), rel=1e-9)
    # the picture: the global minimum lies in the lightest band, the highest corner darkest
    best = min((p for p in surface.minima if p.kind == "global"), key=lambda p: p.f)
    light = pixel_at(fig, best.x, best.y)
    i, j = np.unravel_index(np.argmax(Z), Z.shape)
    dark = pixel_at(fig, xs[j], ys[i])
    assert light.sum() > 3 * 240 and dark.sum() < light.sum() - 100
    bar = carrier.colorbar
    assert list(bar.ticktext[:3]) == ["0", "1", "10"]
    assert bar.tickvals[2] == pytest.approx(math.log10(11))
    if key == "goldstein_price":  # f_min = 3: the bar says it is labelled in f − f_min
        assert "f_min = 3" in bar.title.text


def test_three_d_variant_builds(diverging_race):
    result, _ = diverging_race
    fig = build(SPHERE, result, ("gd", "adam"), n=40, show_3d=True)
    idx = rfig.race_trace_indices(2, show_3d=True)
    assert len(fig.data) == idx["total"] and "click_grid" not in idx
    assert fig.data[0].type == "surface"
    assert all(fig.data[i].type == "scatter3d" for i in idx["paths"])
    assert_all_finite(fig)
    play = fig.layout.updatemenus[0].buttons[0]
    assert play.args[1]["frame"]["redraw"] is True  # 3-D needs redraws
    assert all(d.type == "scatter3d" for d in fig.frames[-1].data)


def test_bad_names_length_rejected(default_race):
    result, _ = default_race
    with pytest.raises(ValueError, match="one name"):
        rfig.race_figure(ROSENBROCK, rmap.surface_grid(ROSENBROCK, 10), result, ["a"], ["#000"])


def test_colours_cover_every_optimizer_and_are_distinct():
    assert set(style.OPTIMIZER_COLORS) == set(optimizers.OPTIMIZERS)
    assert len(set(style.OPTIMIZER_COLORS.values())) == 10
    assert set(style.OPTIMIZER_SYMBOLS) == set(optimizers.OPTIMIZERS)


# ----------------------------------------------------------------------------- curves

def test_loss_figure_shifts_for_log_scale_and_marks_divergence():
    saddle = surfaces.SURFACES["saddle"]  # f goes negative
    keys = ("gd", "adam")
    result = race_result(saddle, keys, steps=100, lrs={"gd": 0.1, "adam": 0.05})
    fig = rcur.loss_figure(result, list(keys), styles_of(keys), f_min=-1.0)
    assert_all_finite_small(fig)
    low = min(-1.0, float(result.loss.min()))
    y0 = np.asarray(fig.data[0].y, dtype=float)
    np.testing.assert_allclose(y0, result.loss[:, 0] - low + 1e-12, rtol=1e-5, atol=1e-12)
    assert (y0 > 0).all() and fig.layout.yaxis.type == "log"
    assert fig.layout.meta["f_star"] == pytest.approx(low)  # the shift, for the page

    result2 = race_result(SPHERE, ("gd",), steps=30, lrs={"gd": 2.0})
    fig2 = rcur.loss_figure(result2, ["gd"], styles_of(["gd"]))
    n = int(result2.diverged_at[0])
    assert len(fig2.data[0].y) == n  # cut at the divergence
    assert fig2.data[1].x[0] == n - 1 and "diverged at step" in fig2.data[1].hovertext[0]


def styles_of(keys):
    return [style.OPTIMIZER_STYLES[k] for k in keys]


def assert_all_finite_small(fig):
    for where, arr in numbers_in(as_json(fig)):
        assert np.isfinite(arr).all(), where


def test_grad_norm_figure_matches_norms():
    result = race_result(SPHERE, ("gd",), steps=40, lrs={"gd": 0.1})
    fig = rcur.grad_norm_figure(result, ["gd"], styles_of(["gd"]))
    # ∇(x² + y²) = 2(x, y); GD contracts by 0.8 per step
    expected = 2 * np.hypot(*SPHERE.start) * 0.8 ** np.arange(41)
    np.testing.assert_allclose(np.asarray(fig.data[0].y, dtype=float), expected, rtol=1e-5)
    assert fig.layout.yaxis.type == "log"



@pytest.mark.parametrize(("steps", "lr"), [(3, 0.01), (40, 0.02), (400, 0.1)])
def test_log_curve_axes_have_numbers_at_every_range(steps, lr):
    """Under a decade (3 steps of slow GD) Plotly would label nothing: the figure carries
    explicit ticks, inside the drawn range, at least two, labelled with their values; wide
    ranges keep one tick per decade."""
    result = race_result(SPHERE, ("gd",), steps=steps, lrs={"gd": lr})
    for fig in (rcur.loss_figure(result, ["gd"], styles_of(["gd"]), f_min=0.0),
                rcur.grad_norm_figure(result, ["gd"], styles_of(["gd"]))):
        y = np.asarray(fig.data[0].y, dtype=float)
        decades = math.log10(y.max() / y.min())
        axis = fig.layout.yaxis
        if decades <= 2:
            ticks = np.asarray(axis.tickvals, dtype=float)
            assert len(ticks) >= 2 and axis.ticktext == tuple(f"{v:.3g}" for v in ticks)
            assert ticks.min() >= y.min() * (1 - 1e-6) and ticks.max() <= y.max() * (1 + 1e-6)
        else:
            assert axis.tickvals is None and axis.dtick == (1 if decades <= 12 else 2)

# ----------------------------------------------------------------------------- tables

def test_summary_frame_against_hand_computation():
    runs = [descent.Run(optimizers.make("gd", lr=0.1), (1.0, 0.0), "slow"),
            descent.Run(optimizers.make("gd", lr=2.0), SPHERE.start, "boom")]
    result = descent.run(SPHERE, runs, 50)
    table = rexport.summary_frame(SPHERE, result, ["GD 0.1", "GD 2"], tol=1e-3)
    assert list(table.columns) == ["optimizer", "final loss", "nearest critical point",
                                   "distance to it", "steps to f ≤ f* + 0.001", "diverged"]
    row = table.iloc[0]
    assert row["optimizer"] == "GD 0.1"
    assert row["final loss"] == pytest.approx(0.64**50)  # x_t = 0.8^t, f = 0.64^t
    assert row["distance to it"] == pytest.approx(0.8**50)
    assert row["nearest critical point"] == "global (0, 0)"
    assert row["steps to f ≤ f* + 0.001"] == math.ceil(math.log(1e-3) / math.log(0.64))  # 16
    assert row["diverged"] == "no"
    boom = table.iloc[1]
    assert boom["diverged"] == f"step {gd_sphere_divergence_step(SPHERE.start, 2.0)}"
    assert boom["steps to f ≤ f* + 0.001"] == "—"


def test_summary_frame_without_listed_points():
    bare = Surface("bare", "bare", SPHERE.f, SPHERE.grad, SPHERE.domain, (), (1.0, 1.0), {},
                   False, "")
    result = descent.run(bare, [descent.Run(optimizers.make("gd", lr=0.1), (1.0, 1.0))], 5)
    row = rexport.summary_frame(bare, result, ["gd"]).iloc[0]
    assert row["nearest critical point"] == "—" and row["steps to f ≤ f* + 0.001"] == "—"


def test_runs_csv_rows_and_columns():
    result = race_result(SPHERE, ("gd", "adam"), steps=30, lrs={"gd": 2.0, "adam": 0.1})
    text = rexport.runs_csv(result, ["GD", "Adam"])
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns) == ["step", "optimizer", "x", "y", "loss", "grad_norm",
                                   "diverged"]
    assert len(frame) == 31 * 2
    gd = frame[frame.optimizer == "GD"].sort_values("step")
    at = gd_sphere_divergence_step(SPHERE.start, 2.0)
    assert gd.diverged.sum() == 31 - at and not gd.diverged.iloc[at - 1] and gd.diverged.iloc[at]
    adam = frame[frame.optimizer == "Adam"].sort_values("step")
    assert not adam.diverged.any()
    r = adam.iloc[7]
    assert r.loss == pytest.approx(r.x**2 + r.y**2, rel=1e-8)
    assert r.grad_norm == pytest.approx(2 * math.hypot(r.x, r.y), rel=1e-8)


# ----------------------------------------------------------------------------- explain a step

HYPER = {
    "gd": dict(lr=0.05, weight_decay=0.1),
    "momentum": dict(lr=0.05, momentum=0.9),
    "nag": dict(lr=0.05, momentum=0.8),
    "adagrad": dict(lr=0.3),
    "rmsprop": dict(lr=0.02, rho=0.9),
    "adadelta": dict(lr=1.0, rho=0.9),
    "adam": dict(lr=0.05, beta1=0.8, beta2=0.99),
    "adamw": dict(lr=0.05, weight_decay=0.1),
    "nadam": dict(lr=0.05),
    "adamax": dict(lr=0.05),
}


def tex(value):
    return style.tex_num(value)


@pytest.mark.parametrize("key", list(optimizers.OPTIMIZERS))
def test_latex_with_numbers_contains_the_actual_numbers(key):
    opt = optimizers.make(key, **HYPER[key])
    result = descent.run(ROSENBROCK, [descent.Run(opt, (-1.0, 1.5), key)], 6)
    k = 3
    nums = rexplain.step_numbers(result, k, 0, 0, key, hyper=opt.hyper)
    # independent of the helper: the recorded arrays
    assert nums["theta"] == pytest.approx(result.path[k, 0].tolist())
    assert nums["new_theta"] == pytest.approx(result.path[k + 1, 0].tolist())
    assert nums["grad"] == pytest.approx(ROSENBROCK.grad(result.path[k, 0]).tolist())
    assert np.allclose(np.subtract(nums["new_theta"], nums["theta"]), nums["step"])
    text = rexplain.latex_with_numbers(optimizers.OPTIMIZERS[key], nums)
    assert text.startswith(r"\begin{aligned}") and text.endswith(r"\end{aligned}")
    for value in nums["grad"] + nums["theta"] + nums["new_theta"]:
        assert tex(value) in text, (key, value)
    assert tex(HYPER[key]["lr"]) in text
    for field, values in nums["after"].items():
        if field in ("t", "max_exp_avg_sq"):
            continue
        for value in values[:1]:
            assert tex(value) in text, (key, field, value)
    lines = text.count(r"\\")
    assert lines >= 1


def test_latex_adam_bias_correction_numbers():
    hyper = HYPER["adam"]
    opt = optimizers.make("adam", **hyper)
    result = descent.run(ROSENBROCK, [descent.Run(opt, (-1.0, 1.5), "adam")], 4)
    nums = rexplain.step_numbers(result, 2, 0, 0, "adam", hyper=opt.hyper)
    # step k=2 is Adam's third update: t = 3; m̂ = m_t / (1 − β1³)
    m = np.asarray(result.state[0]["exp_avg"][3, 0])
    m_hat = m / (1 - hyper["beta1"] ** 3)
    text = rexplain.latex_with_numbers(optimizers.OPTIMIZERS["adam"], nums)
    assert tex(m_hat[0]) in text and tex(m_hat[1]) in text


def test_explained_numbers_are_the_engines(monkeypatch):
    """The substituted rule prints what the engine's explain reports, nothing recomputed:
    NAdam's μ_t and AdaDelta's Δx are replaced by sentinels and the sentinels appear."""
    for key, name in (("nadam", "mu"), ("adadelta", "delta"), ("adam", "m_hat")):
        opt = optimizers.make(key, **HYPER[key])
        result = descent.run(ROSENBROCK, [descent.Run(opt, (-1.0, 1.5), key)], 4)
        real = type(opt).explain

        def fake(self, *args, _real=real, _name=name, **kwargs):
            q = _real(self, *args, **kwargs)
            q[_name] = np.full_like(q[_name], 123.456)
            return q

        monkeypatch.setattr(type(opt), "explain", fake)
        nums = rexplain.step_numbers(result, 2, 0, 0, key, hyper=opt.hyper)
        assert "123.5" in rexplain.latex_with_numbers(optimizers.OPTIMIZERS[key], nums), key
        monkeypatch.undo()


def test_an_eleventh_optimizer_needs_only_its_registry_entry(monkeypatch):
    """A new rule (sign descent) with its registry entry is explained, tabulated and drawn
    without any change to the explain code."""

    class SignDescent(optimizers.GD):
        key = "sign"

        def _step(self, params, grads, state, lr):
            return params - lr * np.sign(grads), state

        def _explain(self, params, g, state, lr):
            sign = np.sign(g)
            return {"sign": sign, "new": params - lr * sign}

    spec = optimizers.OptimizerSpec(
        key="sign", title="Sign descent", hyper=(optimizers.OPTIMIZERS["gd"].hyper[0],),
        latex=r"\theta_t = \theta_{t-1} - \gamma\,\mathrm{sign}(g_t)", notes_diff="",
        summary="steps of a fixed size", explain=(
            optimizers.ExplainLine(r"s_t &= \mathrm{sign}(g_t) = «sign»"),
            optimizers.ExplainLine(r"\theta_t &= «theta» - «lr_t»\cdot «sign» = «new»")))
    monkeypatch.setitem(optimizers.OPTIMIZERS, "sign", spec)
    monkeypatch.setitem(optimizers._CLASSES, "sign", SignDescent)
    opt = optimizers.make("sign", lr=0.1)
    result = descent.run(SPHERE, [descent.Run(opt, (1.0, -0.5), "sign")], 3)
    nums = rexplain.step_numbers(result, 1, 0, 0, "sign", hyper=opt.hyper)
    text = rexplain.latex_with_numbers(spec, nums)
    assert r"\left(1,\ -1\right)" in text and style.tex_num(result.path[2, 0, 0]) in text
    assert "| x | y |" in rexplain.quantities_table(spec, nums)
    rexplain.step_figure(SPHERE, result, 0, "sign", style.OPTIMIZER_STYLES["gd"], nums,
                         (1.0, -0.5))


def test_step_numbers_rejects_bad_indices():
    result = race_result(SPHERE, ("gd",), steps=5)
    with pytest.raises(ValueError):
        rexplain.step_numbers(result, 5, 0, 0, "gd", hyper={"lr": 0.1})
    with pytest.raises(ValueError):
        rexplain.step_numbers(result, 0, 0, 1, "gd", hyper={"lr": 0.1})


def test_step_arrows_point_where_the_step_went(default_race):
    result, fig = default_race
    fig = build(ROSENBROCK, result, n=20)
    before = len(fig.data)
    k = 10
    point, grad, step = result.path[k, 0], result.grad[k, 0], result.step[k, 0]
    rexplain.add_step_arrows(fig, point, grad, momentum=0.5 * step, step=step, scale=0.001)
    # the arrows are annotations; their names legend-only traces with no point, so the
    # click grid stays the top trace that has points
    assert all(all(v is None for v in trace.x) for trace in fig.data[before:])
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    assert len(arrows) == 3
    heads = {(round(a.x, 9), round(a.y, 9)) for a in arrows}
    assert (round(point[0] + step[0], 9), round(point[1] + step[1], 9)) in heads
    assert (round(point[0] - 0.001 * grad[0], 9), round(point[1] - 0.001 * grad[1], 9)) in heads
    assert all((a.ax, a.ay) == pytest.approx(tuple(point)) for a in arrows)


def test_standalone_html_embeds_plotly_and_the_figure(diverging_race):
    _, fig = diverging_race
    html = rexport.standalone_html(fig)
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert len(html) > 3_000_000 and "plotly.js v" in html  # inline bundle: works offline
    assert '<script src="http' not in html
    assert "Plotly.newPlot" in html and "addFrames" in html
    assert "diverged at step" in html


def test_step_arrows_too_long_for_the_map_are_shortened_and_say_so(diverging_race):
    result, fig = diverging_race
    fig = build(SPHERE, result, ("gd", "adam"), n=20)
    point = np.array([0.5, 0.5])
    rexplain.add_step_arrows(fig, point, np.array([100.0, 0.0]), scale=1.0)  # −γ∇f = (−100, 0)
    arrow = [a for a in fig.layout.annotations if a.showarrow][0]
    xr, yr = fig.layout.xaxis.range, fig.layout.yaxis.range
    longest = 0.45 * max(xr[1] - xr[0], yr[1] - yr[0])
    assert (arrow.x, arrow.y) == pytest.approx((0.5 - longest, 0.5))
    label = [trace.name for trace in fig.data if trace.legendgroup == "arrows"][0]
    assert f"{100 / longest:.4g}× shorter" in label


@pytest.mark.parametrize("key", ["gd", "momentum", "nag", "adam"])
def test_explain_figure_names_its_arrows_in_the_legend_not_on_them(key):
    """No text sits on the zoomed map (a label at an arrow's head hid that arrow, the
    arrows ending there and the x ticks): every arrow is named once in the legend, in its
    colour, with a dash of its own."""
    opt = optimizers.make(key, lr=1e-3)
    result = descent.run(ROSENBROCK, [descent.Run(opt, (-1.2, 1.0), key)], 20, record="full")
    nums = rexplain.step_numbers(result, 10, 0, 0, key, hyper=opt.hyper)
    fig = rexplain.step_figure(ROSENBROCK, result, 0, key, style.OPTIMIZER_STYLES[key], nums,
                               (-1.2, 1.0))
    assert [a.text for a in fig.layout.annotations if a.text] == []
    arrows = [a for a in fig.layout.annotations if a.showarrow]
    names = [trace for trace in fig.data if trace.legendgroup == "arrows"]
    expected = {"gd": 2, "momentum": 3, "nag": 4, "adam": 2}[key]
    assert len(arrows) == len(names) == expected
    assert {a.arrowcolor for a in arrows} == {trace.line.color for trace in names}
    assert len({trace.line.dash for trace in names}) == expected
    assert fig.layout.legend.y >= 1.0 and fig.layout.legend.yanchor == "bottom"  # above


def test_three_d_frames_are_capped(default_race):
    result, _ = default_race
    fig = build(ROSENBROCK, result, n=30, show_3d=True)
    assert 2 <= len(fig.frames) <= rfig.MAX_FRAMES_3D and fig.frames[-1].name == "500"


# ----------------------------------------------------------------------------- dict fast path

@pytest.mark.parametrize("show_3d", [False, True])
def test_race_figure_dict_is_the_validated_figure(diverging_race, show_3d):
    """The page's fast path (plain dicts, no Plotly objects) gives exactly the go.Figure's
    JSON, typed arrays included; a precomputed map picture is the one race_figure draws."""
    result, _ = diverging_race
    keys = ["gd", "adam"]
    grid = rmap.surface_grid(SPHERE, 60)
    args = (SPHERE, grid, result, keys, [style.OPTIMIZER_COLORS[k] for k in keys])
    kw = dict(start=(1.5, -1.0), max_frames=30, click_grid_n=12, show_3d=show_3d,
              symbols=["circle", "square"])
    fast = rfig.race_figure_dict(*args, **kw)
    slow = json.loads(rfig.race_figure(*args, **kw).to_json())
    assert json.loads(json.dumps(fast)) == slow
    x = fast["data"][rfig.race_trace_indices(2, show_3d)["paths"][0]]["x"]
    assert x["dtype"] == "f4" and decode(x)[0] == pytest.approx(result.path[0, 0, 0], rel=1e-6)
    if not show_3d:
        source = rmap.race_map_source(SPHERE, grid)
        assert rfig.race_figure_dict(*args, map_source=source, **kw) == fast
        assert fast["layout"]["images"][0]["source"] == source


def test_curve_dicts_are_the_validated_figures(diverging_race):
    result, _ = diverging_race
    names, styles = ["GD", "Adam"], styles_of(["gd", "adam"])
    for fast, slow in [
        (rcur.loss_figure_dict(result, names, styles, f_min=-1.0),
         rcur.loss_figure(result, names, styles, f_min=-1.0)),
        (rcur.grad_norm_figure_dict(result, names, styles),
         rcur.grad_norm_figure(result, names, styles)),
    ]:
        assert json.loads(json.dumps(fast)) == json.loads(slow.to_json())


def test_long_paths_are_lines_short_paths_show_every_iterate():
    result = race_result(ROSENBROCK, ("gd", "adam"), steps=500, lrs={"gd": 1e-3, "adam": 0.02})
    short = race_result(ROSENBROCK, ("gd", "adam"), steps=20, lrs={"gd": 1e-3, "adam": 0.02})
    for res in (result, short):
        fig = build(ROSENBROCK, res, ("gd", "adam"), n=40)
        for i in rfig.race_trace_indices(2)["paths"]:
            trace = fig.data[i]
            points = len(trace.x)
            assert trace.mode == ("lines" if points > rfig.PATH_MARKERS_MAX else "lines+markers")
    # both kinds occur: the 500-step runs are long, the 20-step ones short
    long_fig = build(ROSENBROCK, result, ("gd", "adam"), n=40)
    assert {long_fig.data[i].mode for i in rfig.race_trace_indices(2)["paths"]} == {"lines"}
    short_fig = build(ROSENBROCK, short, ("gd", "adam"), n=40)
    assert {short_fig.data[i].mode for i in rfig.race_trace_indices(2)["paths"]} == {
        "lines+markers"}
