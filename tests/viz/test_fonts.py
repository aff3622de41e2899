"""One font size per role in every figure of the race, the lab, and the Functions page:
tick labels, axis and colour-bar titles, legend entries and chart titles take the sizes of
viz.style (FONTS, or PRESENT_FONTS in Present mode), so every chart reads the same from the
back of a room. The Backpropagation page's graphs are Graphviz text (viz.graph.FONT_SIZE,
checked in test_graph_viz)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from engine import descent, lab, optimizers, regression, schedules
from engine import functions as fn
from engine.surfaces import SURFACES
from viz import functions as vf
from viz import lab as vl
from viz import race_curves as rcur
from viz import race_explain as rexplain
from viz import race_figure as rfig
from viz import regression as vr
from viz.style import FONTS, OPTIMIZER_STYLES, PRESENT_FONTS, Fonts

AXIS = re.compile(r"^(x|y|z)axis\d*$")


def sizes_by_role(layout: dict, data: list) -> dict[str, set]:
    """Every explicit font size of the figure, by role (the layout's base font counts as
    the ticks': Plotly draws tick labels in it unless an axis says otherwise)."""
    found: dict[str, set] = {"tick": set(), "label": set(), "legend": set(), "title": set()}

    def axis(spec: dict) -> None:
        if "size" in spec.get("tickfont", {}):
            found["tick"].add(spec["tickfont"]["size"])
        title = spec.get("title", {})
        if isinstance(title, dict) and "size" in title.get("font", {}):
            found["label"].add(title["font"]["size"])

    for key, value in layout.items():
        if AXIS.match(key):
            axis(value)
        elif key.startswith("scene"):
            for sub, spec in value.items():
                if AXIS.match(sub):
                    axis(spec)
        elif key.startswith("coloraxis") and "colorbar" in value:
            axis(value["colorbar"])
    for trace in data:
        for bar in (trace.get("colorbar"), trace.get("marker", {}).get("colorbar")):
            if bar:
                axis(bar)
    if "size" in layout.get("font", {}):
        found["tick"].add(layout["font"]["size"])
    if "size" in layout.get("legend", {}).get("font", {}):
        found["legend"].add(layout["legend"]["font"]["size"])
    title = layout.get("title", {})
    if "size" in title.get("font", {}):
        found["title"].add(title["font"]["size"])
    return found


def race_figures(present: bool) -> list:
    surface = SURFACES["rosenbrock"]
    keys = ("gd", "momentum", "adam")
    runs = [descent.Run(optimizers.make(k, lr=surface.suggested_lr[k]), surface.start, k)
            for k in keys]
    result = descent.run(surface, runs, 60, record="full")
    styles = [OPTIMIZER_STYLES[k] for k in keys]
    xs, ys = np.linspace(-2, 2, 30), np.linspace(-1, 3, 30)
    gx, gy = np.meshgrid(xs, ys)
    z = surface.f(np.stack([gx, gy], axis=-1))
    figs = [rcur.loss_figure(result, list(keys), styles, f_min=0.0, present=present),
            rcur.grad_norm_figure(result, list(keys), styles, present=present)]
    if not present:  # the map and "Explain this step" are not shown in Present mode
        numbers = rexplain.step_numbers(result, 5, 1, 0, "momentum",
                                        hyper=runs[1].optimizer.hyper)
        figs += [rfig.race_figure(surface, (xs, ys, z), result, list(keys),
                                  [s.color for s in styles], start=surface.start,
                                  symbols=[s.symbol for s in styles], max_frames=5,
                                  title="Rosenbrock"),
                 rexplain.step_figure(surface, result, 1, "Momentum", styles[1], numbers,
                                      surface.start)]
    return figs


def lab_figures(present: bool) -> list:
    surface = SURFACES["elongated_bowl"]
    sweep = lab.phase_diagram(surface, "momentum", lab.lr_values(1e-3, 1.0, 5), "momentum",
                              lab.axis_values("momentum", "momentum", 0.0, 0.9, 3),
                              surface.start, 50)
    wells = SURFACES["two_wells"]
    maps = [descent.basin_map(wells, "gd", {"lr": 0.01}, 6, 50)]
    curve = 0.2 * schedules.make("step", step_size=10, gamma=0.5)(np.arange(30))
    x, y = regression.make_data("linear", 20, 0.5, 0)
    run = regression.train("linear", x, y, "gd", {"lr": 0.05}, 5, 3, (-2.0, 2.0))
    best = regression.exact_minimum("linear", x, y)
    methods = [vr.Method("m=5", "#000", "solid", run.path[:, 0], run.full_loss[:, 0],
                         run.updates_per_epoch)]
    ws, bs = np.linspace(-3, 3, 20), np.linspace(-3, 3, 20)
    gw, gb = np.meshgrid(ws, bs)
    grid = regression.loss("linear", x, y, np.stack([gw, gb], axis=-1))
    return [
        vl.phase_figure(sweep, color_by="loss", axis_label="μ", present=present),
        vl.basin_figure(wells, maps, ["GD"], present=present),
        vl.schedule_figure({"step": curve}, {"step": "#000"}, base_lr=0.2, present=present),
        vr.contour_figure(ws, bs, grid, methods, minimum=(best.w, best.b), present=present),
        vr.loss_curves_figure(methods, best_loss=best.loss, present=present),
        vr.data_figure(x, y, "linear", [("fit", "#000", "solid", 1.0, 0.0)], present=present),
    ]


def functions_figures() -> list:
    z = np.linspace(-8, 8, 41)
    sweep = fn.loss_vs_accuracy([-1.0, 0.0, 1.0], [0, 1, 1], 2.0)
    x = np.linspace(-2, 2, 9)
    dead = fn.dying_relu(x, x, 1.0, -5.0)
    grid = np.linspace(0.01, 0.99, 20)
    return [
        vf.activation_figure(z, fn.activation("relu", z), fn.derivative("relu", z),
                             name="ReLU", key="relu", max_derivative=1.0, point=(0.5, 0.5, 1)),
        vf.derivative_product_figure(5, {"relu": fn.derivative_product("relu", -1.0, 5)},
                                     {"relu": "ReLU"}),
        vf.linear_stack_figure(x, 2 * x, np.tanh(x), linear_name="a", bent_name="b"),
        vf.dying_relu_figure(x, dead.z, dead.alive),
        vf.softmax_figure(np.array([2.0, 1.0, 0.1]), fn.softmax([2.0, 1.0, 0.1])),
        vf.loss_figure(grid, fn.LOSSES["bce"].value(grid, 1.0), fn.LOSSES["bce"].grad(grid, 1.0),
                       name="BCE", point=(0.5, 0.69, -2.0), x_title="ŷ"),
        vf.accuracy_loss_figure(sweep.b, sweep.loss, sweep.accuracy),
        vf.perceptron_figure(0.5, 0.5, -0.7, fn.GATES["xor"], fn.perceptron(0.5, 0.5, -0.7)),
    ]


CASES = {
    "race": lambda: race_figures(False),
    "race present": lambda: race_figures(True),
    "lab": lambda: lab_figures(False),
    "lab present": lambda: lab_figures(True),
    "functions": functions_figures,
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_figure_uses_the_shared_size_of_each_role(case):
    want: Fonts = PRESENT_FONTS if case.endswith("present") else FONTS
    for index, fig in enumerate(CASES[case]()):
        spec = fig.to_plotly_json()
        found = sizes_by_role(spec["layout"], spec["data"])
        assert found["tick"], (case, index)  # every figure sets its tick size
        for role, sizes in found.items():
            assert sizes <= {getattr(want, role)}, (case, index, role, sizes)


def test_tick_labels_read_from_the_back_of_a_room():
    assert FONTS.tick >= 14 and PRESENT_FONTS.tick >= 20
    for f in (FONTS, PRESENT_FONTS):
        assert f.tick <= f.legend <= f.label < f.title
