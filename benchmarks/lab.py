"""Time the Learning-rate lab's requests: the default and the largest allowed phase diagram
(per optimizer), the basin maps, mini-batch training and the overfitting scenario.

Run from the repository root:  python -m benchmarks.lab

Target (issue 10): one request stays under a few seconds on the 2-core machine; the page
shows a progress bar above 1.5 M cell-steps (app_pages/lab_compute.PROGRESS_WORK).
"""

from __future__ import annotations

import numpy as np

from benchmarks.sweep import best_of
from engine import descent, lab, optimizers, overfitting, regression
from engine.surfaces import SURFACES

FEW_SECONDS = 3.0


def line(label: str, seconds: float, work: str = "") -> None:
    verdict = "OK" if seconds < FEW_SECONDS else "SLOW"
    print(f"  {label:<66s} {seconds:7.3f} s  {verdict:<4s} {work}")


def main() -> None:
    print(f"Learning-rate lab, one core (best of 3; 'OK' = under {FEW_SECONDS:g} s)")
    bowl = SURFACES["elongated_bowl"]
    lrs40 = lab.lr_values(1e-3, 1.0, 40)
    mus24 = lab.axis_values("momentum", "momentum", 0.0, 0.99, 24)
    line("phase diagram, page default (momentum, 40 x 24 x 300)",
         best_of(lambda: lab.phase_diagram(bowl, "momentum", lrs40, "momentum", mus24,
                                           bowl.start, 300)), "288,000 cell-steps")
    rosen = SURFACES["rosenbrock"]
    lrs80 = lab.lr_values(1e-4, 1.0, 80)
    steps = lab.MAX_PHASE_WORK // (80 * 60)
    for key in ("momentum", "adam", "adadelta"):
        name = lab.second_axes(key)[0]
        values = lab.axis_values(key, name, 0.0, 0.99, 60)
        spec = optimizers.OPTIMIZERS[key].hyper_spec("lr")
        lrs = lab.lr_values(spec.slider_min, spec.slider_max, 80) if key == "adadelta" else lrs80
        seconds = best_of(lambda key=key, name=name, values=values, lrs=lrs: lab.phase_diagram(
            rosen, key, lrs, name, values, rosen.start, steps), repeats=1)
        line(f"phase diagram, largest ({key}, 80 x 60 x {steps}, Rosenbrock)", seconds,
             f"{80 * 60 * steps:,} cell-steps")
    two = SURFACES["two_wells"]
    for n in (50, 80):
        seconds = best_of(lambda n=n: [descent.basin_map(two, k, dict(
            optimizers.OPTIMIZERS[k].defaults, lr=0.01), n, 300) for k in ("gd", "momentum")])
        line(f"basin maps, two optimizers, {n} x {n} starts x 300 steps", seconds)
    seconds = best_of(lambda: [descent.basin_map(two, k, dict(
        optimizers.OPTIMIZERS[k].defaults, lr=0.01), 80, 2000) for k in ("gd", "adam")],
        repeats=1)
    line("basin maps, largest: 80 x 80 starts x 2000 steps, gd + adam", seconds)
    x, y = regression.make_data("linear", 60, 0.5, 0)
    line("GD / mini-batch / SGD, page default (60 points, 20 epochs)",
         best_of(lambda: [regression.train("linear", x, y, "gd", {"lr": 0.05}, m, 20,
                                           (-2.0, 2.0)) for m in (60, 10, 1)]))
    x, y = regression.make_data("logistic", 500, 0.5, 0)
    epochs = regression.MAX_UPDATES // 500
    line(f"GD / mini-batch / SGD, largest (500 points, {epochs} epochs, adam)",
         best_of(lambda: [regression.train("logistic", x, y, "adam", {"lr": 0.05}, m, epochs,
                                           (-2.0, 2.0)) for m in (500, 2, 1)], repeats=1),
         f"{regression.MAX_UPDATES:,} SGD updates")
    gw, gb = np.meshgrid(np.linspace(-3, 3, 90), np.linspace(-3, 3, 90))
    line("loss contour grid, 90 x 90, logistic on 500 points",
         best_of(lambda: regression.loss("logistic", x, y, np.stack([gw, gb], axis=-1))))
    line("overfitting scenario (4 networks x 2000 epochs, losses every 10)",
         best_of(lambda: overfitting.run(), repeats=1))


if __name__ == "__main__":
    main()
